/**
 * The default storage: one SQLite file in WAL mode, queried through kysely. The executor's
 * hot path (appending events, committing steps, reading latest materializations) runs
 * statements compiled once with kysely through cached better-sqlite3 prepared statements
 * (see ./sqlite-hot-statements.ts); every other query is plain kysely. The hot path's writes
 * and the lease writes share group-commit transactions (see ./sqlite-group-commit.ts): every
 * other method first commits the writes queued before it.
 */

import { SqlFreshnessEpisodes } from './freshness-episode-rows.ts';
import type { FreshnessEpisode } from './freshness-episode-store.ts';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from './kysely/kysely-runtime.ts';
import * as columnLineageQueries from './column-lineage-queries.ts';
import type { AssetColumnLineage } from '../core/model/lineage/column-lineage.ts';
import type { Compilable, Insertable, RawBuilder } from 'kysely';
import { NotFoundError } from '../core/model/errors.ts';
import { normalizePage } from './page.ts';
import { backfillFromRow, backfillToRow, backfillUpdateToRow, eventFromRow, runFromRow, runToRow } from './row-mappers.ts';
import type { AssetLineageTable, Database } from './schema.ts';
import { readLatestMaterializations, SqliteHotStatements } from './sqlite-hot-statements.ts';
import { SqliteStalenessStatements } from './sqlite-staleness-statements.ts';
import { SqliteLeaseStore } from './sqlite-lease-store.ts';
import { SqliteGroupCommit } from './sqlite-group-commit.ts';
import type { DeadRunFailure, LeaseAcquireOptions, LeaseAcquisition, LeaseKey, LeaseRecord } from './lease-store.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import { migrateToLatest } from './sqlite-migration-runner.ts';
import * as history from './history-queries.ts';
import { SQLITE_QUERIES } from './history-queries.ts';
import { SqliteDaemonTicks } from './sqlite-daemon-ticks.ts';
import { SqlAlertDeliveries } from './sql-alert-deliveries.ts';
import type { AlertClaim, AlertDeliveryOutcome, AlertDeliveryRecord, AlertEventBatch } from './alert-delivery-store.ts';
import { FIRST_QUEUE_PAGE, pickFromRows } from './queue-claim.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import type { DaemonLockAttempt, DaemonLockHolder, DaemonLockOptions } from './daemon-lock.ts';
import { tryAcquireSqliteDaemonLock } from './sqlite-daemon-lock.ts';
import { params } from './sqlite-named-parameters.ts';
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
  RunClaim,
  RunRecord,
  RunStatus,
  RunUpdate,
  StepCommit,
  StepFailureRecord,
  Storage,
} from './storage.ts';

/** From how many assets a staleness summary is split over two threads. */
const PARALLEL_SUMMARY_KEYS = 2_000;

/**
 * Storage in one SQLite file.
 *
 * @example
 * const storage = await SqliteStorage.open('.strata/strata.db');
 * await storage.createRun(run);
 * await storage.close();
 */
export class SqliteStorage implements Storage {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #db: Kysely<Database>;
  readonly #hot: SqliteHotStatements;
  readonly #staleness: SqliteStalenessStatements;
  readonly #leases: SqliteLeaseStore;
  readonly #ticks: SqliteDaemonTicks;
  readonly #alerts: SqlAlertDeliveries;
  readonly #freshness: SqlFreshnessEpisodes;
  readonly #writes: SqliteGroupCommit;
  readonly #statements = new Map<string, BetterSqlite3.Statement<unknown[]>>();
  #closed = false;

  /** The database file, `undefined` in memory. */
  readonly #file: string | undefined;

  private constructor(sqlite: BetterSqlite3.Database, db: Kysely<Database>, file: string | undefined) {
    this.#file = file;
    this.#sqlite = sqlite;
    this.#db = db;
    this.#writes = new SqliteGroupCommit(sqlite);
    this.#hot = new SqliteHotStatements(db, sqlite);
    this.#staleness = new SqliteStalenessStatements(sqlite);
    this.#leases = new SqliteLeaseStore(db, sqlite, this.#hot.insertEvent, this.#writes);
    this.#ticks = new SqliteDaemonTicks(db, sqlite);
    this.#alerts = new SqlAlertDeliveries(db);
    this.#freshness = new SqlFreshnessEpisodes(db);
  }

  /**
   * Opens (creating if needed) the database at `file`, creating its folder and applying
   * pending migrations.
   */
  static async open(file: string): Promise<SqliteStorage> {
    const resolved = file === ':memory:' ? file : path.resolve(file);
    if (resolved !== ':memory:') fs.mkdirSync(path.dirname(resolved), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('busy_timeout = 5000');
      sqlite.pragma('foreign_keys = ON');
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
      await migrateToLatest(sqlite, db, resolved);
      return new SqliteStorage(sqlite, db, resolved === ':memory:' ? undefined : resolved);
    } catch (error) {
      sqlite.close();
      throw error;
    }
  }

  async createRun(run: RunRecord): Promise<void> {
    this.#writes.flush();
    try {
      await this.#db.insertInto('runs').values(runToRow(run)).execute();
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw runExistsError(run.id, error);
      throw error;
    }
  }

  async updateRun(id: string, update: RunUpdate): Promise<void> {
    this.#writes.flush();
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

  async claimQueuedRun(claim: RunClaim): Promise<RunRecord | undefined> {
    this.#writes.flush();
    const claimOldest = this.#sqlite.transaction(() => {
      const running = this.#sqlite.prepare(`select pools from runs where status = 'running' and pools is not null`).all() as { pools: string | null }[];
      const queued = this.#sqlite.prepare(`select id, pools from runs where status = 'queued' and request is not null order by created_at, id limit ?`);
      const first = queued.all(FIRST_QUEUE_PAGE) as { id: string; pools: string | null }[];
      const id =
        pickFromRows(first, running, claim) ??
        (first.length < FIRST_QUEUE_PAGE ? undefined : pickFromRows(queued.all(-1) as { id: string; pools: string | null }[], running, claim));
      if (id === undefined) return undefined;
      this.#sqlite
        .prepare(`update runs set status = 'running', started_at = ?, heartbeat_at = ?, pid = ? where id = ?`)
        .run(claim.now, claim.now, claim.pid, id);
      return id;
    });
    // Immediate: the write lock is taken before the read, so two processes never pick the same run.
    const id = claimOldest.immediate();
    return id === undefined ? undefined : this.getRun(id);
  }

  async cancelQueuedRun(id: string, now: number): Promise<boolean> {
    this.#writes.flush();
    return this.#sqlite.prepare(`update runs set status = 'canceled', ended_at = ? where id = ? and status = 'queued'`).run(now, id).changes > 0;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.#writes.flush();
    const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : runFromRow(row);
  }

  async findRunsByPrefix(prefix: string): Promise<RunRecord[]> {
    this.#writes.flush();
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
    this.#writes.flush();
    const page = normalizePage(options);
    let query = this.#db.selectFrom('runs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    const rows = await query
      .limit(page.limit ?? -1)
      .offset(page.offset)
      .execute();
    return rows.map(runFromRow);
  }

  async appendEvents(events: readonly EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    await this.#writes.run(() =>
      this.#write(
        () => this.#hot.appendEvents(events),
        () => events.map((e) => e.runId),
      ),
    );
  }

  async listEvents(runId: string, options: { readonly afterId?: number } = {}): Promise<EventRecord[]> {
    this.#writes.flush();
    let query = this.#db.selectFrom('events').selectAll().where('run_id', '=', runId).orderBy('id');
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return (await query.execute()).map(eventFromRow);
  }

  async commitStep(commit: StepCommit): Promise<void> {
    const release = commit.releaseLeases;
    await this.#writes.run(() => {
      this.#write(
        () => this.#hot.commitStep(commit),
        () => [
          ...commit.events.map((e) => e.runId),
          ...(commit.materializations ?? []).map((m) => m.runId),
          ...(commit.checkResults ?? []).flatMap((c) => (c.runId === null ? [] : [c.runId])),
        ],
      );
      if (release) this.#leases.release(release.runId, release.keys);
    });
  }

  async latestMaterializations(keys?: readonly string[]): Promise<MaterializationRecord[]> {
    this.#writes.flush();
    if (keys !== undefined && keys.length === 0) return [];
    return keys === undefined
      ? readLatestMaterializations(this.#hot.selectAllLatestMaterializations)
      : readLatestMaterializations(this.#hot.selectLatestMaterializationsOf, { keys: JSON.stringify(keys) });
  }

  async changeMarker(): Promise<string> {
    this.#writes.flush();
    // Every append-only table (events, materializations and observations, check results) counts its ids here.
    const row = this.#prepare(`select group_concat(name || '=' || seq, ',') as marker from sqlite_sequence`).get() as { marker: string | null };
    return row.marker ?? '';
  }

  async currentSequence(): Promise<number> {
    // Not flushed: a materialization still queued takes a later number than this one, so a step
    // that reads it is never taken to have read data newer than it did.
    return this.#staleness.currentSequence();
  }

  async recordObservations(observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
    this.#writes.flush();
    return observations.length === 0 ? [] : this.#staleness.recordObservations(observations);
  }

  async latestObservations(keys?: readonly string[]): Promise<ObservationRecord[]> {
    this.#writes.flush();
    return keys !== undefined && keys.length === 0 ? [] : this.#staleness.latestObservations(keys);
  }

  async dataSummaries(keys?: readonly string[]): Promise<AssetDataSummary[]> {
    this.#writes.flush();
    if (keys !== undefined && keys.length === 0) return [];
    // Thousands of assets: half the scan in a worker thread; fewer are not worth starting one.
    if (keys !== undefined && keys.length >= PARALLEL_SUMMARY_KEYS && this.#file !== undefined) {
      return this.#staleness.dataSummariesInParallel(this.#file, keys);
    }
    return this.#staleness.dataSummaries(keys);
  }

  async dataPartitionKeys(keys: readonly string[]): Promise<Map<string, string[]>> {
    this.#writes.flush();
    return keys.length === 0 ? new Map() : this.#staleness.dataPartitionKeys(keys);
  }

  materializationHistory(key: string, options?: Page & { readonly partition?: string | null }): Promise<MaterializationRecord[]> {
    this.#writes.flush();
    return history.materializationHistory(this.#db, SQLITE_QUERIES, key, options);
  }

  materializationsByRun(key: string, options?: Page): Promise<RunMaterializations[]> {
    this.#writes.flush();
    return history.materializationsByRun(this.#db, SQLITE_QUERIES, key, options);
  }

  latestCheckResults(keys?: readonly string[]): Promise<CheckResultRecord[]> {
    this.#writes.flush();
    return history.latestCheckResults(this.#db, SQLITE_QUERIES, keys);
  }

  checkHistory(key: string, options?: Page): Promise<CheckResultRecord[]> {
    this.#writes.flush();
    return history.checkHistory(this.#db, SQLITE_QUERIES, key, options);
  }

  latestStepFailures(keys?: readonly string[]): Promise<StepFailureRecord[]> {
    this.#writes.flush();
    return history.latestStepFailures(this.#db, SQLITE_QUERIES, keys);
  }

  async createBackfill(backfill: BackfillRecord): Promise<void> {
    this.#writes.flush();
    try {
      await this.#db.insertInto('backfills').values(backfillToRow(backfill)).execute();
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw backfillExistsError(backfill.id, error);
      throw error;
    }
  }

  async updateBackfill(id: string, update: BackfillUpdate): Promise<void> {
    this.#writes.flush();
    const set = backfillUpdateToRow(update);
    const found =
      Object.keys(set).length === 0
        ? (await this.getBackfill(id)) !== undefined
        : (await this.#db.updateTable('backfills').set(set).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n;
    if (!found) throw new NotFoundError(`backfill ${id} does not exist`);
  }

  async getBackfill(id: string): Promise<BackfillRecord | undefined> {
    this.#writes.flush();
    const row = await this.#db.selectFrom('backfills').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : backfillFromRow(row);
  }

  async findBackfillsByPrefix(prefix: string): Promise<BackfillRecord[]> {
    this.#writes.flush();
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
    this.#writes.flush();
    const page = normalizePage(options);
    const rows = await this.#db
      .selectFrom('backfills')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit ?? -1)
      .offset(page.offset)
      .execute();
    return rows.map(backfillFromRow);
  }

  async recordLineage(definitionVersion: string, edges: readonly LineageEdge[]): Promise<void> {
    this.#writes.flush();
    const db = this.#db;
    const recordedAt = Date.now();
    const nextOrdinal = sql<number>`(select coalesce(max(ordinal), 0) + 1 from definition_versions)`;
    const bump = db.updateTable('definition_versions').set({ ordinal: nextOrdinal }).where('version', '=', definitionVersion);
    const insertVersion = db.insertInto('definition_versions').values({ version: definitionVersion, recorded_at: recordedAt, ordinal: nextOrdinal });
    // Prepared once and bound per edge: a 10,000-asset graph has tens of thousands of edges.
    const insertEdge = this.#prepare(
      db
        .insertInto('asset_lineage')
        .values(params<Insertable<AssetLineageTable>>(['definition_version', 'upstream', 'downstream', 'recorded_at', 'via']))
        .onConflict((oc) => oc.doNothing())
        .compile().sql,
    );
    this.#sqlite
      .transaction(() => {
        // A version recorded before keeps its edges but becomes the latest again.
        if (this.#run(bump).changes > 0) return;
        this.#run(insertVersion);
        for (const { upstream, downstream, via = 'data' } of edges) {
          insertEdge.run({ definition_version: definitionVersion, upstream, downstream, recorded_at: recordedAt, via });
        }
      })
      .immediate();
  }

  async lineage(definitionVersion: string): Promise<LineageEdge[]> {
    this.#writes.flush();
    return this.#db
      .selectFrom('asset_lineage')
      .select(['upstream', 'downstream', 'via'])
      .where('definition_version', '=', definitionVersion)
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((r) => ({ upstream: r.upstream, downstream: r.downstream, via: r.via === 'check' ? 'check' : 'data' })));
  }

  async recordColumnLineage(definitionVersion: string, lineage: readonly AssetColumnLineage[]): Promise<void> {
    this.#writes.flush();
    await columnLineageQueries.recordColumnLineage(this.#db, definitionVersion, lineage, Date.now());
  }

  async columnLineage(definitionVersion: string): Promise<AssetColumnLineage[]> {
    this.#writes.flush();
    return columnLineageQueries.columnLineage(this.#db, definitionVersion);
  }

  async hasColumnLineage(definitionVersion: string): Promise<boolean> {
    this.#writes.flush();
    return columnLineageQueries.hasColumnLineage(this.#db, definitionVersion);
  }

  async latestDefinitionVersion(): Promise<string | undefined> {
    this.#writes.flush();
    const row = await this.#db.selectFrom('definition_versions').select('version').orderBy('ordinal', 'desc').limit(1).executeTakeFirst();
    return row?.version;
  }

  acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    return this.#leases.acquireLeases(runId, keys, options);
  }

  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return this.#leases.releaseLeases(runId, keys);
  }

  extendLeases(runId: string, expiresAt: number): Promise<number> {
    return this.#leases.extendLeases(runId, expiresAt);
  }

  listLeases(options?: { readonly runId?: string }): Promise<LeaseRecord[]> {
    return this.#leases.listLeases(options);
  }

  failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    return this.#leases.failDeadRun(runId, failure);
  }

  recordAlertEvents(batch: AlertEventBatch): Promise<void> {
    this.#writes.flush();
    return this.#alerts.record(batch);
  }

  claimAlertDeliveries(claim: AlertClaim): Promise<AlertDeliveryRecord[]> {
    this.#writes.flush();
    return this.#alerts.claim(claim);
  }

  finishAlertDelivery(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    this.#writes.flush();
    return this.#alerts.finish(id, outcome);
  }

  listAlertDeliveries(options?: Page): Promise<AlertDeliveryRecord[]> {
    this.#writes.flush();
    return this.#alerts.list(options);
  }

  createDaemonTick(tick: NewDaemonTick): Promise<number> {
    this.#writes.flush();
    return this.#ticks.create(tick);
  }

  updateDaemonTick(id: number, update: DaemonTickUpdate, cursors?: Readonly<Record<string, string>>): Promise<void> {
    this.#writes.flush();
    return this.#ticks.update(id, update, cursors);
  }

  getDaemonTick(id: number): Promise<DaemonTickRecord | undefined> {
    this.#writes.flush();
    return this.#ticks.get(id);
  }

  listDaemonTicks(options?: Page): Promise<DaemonTickRecord[]> {
    this.#writes.flush();
    return this.#ticks.list(options);
  }

  daemonCursors(): Promise<Record<string, string>> {
    this.#writes.flush();
    return this.#ticks.cursors();
  }

  openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined> {
    this.#writes.flush();
    return this.#freshness.openFreshnessEpisode(event);
  }

  endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]> {
    this.#writes.flush();
    return this.#freshness.endFreshnessEpisodes(keys, now);
  }

  openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]> {
    this.#writes.flush();
    return this.#freshness.openFreshnessEpisodes(keys);
  }

  freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]> {
    this.#writes.flush();
    return this.#freshness.freshnessEpisodes(key, options);
  }

  async tryAcquireDaemonLock(me: DaemonLockHolder, options?: DaemonLockOptions): Promise<DaemonLockAttempt> {
    this.#writes.flush();
    return tryAcquireSqliteDaemonLock(this.#sqlite, me, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writes.flush();
    this.#closed = true;
    await this.#db.destroy();
    if (this.#sqlite.open) this.#sqlite.close();
  }

  /** Runs a write transaction, reporting a write for an unknown run as such. */
  #write(transaction: () => void, runIds: () => readonly string[]): void {
    try {
      transaction();
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw error;
      const missing = runIds().find((id) => this.#get(this.#db.selectFrom('runs').select('id').where('id', '=', id)) === undefined);
      throw missing === undefined ? error : unknownRunError(missing, error);
    }
  }

  /** Runs a kysely write synchronously through a cached prepared statement. */
  #run(query: Compilable): BetterSqlite3.RunResult {
    const compiled = query.compile();
    return this.#prepare(compiled.sql).run(compiled.parameters);
  }

  /** Reads the first row of a kysely query synchronously through a cached prepared statement. */
  #get(query: Compilable): unknown {
    const compiled = query.compile();
    return this.#prepare(compiled.sql).get(compiled.parameters);
  }

  /** The prepared statement of `text`, prepared on first use. */
  #prepare(text: string): BetterSqlite3.Statement<unknown[]> {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#sqlite.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }
}

/** The better-sqlite3 error code of `error`, if it is an SQLite error. */
function sqliteCode(error: unknown): string | undefined {
  return error instanceof BetterSqlite3.SqliteError ? error.code : undefined;
}

/**
 * Whether the `id` column starts with `prefix`, case-sensitively: LIKE (with the prefix's
 * wildcards escaped) finds candidates, substr makes the match case-sensitive like the
 * in-memory storage's `startsWith`.
 */
function idStartsWith(prefix: string): RawBuilder<boolean> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`id like ${pattern} escape '\\' and substr(id, 1, length(${prefix})) = ${prefix}`;
}

/** `object` without its `undefined` properties. */
function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
