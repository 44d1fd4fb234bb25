/**
 * Storage in Postgres, for a team sharing one instance: the same tables and columns as the
 * SQLite storage (migrations written once for both, see ./migrations/schema-dialect.ts),
 * queried through kysely's Postgres dialect over a `pg` pool. Every multi-row write is one
 * transaction; leases are taken with row locks (see ./postgres-lease-store.ts), so several
 * processes on several hosts can share it. Within one storage, writes apply in the order they
 * were issued and a read sees the writes issued before it, as on SQLite (whose group commit
 * gives that order); the pool's connections serve reads and other processes.
 */

import { SqlFreshnessEpisodes } from './freshness-episode-rows.ts';
import type { FreshnessEpisode } from './freshness-episode-store.ts';
import * as columnLineageQueries from './column-lineage-queries.ts';
import type { AssetColumnLineage } from '../core/model/lineage/column-lineage.ts';
import { Kysely, Migrator, PostgresDialect, sql } from './kysely/kysely-runtime.ts';
import type { Transaction } from 'kysely';
import type pg from 'pg';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import type { DaemonLockAttempt, DaemonLockHolder } from './daemon-lock.ts';
import { tryAcquirePostgresDaemonLock } from './postgres-daemon-lock.ts';
import * as history from './history-queries.ts';
import { POSTGRES_QUERIES } from './history-queries.ts';
import type { DeadRunFailure, LeaseAcquireOptions, LeaseAcquisition, LeaseKey, LeaseRecord } from './lease-store.ts';
import { postgresMigrationProvider, postgresMigrations } from './migrations/index.ts';
import * as records from './postgres-record-queries.ts';
import { checkConnection, describeTarget, openPool, postgresSettings, unreachable, type PostgresSettings } from './postgres-connection.ts';
import { PostgresDaemonTicks } from './postgres-daemon-ticks.ts';
import { SqlAlertDeliveries } from './sql-alert-deliveries.ts';
import type { AlertClaim, AlertDeliveryOutcome, AlertDeliveryRecord, AlertEventBatch } from './alert-delivery-store.ts';
import { createRunWithNews, notifyQueueIfQueued, PostgresQueueListener, updateRunWithNews } from './postgres-queue-listener.ts';
import type { QueueWake } from './queue-wake.ts';
import * as leases from './postgres-lease-store.ts';
import * as staleness from './postgres-staleness-queries.ts';
import { eventFromRow, eventToRow } from './row-mappers.ts';
import { insertCheckResults, insertEvents, insertMaterializations } from './postgres-step-writes.ts';
import type { Database } from './schema.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import { schemaNewerError, unknownRunError } from './storage-error.ts';
import type {
  BackfillRecord,
  BackfillUpdate,
  CheckResultRecord,
  EventRecord,
  LineageEdge,
  MaterializationRecord,
  Page,
  RunClaim,
  RunMaterializations,
  RunRecord,
  RunStatus,
  RunUpdate,
  StepCommit,
  StepFailureRecord,
  Storage,
} from './storage.ts';

const FOREIGN_KEY_VIOLATION = '23503';
const UNDEFINED_TABLE = '42P01';

/**
 * Storage in a Postgres database.
 *
 * @example
 * const storage = await PostgresStorage.open('postgres://strata@db.internal/strata');
 * await storage.createRun(run);
 * await storage.close();
 */
export class PostgresStorage implements Storage, QueueWake {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #ticks: PostgresDaemonTicks;
  readonly #alerts: SqlAlertDeliveries;
  readonly #freshness: SqlFreshnessEpisodes;
  readonly #settings: PostgresSettings;
  readonly #listener: PostgresQueueListener;
  /** The last write issued: writes of one storage apply in the order they were issued, like SQLite's. */
  #lastWrite: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(pool: pg.Pool, settings: PostgresSettings) {
    this.#pool = pool;
    this.#settings = settings;
    this.#listener = new PostgresQueueListener(settings.pool);
    this.#db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    this.#ticks = new PostgresDaemonTicks(this.#db);
    this.#alerts = new SqlAlertDeliveries(this.#db);
    this.#freshness = new SqlFreshnessEpisodes(this.#db);
  }

  /**
   * Connects to the database at `url` and applies pending migrations. A server that cannot be
   * reached, or refuses the login, is a `StorageError` `storage_unreachable` naming host, port
   * and database (never the password).
   */
  static async open(url: string, env: NodeJS.ProcessEnv = process.env): Promise<PostgresStorage> {
    const settings = postgresSettings(url, env);
    const pool = openPool(settings);
    const storage = new PostgresStorage(pool, settings);
    try {
      await checkConnection(pool, settings);
      await storage.#migrate(settings);
      return storage;
    } catch (error) {
      await storage.close();
      throw error;
    }
  }

  async #migrate(settings: PostgresSettings): Promise<void> {
    if (await this.#upToDate(settings)) return;
    // Named: the Migrator looks for its tables by name in every schema it can see.
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.#db);
    const schema = rows[0]?.schema ?? undefined;
    const { error } = await new Migrator({
      db: this.#db,
      provider: postgresMigrationProvider,
      ...(schema ? { migrationTableSchema: schema } : {}),
    }).migrateToLatest();
    if (error === undefined) return;
    const code = (error as { code?: string }).code;
    if (code !== undefined && /^(08|28|3D|57P)/.test(code)) throw unreachable(settings, error);
    throw error instanceof Error ? error : new Error(`migration failed: ${String(error)}`);
  }

  /**
   * Whether exactly the known migrations have been applied (one read; fewer go to the
   * Migrator). A database migrated by a newer Strata is refused, naming both schema versions.
   */
  async #upToDate(settings: PostgresSettings): Promise<boolean> {
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(this.#db);
      const known = Object.keys(postgresMigrations);
      const unknown = rows.map((r) => r.name).filter((name) => !known.includes(name));
      if (unknown.length > 0) throw schemaNewerError(describeTarget(settings.target), rows.at(-1)?.name ?? '', known.at(-1) ?? '');
      return rows.length === known.length;
    } catch (error) {
      if (pgCode(error) === UNDEFINED_TABLE) return false;
      throw error;
    }
  }

  createRun(run: RunRecord): Promise<void> {
    return this.#inOrder(() => createRunWithNews(this.#db, run));
  }

  updateRun(id: string, update: RunUpdate): Promise<void> {
    return this.#inOrder(() => updateRunWithNews(this.#db, id, update));
  }

  /** Resolves when a run is queued or ends in this storage's schema, by any process (see ./postgres-queue-listener.ts). */
  waitForQueued(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    return this.#closed ? Promise.resolve(false) : this.#listener.waitForQueued(signal, timeoutMs);
  }

  claimQueuedRun(claim: RunClaim): Promise<RunRecord | undefined> {
    return this.#inOrder(() => records.claimQueuedRun(this.#db, claim));
  }

  cancelQueuedRun(id: string, now: number): Promise<boolean> {
    return this.#inOrder(() => records.cancelQueuedRun(this.#db, id, now));
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return this.#afterWrites(() => records.getRun(this.#db, id));
  }

  findRunsByPrefix(prefix: string): Promise<RunRecord[]> {
    return this.#afterWrites(() => records.findRunsByPrefix(this.#db, prefix));
  }

  listRuns(options: Page & { readonly status?: RunStatus } = {}): Promise<RunRecord[]> {
    return this.#afterWrites(() => records.listRuns(this.#db, options));
  }

  appendEvents(events: readonly EventRecord[]): Promise<void> {
    return this.#inOrder(async () => {
      if (events.length === 0) return;
      await this.#write(
        (trx) => insertEvents(trx, events.map(eventToRow)),
        () => events.map((e) => e.runId),
      );
    });
  }

  listEvents(runId: string, options: { readonly afterId?: number } = {}): Promise<EventRecord[]> {
    return this.#afterWrites(async () => {
      let query = this.#db.selectFrom('events').selectAll().where('run_id', '=', runId).orderBy('id');
      if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
      return (await query.execute()).map(eventFromRow);
    });
  }

  commitStep(commit: StepCommit): Promise<void> {
    return this.#inOrder(async () => {
      await this.#write(
        async (trx) => {
          // Lease rows before the append lock the inserts take (see ./postgres-append-order.ts).
          if (commit.releaseLeases) await leases.releaseLeases(trx, commit.releaseLeases.runId, commit.releaseLeases.keys);
          await insertEvents(trx, commit.events.map(eventToRow));
          await insertMaterializations(trx, commit.materializations ?? []);
          await insertCheckResults(trx, commit.checkResults ?? []);
        },
        () => [
          ...commit.events.map((e) => e.runId),
          ...(commit.materializations ?? []).map((m) => m.runId),
          ...(commit.checkResults ?? []).flatMap((c) => (c.runId === null ? [] : [c.runId])),
        ],
      );
    });
  }

  latestMaterializations(keys?: readonly string[]): Promise<MaterializationRecord[]> {
    return this.#afterWrites(async () => {
      return keys !== undefined && keys.length === 0 ? [] : staleness.latestMaterializations(this.#pool, keys);
    });
  }

  changeMarker(): Promise<string> {
    return this.#afterWrites(async () => {
      // The highest committed id of every append-only table: they commit in id order (./postgres-append-order.ts),
      // so a row committed later always moves it (a sequence's last value moves before its row commits).
      const { rows } = await sql<{ marker: string }>`select concat_ws(',',
          coalesce((select max(id) from events), 0), coalesce((select max(id) from materializations), 0),
          coalesce((select max(seq) from observations), 0), coalesce((select max(id) from check_results), 0)) as marker`.execute(this.#db);
      return rows[0]?.marker ?? '';
    });
  }

  currentSequence(): Promise<number> {
    return this.#afterWrites(async () => {
      return staleness.currentSequence(this.#db);
    });
  }

  recordObservations(observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
    return this.#inOrder(async () => {
      return observations.length === 0 ? [] : staleness.recordObservations(this.#db, observations);
    });
  }

  latestObservations(keys?: readonly string[]): Promise<ObservationRecord[]> {
    return this.#afterWrites(async () => {
      return keys !== undefined && keys.length === 0 ? [] : staleness.latestObservations(this.#pool, keys);
    });
  }

  dataSummaries(keys?: readonly string[]): Promise<AssetDataSummary[]> {
    return this.#afterWrites(async () => {
      return keys !== undefined && keys.length === 0 ? [] : staleness.dataSummaries(this.#pool, keys);
    });
  }

  dataPartitionKeys(keys: readonly string[]): Promise<Map<string, string[]>> {
    return this.#afterWrites(async () => {
      return keys.length === 0 ? new Map() : staleness.dataPartitionKeys(this.#pool, keys);
    });
  }

  materializationHistory(key: string, options?: Page & { readonly partition?: string | null }): Promise<MaterializationRecord[]> {
    return this.#afterWrites(async () => {
      return history.materializationHistory(this.#db, POSTGRES_QUERIES, key, options);
    });
  }

  materializationsByRun(key: string, options?: Page): Promise<RunMaterializations[]> {
    return this.#afterWrites(async () => {
      return history.materializationsByRun(this.#db, POSTGRES_QUERIES, key, options);
    });
  }

  latestCheckResults(keys?: readonly string[]): Promise<CheckResultRecord[]> {
    return this.#afterWrites(async () => {
      return history.latestCheckResults(this.#db, POSTGRES_QUERIES, keys);
    });
  }

  checkHistory(key: string, options?: Page): Promise<CheckResultRecord[]> {
    return this.#afterWrites(async () => {
      return history.checkHistory(this.#db, POSTGRES_QUERIES, key, options);
    });
  }

  latestStepFailures(keys?: readonly string[]): Promise<StepFailureRecord[]> {
    return this.#afterWrites(async () => {
      return history.latestStepFailures(this.#db, POSTGRES_QUERIES, keys);
    });
  }

  createBackfill(backfill: BackfillRecord): Promise<void> {
    return this.#inOrder(() => records.createBackfill(this.#db, backfill));
  }

  updateBackfill(id: string, update: BackfillUpdate): Promise<void> {
    return this.#inOrder(() => records.updateBackfill(this.#db, id, update));
  }

  getBackfill(id: string): Promise<BackfillRecord | undefined> {
    return this.#afterWrites(() => records.getBackfill(this.#db, id));
  }

  findBackfillsByPrefix(prefix: string): Promise<BackfillRecord[]> {
    return this.#afterWrites(() => records.findBackfillsByPrefix(this.#db, prefix));
  }

  listBackfills(options: Page = {}): Promise<BackfillRecord[]> {
    return this.#afterWrites(() => records.listBackfills(this.#db, options));
  }

  recordLineage(definitionVersion: string, edges: readonly LineageEdge[]): Promise<void> {
    return this.#inOrder(() => records.recordLineage(this.#db, definitionVersion, edges));
  }

  lineage(definitionVersion: string): Promise<LineageEdge[]> {
    return this.#afterWrites(() => records.lineage(this.#db, definitionVersion));
  }

  recordColumnLineage(definitionVersion: string, lineage: readonly AssetColumnLineage[]): Promise<void> {
    return this.#inOrder(() => columnLineageQueries.recordColumnLineage(this.#db, definitionVersion, lineage, Date.now()));
  }

  columnLineage(definitionVersion: string): Promise<AssetColumnLineage[]> {
    return this.#afterWrites(() => columnLineageQueries.columnLineage(this.#db, definitionVersion));
  }

  hasColumnLineage(definitionVersion: string): Promise<boolean> {
    return this.#afterWrites(() => columnLineageQueries.hasColumnLineage(this.#db, definitionVersion));
  }

  latestDefinitionVersion(): Promise<string | undefined> {
    return this.#afterWrites(() => records.latestDefinitionVersion(this.#db));
  }

  acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    return this.#inOrder(async () => {
      try {
        return await leases.acquireLeases(this.#db, runId, keys, options, insertEvents);
      } catch (error) {
        throw await this.#unknownRun(error, [runId, ...(options.events ?? []).map((e) => e.runId)]);
      }
    });
  }

  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return this.#inOrder(async () => {
      return leases.releaseLeases(this.#db, runId, keys);
    });
  }

  extendLeases(runId: string, expiresAt: number): Promise<number> {
    return this.#inOrder(async () => {
      return leases.extendLeases(this.#db, runId, expiresAt);
    });
  }

  listLeases(options: { readonly runId?: string } = {}): Promise<LeaseRecord[]> {
    return this.#afterWrites(async () => {
      return leases.listLeases(this.#db, options.runId);
    });
  }

  failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    return this.#inOrder(async () => {
      const failed = await leases.failDeadRun(this.#db, runId, failure);
      if (failed !== undefined) await notifyQueueIfQueued(this.#db);
      return failed;
    });
  }

  recordAlertEvents(batch: AlertEventBatch): Promise<void> {
    return this.#inOrder(() => this.#alerts.record(batch));
  }

  claimAlertDeliveries(claim: AlertClaim): Promise<AlertDeliveryRecord[]> {
    return this.#inOrder(() => this.#alerts.claim(claim));
  }

  finishAlertDelivery(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    return this.#inOrder(() => this.#alerts.finish(id, outcome));
  }

  listAlertDeliveries(options?: Page): Promise<AlertDeliveryRecord[]> {
    return this.#afterWrites(() => this.#alerts.list(options));
  }

  createDaemonTick(tick: NewDaemonTick): Promise<number> {
    return this.#inOrder(async () => {
      return this.#ticks.create(tick);
    });
  }

  updateDaemonTick(id: number, update: DaemonTickUpdate, cursors?: Readonly<Record<string, string>>): Promise<void> {
    return this.#inOrder(async () => {
      return this.#ticks.update(id, update, cursors);
    });
  }

  getDaemonTick(id: number): Promise<DaemonTickRecord | undefined> {
    return this.#afterWrites(async () => {
      return this.#ticks.get(id);
    });
  }

  listDaemonTicks(options?: Page): Promise<DaemonTickRecord[]> {
    return this.#afterWrites(async () => {
      return this.#ticks.list(options);
    });
  }

  daemonCursors(): Promise<Record<string, string>> {
    return this.#afterWrites(async () => {
      return this.#ticks.cursors();
    });
  }

  openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined> {
    return this.#inOrder(() => this.#freshness.openFreshnessEpisode(event));
  }

  endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]> {
    return this.#inOrder(() => this.#freshness.endFreshnessEpisodes(keys, now));
  }

  openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]> {
    return this.#afterWrites(() => this.#freshness.openFreshnessEpisodes(keys));
  }

  freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]> {
    return this.#afterWrites(() => this.#freshness.freshnessEpisodes(key, options));
  }

  /** On a connection of its own, kept while the lock is held (see ./postgres-daemon-lock.ts). */
  tryAcquireDaemonLock(me: DaemonLockHolder): Promise<DaemonLockAttempt> {
    return tryAcquirePostgresDaemonLock(this.#settings, me);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.close();
    // Ends the pool too.
    await this.#db.destroy();
  }

  /** Runs `write` after every write issued before it (whatever their outcome). */
  #inOrder<T>(write: () => Promise<T>): Promise<T> {
    const result = this.#lastWrite.then(write, write);
    this.#lastWrite = result.catch(() => undefined);
    return result;
  }

  /** Runs `read` once the writes issued before it are done, so it sees them. */
  #afterWrites<T>(read: () => Promise<T>): Promise<T> {
    return this.#lastWrite.then(read);
  }

  /** Runs a write transaction, reporting a write for an unknown run as such. */
  async #write(work: (trx: Transaction<Database>) => Promise<void>, runIds: () => readonly string[]): Promise<void> {
    try {
      await this.#db.transaction().execute(work);
    } catch (error) {
      throw await this.#unknownRun(error, runIds());
    }
  }

  /** `error` as `unknown_run` when it is a foreign key violation and one of `runIds` does not exist. */
  async #unknownRun(error: unknown, runIds: readonly string[]): Promise<unknown> {
    if (pgCode(error) !== FOREIGN_KEY_VIOLATION) return error;
    const ids = [...new Set(runIds)];
    const found = new Set((await this.#db.selectFrom('runs').select('id').where('id', 'in', ids).execute()).map((r) => r.id));
    const missing = ids.find((id) => !found.has(id));
    return missing === undefined ? error : unknownRunError(missing, error);
  }
}

function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
