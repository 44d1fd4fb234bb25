/**
 * The warehouse's own record of step commits, table `_strata.commits`: a step inserts one row
 * inside its warehouse transaction (so the row exists exactly when the step's data is published),
 * and the row is deleted once storage has recorded the step. A row left behind means the step's
 * data was published but its record may be missing (the process died, or storage failed, between
 * the two commits); `core/engine/execution/commit-recovery.ts` records it from the row.
 *
 * Only the process holding a DuckDB warehouse file can be between the two commits of a step, so a
 * row is orphaned unless a run of this process is recording it right now: those rows are
 * tracked here ({@link CommitLog.pending} leaves them out). A Postgres warehouse has several
 * writing processes: there a row of a run still running is its process's to record
 * ({@link CommitLog.sharedByProcesses}).
 */

import { STRATA_SCHEMA } from '../core/model/definitions/asset-key.ts';
import type { StepSession, Warehouse } from './warehouse.ts';

const TABLE = `${STRATA_SCHEMA}.commits`;
/** Postgres's errors for a CREATE that another connection's committed CREATE overtook: unique_violation, duplicate_table, duplicate_object. */
const CREATED_MEANWHILE = new Set(['23505', '42P07', '42710']);

/** One step commit as the warehouse keeps it. */
export interface CommitLogRow {
  readonly commitId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly assetKey: string;
  /** The partitions the step wrote; `null` for an unpartitioned asset. */
  readonly partitions: readonly string[] | null;
  /** When the step committed (epoch ms). */
  readonly committedAt: number;
  /** What storage records for the step (JSON; its shape belongs to the engine). */
  readonly record: string;
}

interface StoredRow {
  commit_id: string;
  run_id: string;
  step_id: string;
  asset_key: string;
  partitions: string | null;
  committed_at: number;
  record: string;
}

const logs = new WeakMap<Warehouse, CommitLog>();

/** The commit log of `warehouse` (one per open warehouse). */
export function commitLogOf(warehouse: Warehouse): CommitLog {
  let log = logs.get(warehouse);
  if (log === undefined) logs.set(warehouse, (log = new CommitLog(warehouse)));
  return log;
}

/**
 * Reads and writes `_strata.commits` of one open warehouse.
 *
 * @example
 * const log = commitLogOf(warehouse);
 * await log.ensure();
 * await log.write(session, row); // inside the step's transaction, before COMMIT
 * await session.commit();
 * try { await storage.commitStep(...); log.settle(row.commitId, false) } catch { log.settle(row.commitId, true) }
 * await log.delete([row.commitId]);
 */
export class CommitLog {
  readonly #warehouse: Warehouse;
  /** Commits a run of this process has published and is recording now. */
  readonly #recording = new Set<string>();
  /** Commits a run of this process published but could not record (storage failed). */
  readonly #unrecorded = new Set<string>();
  #ensured: Promise<void> | undefined;
  /** The last {@link exclusive} work queued. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(warehouse: Warehouse) {
    this.#warehouse = warehouse;
  }

  /**
   * Creates the table if it is missing, once per warehouse, outside any step transaction (two
   * step transactions creating it at once would conflict).
   */
  ensure(): Promise<void> {
    this.#ensured ??= this.#create();
    this.#ensured.catch(() => (this.#ensured = undefined));
    return this.#ensured;
  }

  /**
   * Two processes starting on a new Postgres warehouse create the schema and table at once: the
   * schema through {@link Warehouse.ensureSchemas}, which allows for that; the table's second
   * CREATE fails once the first commits, on the catalog's unique index (23505), or finding the
   * table (42P07) or its row type (42710) there: it exists then, and once more finds it.
   */
  async #create(): Promise<void> {
    await this.#warehouse.ensureSchemas([STRATA_SCHEMA]);
    const create = `CREATE TABLE IF NOT EXISTS ${TABLE} (
         commit_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, step_id VARCHAR NOT NULL, asset_key VARCHAR NOT NULL,
         partitions VARCHAR, committed_at BIGINT NOT NULL, record VARCHAR NOT NULL)`;
    await this.#warehouse.run(create).catch(async (error: { code?: string }) => {
      if (!CREATED_MEANWHILE.has(error.code ?? '')) throw error;
      await this.#warehouse.run(create);
    });
  }

  /**
   * Inserts `row` in the step's transaction (call {@link ensure} first) and counts the commit as
   * being recorded by this process until {@link settle}.
   */
  async write(session: StepSession, row: CommitLogRow): Promise<void> {
    this.#recording.add(row.commitId);
    try {
      await session.runPrepared(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        row.commitId,
        row.runId,
        row.stepId,
        row.assetKey,
        row.partitions === null ? null : JSON.stringify(row.partitions),
        row.committedAt,
        row.record,
      ]);
    } catch (error) {
      this.#recording.delete(row.commitId);
      throw error;
    }
  }

  /**
   * The commit is no longer being recorded: storage has it (or it was never published), or
   * (`leftUnrecorded`) it was published and storage failed to record it.
   */
  settle(commitId: string, leftUnrecorded: boolean): void {
    this.#recording.delete(commitId);
    if (leftUnrecorded) this.#unrecorded.add(commitId);
  }

  /**
   * True when other processes may write the warehouse at once (Postgres; a DuckDB file has one
   * writing process): a row of a run still running elsewhere is being recorded there, not orphaned.
   */
  get sharedByProcesses(): boolean {
    return this.#warehouse.dialect !== 'duckdb';
  }

  /** True when a run of this process published `commitId` and could not record it. */
  leftUnrecordedHere(commitId: string): boolean {
    return this.#unrecorded.has(commitId);
  }

  /** True when a run of this process published a commit it could not record, not yet recovered. */
  get hasUnrecorded(): boolean {
    return this.#unrecorded.size > 0;
  }

  /**
   * Runs `work` once every earlier `exclusive` work on this warehouse has settled, so that two
   * recoveries (two runs starting at once) never record the same row twice.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work, work);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs `work` (a recovery) one process at a time: on a warehouse other processes write
   * (Postgres), holding a transaction-long advisory lock, so two workers recovering at once take
   * turns and the second sees what the first recorded. A DuckDB file has one writing process:
   * `work` runs as it is.
   */
  async acrossProcesses<T>(work: () => Promise<T>): Promise<T> {
    if (!this.sharedByProcesses) return work();
    const lock = this.#warehouse.session(TABLE);
    try {
      await lock.runPrepared('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`strata ${TABLE}`]);
      return await work();
    } finally {
      await lock.rollback();
    }
  }

  /** Rows no run of this process is recording, oldest first. */
  async pending(): Promise<CommitLogRow[]> {
    await this.ensure();
    const rows = await this.#warehouse.query<StoredRow & Record<string, unknown>>(
      `SELECT commit_id, run_id, step_id, asset_key, partitions, committed_at, record FROM ${TABLE} ORDER BY committed_at, commit_id`,
    );
    return rows
      .filter((r) => !this.#recording.has(r.commit_id))
      .map((r) => ({
        commitId: r.commit_id,
        runId: r.run_id,
        stepId: r.step_id,
        assetKey: r.asset_key,
        partitions: r.partitions === null ? null : (JSON.parse(r.partitions) as string[]),
        committedAt: Number(r.committed_at),
        record: r.record,
      }));
  }

  /** Deletes rows whose commit storage has (in one statement). */
  async delete(commitIds: readonly string[]): Promise<void> {
    if (commitIds.length === 0) return;
    // One list parameter, however many ids (a run of 10,000 steps deletes them at once).
    const among = this.#warehouse.dialect === 'duckdb' ? 'list_contains($1, commit_id)' : 'commit_id = ANY($1)';
    await this.#warehouse.run(`DELETE FROM ${TABLE} WHERE ${among}`, [commitIds]);
    for (const id of commitIds) this.#unrecorded.delete(id);
  }
}
