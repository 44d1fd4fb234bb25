/**
 * Storage in Postgres, for a team sharing one instance: the same tables and columns as the
 * SQLite storage (migrations written once for both, see ./migrations/schema-dialect.ts),
 * queried through kysely's Postgres dialect over a `pg` pool. Every multi-row write is one
 * transaction; leases are taken with row locks (see ./postgres-lease-store.ts), so several
 * processes on several hosts can share it.
 */

import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import type { Transaction } from 'kysely';
import type pg from 'pg';
import { NotFoundError } from '../core/model/errors.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import * as history from './history-queries.ts';
import { POSTGRES_QUERIES } from './history-queries.ts';
import type { DeadRunFailure, LeaseAcquireOptions, LeaseAcquisition, LeaseKey, LeaseRecord } from './lease-store.ts';
import { postgresMigrationProvider, postgresMigrations } from './migrations/index.ts';
import { normalizePage } from './page.ts';
import { checkConnection, openPool, postgresSettings, unreachable, type PostgresSettings } from './postgres-connection.ts';
import { PostgresDaemonTicks } from './postgres-daemon-ticks.ts';
import * as leases from './postgres-lease-store.ts';
import * as staleness from './postgres-staleness-queries.ts';
import { backfillFromRow, backfillToRow, backfillUpdateToRow, eventFromRow, eventToRow, runFromRow, runToRow } from './row-mappers.ts';
import { batches, insertCheckResults, insertEvents, insertMaterializations } from './postgres-step-writes.ts';
import type { Database } from './schema.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import { backfillExistsError, runExistsError, unknownRunError } from './storage-error.ts';
import type {
  BackfillRecord,
  BackfillUpdate,
  CheckResultRecord,
  EventRecord,
  LineageEdge,
  MaterializationRecord,
  Page,
  RunMaterializations,
  RunRecord,
  RunStatus,
  RunUpdate,
  StepCommit,
  StepFailureRecord,
  Storage,
} from './storage.ts';

const FOREIGN_KEY_VIOLATION = '23503';
const UNIQUE_VIOLATION = '23505';
const UNDEFINED_TABLE = '42P01';

/**
 * Storage in a Postgres database.
 *
 * @example
 * const storage = await PostgresStorage.open('postgres://strata@db.internal/strata');
 * await storage.createRun(run);
 * await storage.close();
 */
export class PostgresStorage implements Storage {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #ticks: PostgresDaemonTicks;
  #closed = false;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    this.#ticks = new PostgresDaemonTicks(this.#db);
  }

  /**
   * Connects to the database at `url` and applies pending migrations. A server that cannot be
   * reached, or refuses the login, is a `StorageError` `storage_unreachable` naming host, port
   * and database (never the password).
   */
  static async open(url: string, env: NodeJS.ProcessEnv = process.env): Promise<PostgresStorage> {
    const settings = postgresSettings(url, env);
    const pool = openPool(settings);
    const storage = new PostgresStorage(pool);
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
    if (await this.#upToDate()) return;
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

  /** Whether exactly the known migrations have been applied (one read; anything else goes to the Migrator). */
  async #upToDate(): Promise<boolean> {
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(this.#db);
      const known = Object.keys(postgresMigrations);
      return rows.length === known.length && rows.every((r) => known.includes(r.name));
    } catch (error) {
      if (pgCode(error) === UNDEFINED_TABLE) return false;
      throw error;
    }
  }

  async createRun(run: RunRecord): Promise<void> {
    try {
      await this.#db.insertInto('runs').values(runToRow(run)).execute();
    } catch (error) {
      if (pgCode(error) === UNIQUE_VIOLATION) throw runExistsError(run.id, error);
      throw error;
    }
  }

  async updateRun(id: string, update: RunUpdate): Promise<void> {
    const set = definedOnly({
      status: update.status,
      started_at: update.startedAt,
      ended_at: update.endedAt,
      error: update.error,
      heartbeat_at: update.heartbeatAt,
    });
    const found =
      Object.keys(set).length === 0
        ? (await this.getRun(id)) !== undefined
        : (await this.#db.updateTable('runs').set(set).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n;
    if (!found) throw new NotFoundError(`run ${id} does not exist`);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : runFromRow(row);
  }

  async findRunsByPrefix(prefix: string): Promise<RunRecord[]> {
    const rows = await this.#db
      .selectFrom('runs')
      .selectAll()
      .where(idStartsWith(prefix))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(10)
      .execute();
    return rows.map(runFromRow);
  }

  async listRuns(options: Page & { readonly status?: RunStatus } = {}): Promise<RunRecord[]> {
    const page = normalizePage(options);
    let query = this.#db.selectFrom('runs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    return (
      await query
        .limit(page.limit ?? null)
        .offset(page.offset)
        .execute()
    ).map(runFromRow);
  }

  async appendEvents(events: readonly EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    await this.#write(
      (trx) => insertEvents(trx, events.map(eventToRow)),
      () => events.map((e) => e.runId),
    );
  }

  async listEvents(runId: string, options: { readonly afterId?: number } = {}): Promise<EventRecord[]> {
    let query = this.#db.selectFrom('events').selectAll().where('run_id', '=', runId).orderBy('id');
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return (await query.execute()).map(eventFromRow);
  }

  async commitStep(commit: StepCommit): Promise<void> {
    await this.#write(
      async (trx) => {
        await insertEvents(trx, commit.events.map(eventToRow));
        await insertMaterializations(trx, commit.materializations ?? []);
        await insertCheckResults(trx, commit.checkResults ?? []);
        if (commit.releaseLeases) await leases.releaseLeases(trx, commit.releaseLeases.runId, commit.releaseLeases.keys);
      },
      () => [
        ...commit.events.map((e) => e.runId),
        ...(commit.materializations ?? []).map((m) => m.runId),
        ...(commit.checkResults ?? []).flatMap((c) => (c.runId === null ? [] : [c.runId])),
      ],
    );
  }

  async latestMaterializations(keys?: readonly string[]): Promise<MaterializationRecord[]> {
    return keys !== undefined && keys.length === 0 ? [] : staleness.latestMaterializations(this.#pool, keys);
  }

  async changeMarker(): Promise<string> {
    // Every append-only table (events, materializations and observations, check results) counts its ids here.
    const { rows } = await sql<{ marker: string | null }>`select string_agg(sequencename || '=' || coalesce(last_value, 0), ',' order by sequencename) as marker
      from pg_sequences where schemaname = current_schema()`.execute(this.#db);
    return rows[0]?.marker ?? '';
  }

  currentSequence(): Promise<number> {
    return staleness.currentSequence(this.#db);
  }

  async recordObservations(observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
    return observations.length === 0 ? [] : staleness.recordObservations(this.#db, observations);
  }

  async latestObservations(keys?: readonly string[]): Promise<ObservationRecord[]> {
    return keys !== undefined && keys.length === 0 ? [] : staleness.latestObservations(this.#pool, keys);
  }

  async dataSummaries(keys?: readonly string[]): Promise<AssetDataSummary[]> {
    return keys !== undefined && keys.length === 0 ? [] : staleness.dataSummaries(this.#pool, keys);
  }

  async dataPartitionKeys(keys: readonly string[]): Promise<Map<string, string[]>> {
    return keys.length === 0 ? new Map() : staleness.dataPartitionKeys(this.#pool, keys);
  }

  materializationHistory(key: string, options?: Page & { readonly partition?: string | null }): Promise<MaterializationRecord[]> {
    return history.materializationHistory(this.#db, POSTGRES_QUERIES, key, options);
  }

  materializationsByRun(key: string, options?: Page): Promise<RunMaterializations[]> {
    return history.materializationsByRun(this.#db, POSTGRES_QUERIES, key, options);
  }

  latestCheckResults(keys?: readonly string[]): Promise<CheckResultRecord[]> {
    return history.latestCheckResults(this.#db, POSTGRES_QUERIES, keys);
  }

  checkHistory(key: string, options?: Page): Promise<CheckResultRecord[]> {
    return history.checkHistory(this.#db, POSTGRES_QUERIES, key, options);
  }

  latestStepFailures(keys?: readonly string[]): Promise<StepFailureRecord[]> {
    return history.latestStepFailures(this.#db, POSTGRES_QUERIES, keys);
  }

  async createBackfill(backfill: BackfillRecord): Promise<void> {
    try {
      await this.#db.insertInto('backfills').values(backfillToRow(backfill)).execute();
    } catch (error) {
      if (pgCode(error) === UNIQUE_VIOLATION) throw backfillExistsError(backfill.id, error);
      throw error;
    }
  }

  async updateBackfill(id: string, update: BackfillUpdate): Promise<void> {
    const set = backfillUpdateToRow(update);
    const found =
      Object.keys(set).length === 0
        ? (await this.getBackfill(id)) !== undefined
        : (await this.#db.updateTable('backfills').set(set).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n;
    if (!found) throw new NotFoundError(`backfill ${id} does not exist`);
  }

  async getBackfill(id: string): Promise<BackfillRecord | undefined> {
    const row = await this.#db.selectFrom('backfills').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : backfillFromRow(row);
  }

  async findBackfillsByPrefix(prefix: string): Promise<BackfillRecord[]> {
    const rows = await this.#db
      .selectFrom('backfills')
      .selectAll()
      .where(idStartsWith(prefix))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(10)
      .execute();
    return rows.map(backfillFromRow);
  }

  async listBackfills(options: Page = {}): Promise<BackfillRecord[]> {
    const page = normalizePage(options);
    const rows = await this.#db
      .selectFrom('backfills')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit ?? null)
      .offset(page.offset)
      .execute();
    return rows.map(backfillFromRow);
  }

  async recordLineage(definitionVersion: string, edges: readonly LineageEdge[]): Promise<void> {
    const recordedAt = Date.now();
    await this.#db.transaction().execute(async (trx) => {
      // Ordinals are max + 1: one recorder at a time.
      await sql`lock table definition_versions in share row exclusive mode`.execute(trx);
      const nextOrdinal = sql<number>`(select coalesce(max(ordinal), 0) + 1 from definition_versions)`;
      // A version recorded before keeps its edges but becomes the latest again.
      const bumped = await trx.updateTable('definition_versions').set({ ordinal: nextOrdinal }).where('version', '=', definitionVersion).executeTakeFirst();
      if (bumped.numUpdatedRows > 0n) return;
      await trx.insertInto('definition_versions').values({ version: definitionVersion, recorded_at: recordedAt, ordinal: nextOrdinal }).execute();
      const rows = edges.map(({ upstream, downstream, via = 'data' }) => ({
        definition_version: definitionVersion,
        upstream,
        downstream,
        recorded_at: recordedAt,
        via,
      }));
      for (const batch of batches(rows))
        await trx
          .insertInto('asset_lineage')
          .values(batch)
          .onConflict((oc) => oc.doNothing())
          .execute();
    });
  }

  async lineage(definitionVersion: string): Promise<LineageEdge[]> {
    const rows = await this.#db
      .selectFrom('asset_lineage')
      .select(['upstream', 'downstream', 'via'])
      .where('definition_version', '=', definitionVersion)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ upstream: r.upstream, downstream: r.downstream, via: r.via === 'check' ? 'check' : 'data' }));
  }

  async latestDefinitionVersion(): Promise<string | undefined> {
    const row = await this.#db.selectFrom('definition_versions').select('version').orderBy('ordinal', 'desc').limit(1).executeTakeFirst();
    return row?.version;
  }

  async acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    try {
      return await leases.acquireLeases(this.#db, runId, keys, options, insertEvents);
    } catch (error) {
      throw await this.#unknownRun(error, [runId, ...(options.events ?? []).map((e) => e.runId)]);
    }
  }

  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return leases.releaseLeases(this.#db, runId, keys);
  }

  extendLeases(runId: string, expiresAt: number): Promise<number> {
    return leases.extendLeases(this.#db, runId, expiresAt);
  }

  listLeases(options: { readonly runId?: string } = {}): Promise<LeaseRecord[]> {
    return leases.listLeases(this.#db, options.runId);
  }

  failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    return leases.failDeadRun(this.#db, runId, failure);
  }

  createDaemonTick(tick: NewDaemonTick): Promise<number> {
    return this.#ticks.create(tick);
  }

  updateDaemonTick(id: number, update: DaemonTickUpdate, cursors?: Readonly<Record<string, string>>): Promise<void> {
    return this.#ticks.update(id, update, cursors);
  }

  getDaemonTick(id: number): Promise<DaemonTickRecord | undefined> {
    return this.#ticks.get(id);
  }

  listDaemonTicks(options?: Page): Promise<DaemonTickRecord[]> {
    return this.#ticks.list(options);
  }

  daemonCursors(): Promise<Record<string, string>> {
    return this.#ticks.cursors();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Ends the pool too.
    await this.#db.destroy();
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

/** The `id` column starts with `prefix`, case-sensitively (LIKE with its wildcards escaped, for the index; starts_with to be exact). */
function idStartsWith(prefix: string) {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`id like ${pattern} escape '\\' and starts_with(id, ${prefix})`;
}

/** `object` without its `undefined` properties. */
function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
