/**
 * Leases in SQLite (see ./lease-store.ts): every statement is built once with kysely, prepared
 * once, and every write runs in a `BEGIN IMMEDIATE` transaction (taking and giving back leases
 * and extending them in the storage's group commit, see ./sqlite-group-commit.ts), so
 * concurrent processes queue on the busy timeout instead of failing on a lock upgrade.
 */

import BetterSqlite3 from 'better-sqlite3';
import { sql } from './kysely/kysely-runtime.ts';
import type { Kysely } from 'kysely';
import { partitionToColumn } from './column-codecs.ts';
import {
  uniqueLeaseKeys,
  type DeadRunFailure,
  type LeaseAcquireOptions,
  type LeaseAcquisition,
  type LeaseKey,
  type LeaseRecord,
  type LeaseStore,
} from './lease-store.ts';
import { eventToRow, runToRow, type NewEventRow, type RunRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import { param } from './sqlite-named-parameters.ts';
import { unknownRunError } from './storage-error.ts';
import type { SqliteGroupCommit } from './sqlite-group-commit.ts';
import { leaseFromRow } from './row-mappers.ts';

/** A `leases` row joined with its run's status. */
interface LeaseRow {
  asset_key: string;
  partition_key: string;
  run_id: string;
  acquired_at: number;
  expires_at: number;
}

/** Leases of one SQLite connection. */
export class SqliteLeaseStore implements LeaseStore {
  readonly #acquire: (runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions) => LeaseAcquisition;
  /** Gives back `keys` (all the run's leases when `undefined`) inside a transaction the caller opens; returns how many. */
  readonly release: (runId: string, keys: readonly LeaseKey[] | undefined) => number;
  readonly #extend: BetterSqlite3.Statement<[{ run_id: string; expires_at: number }]>;
  readonly #listAll: BetterSqlite3.Statement<[], LeaseRow>;
  readonly #listOfRun: BetterSqlite3.Statement<[{ run_id: string }], LeaseRow>;
  readonly #failDeadRun: (runId: string, failure: DeadRunFailure) => { releasedLeases: number } | undefined;
  readonly #writes: SqliteGroupCommit;

  /**
   * `insertEvent` binds a {@link NewEventRow} (the storage's prepared event insert); `writes` is
   * the connection's group commit, which every other use of the connection flushes first.
   */
  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database, insertEvent: BetterSqlite3.Statement<[NewEventRow]>, writes: SqliteGroupCommit) {
    this.#writes = writes;
    const prepare = <P extends unknown[], R = unknown>(query: { compile(): { sql: string } }) => sqlite.prepare<P, R>(query.compile().sql);
    const columns = ['asset_key', 'partition_key', 'run_id', 'acquired_at', 'expires_at'] as const;
    const holder = prepare<[{ asset_key: string; partition_key: string }], LeaseRow & { status: string | null }>(
      db
        .selectFrom('leases')
        .leftJoin('runs', 'runs.id', 'leases.run_id')
        .select(['leases.asset_key', 'leases.partition_key', 'leases.run_id', 'leases.acquired_at', 'leases.expires_at', 'runs.status'])
        .where('leases.asset_key', '=', param<string>('asset_key'))
        .where('leases.partition_key', '=', param<string>('partition_key')),
    );
    const upsert = prepare<[LeaseRow]>(
      db
        .insertInto('leases')
        .values(Object.fromEntries(columns.map((c) => [c, param(c)])) as never)
        .onConflict((oc) =>
          oc.columns(['asset_key', 'partition_key']).doUpdateSet({
            // The run's own lease keeps its first acquisition time; a taken-over one starts anew.
            acquired_at: sql`case when leases.run_id = excluded.run_id then leases.acquired_at else excluded.acquired_at end`,
            run_id: sql.raw('excluded.run_id'),
            expires_at: sql.raw('excluded.expires_at'),
          }),
        ),
    );
    const deleteOne = prepare<[{ run_id: string; asset_key: string; partition_key: string }]>(
      db
        .deleteFrom('leases')
        .where('run_id', '=', param<string>('run_id'))
        .where('asset_key', '=', param<string>('asset_key'))
        .where('partition_key', '=', param<string>('partition_key')),
    );
    const runColumns = Object.keys(
      runToRow({
        id: '',
        status: 'queued',
        trigger: 'manual',
        selection: '',
        assetKeys: [],
        createdAt: 0,
        startedAt: null,
        endedAt: null,
        error: null,
        tags: {},
      }),
    );
    const insertRun = prepare<[RunRow]>(db.insertInto('runs').values(Object.fromEntries(runColumns.map((c) => [c, param(c)])) as never));
    const deleteOfRun = prepare<[{ run_id: string }]>(db.deleteFrom('leases').where('run_id', '=', param<string>('run_id')));
    const list = db.selectFrom('leases').select(columns).orderBy('asset_key').orderBy('partition_key');
    this.#listAll = prepare<[], LeaseRow>(list);
    this.#listOfRun = prepare<[{ run_id: string }], LeaseRow>(list.where('run_id', '=', param<string>('run_id')));
    this.#extend = prepare(
      db
        .updateTable('leases')
        .set({ expires_at: param<number>('expires_at') })
        .where('run_id', '=', param<string>('run_id')),
    );
    const failRun = prepare<[{ id: string; ended_at: number; error: string; last_seen_before: number }]>(
      db
        .updateTable('runs')
        .set({ status: sql.lit('failed'), ended_at: param<number>('ended_at'), error: param<string>('error') })
        .where('id', '=', param<string>('id'))
        .where('status', '=', sql.lit('running'))
        .where(sql<boolean>`coalesce(heartbeat_at, started_at, created_at) <= ${param('last_seen_before')}`),
    );

    this.#acquire = (runId: string, keys: readonly LeaseKey[], { now, expiresAt, events = [] }: LeaseAcquireOptions): LeaseAcquisition => {
      const rows = uniqueLeaseKeys(keys).map((k) => ({ asset_key: k.assetKey, partition_key: partitionToColumn(k.partition) }));
      const conflicts: LeaseRecord[] = [];
      const leases: LeaseRecord[] = [];
      for (const row of rows) {
        const held = holder.get(row);
        if (held && held.run_id !== runId && held.expires_at > now && held.status === 'running') conflicts.push(leaseFromRow(held));
        // What the upsert below writes: the run's own lease keeps when it was first acquired.
        else leases.push(leaseFromRow({ ...row, run_id: runId, acquired_at: held?.run_id === runId ? held.acquired_at : now, expires_at: expiresAt }));
      }
      if (conflicts.length > 0) return { acquired: false, conflicts };
      for (const row of rows) foreignKeyOf(runId, () => upsert.run({ ...row, run_id: runId, acquired_at: now, expires_at: expiresAt }));
      for (const event of events) foreignKeyOf(event.runId, () => insertEvent.run(eventToRow(event)));
      return { acquired: true, leases };
    };
    this.release = (runId: string, keys: readonly LeaseKey[] | undefined): number => {
      if (keys === undefined) return deleteOfRun.run({ run_id: runId }).changes;
      let released = 0;
      for (const k of uniqueLeaseKeys(keys))
        released += deleteOne.run({ run_id: runId, asset_key: k.assetKey, partition_key: partitionToColumn(k.partition) }).changes;
      return released;
    };
    this.#failDeadRun = sqlite.transaction((runId: string, failure: DeadRunFailure) => {
      const failed = failRun.run({ id: runId, ended_at: failure.endedAt, error: failure.error, last_seen_before: failure.lastSeenBefore }).changes;
      if (failed === 0) return undefined;
      insertEvent.run(eventToRow(failure.event));
      if (failure.retry !== undefined) insertRun.run(runToRow(failure.retry));
      return { releasedLeases: deleteOfRun.run({ run_id: runId }).changes };
    }).immediate;
  }

  acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    return this.#writes.run(() => this.#acquire(runId, keys, options));
  }

  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return this.#writes.run(() => this.release(runId, keys));
  }

  extendLeases(runId: string, expiresAt: number): Promise<number> {
    return this.#writes.run(() => this.#extend.run({ run_id: runId, expires_at: expiresAt }).changes);
  }

  async listLeases(options: { readonly runId?: string } = {}): Promise<LeaseRecord[]> {
    this.#writes.flush();
    const rows = options.runId === undefined ? this.#listAll.all() : this.#listOfRun.all({ run_id: options.runId });
    return rows.map(leaseFromRow);
  }

  async failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    this.#writes.flush();
    return this.#failDeadRun(runId, failure);
  }
}

/** Runs a write whose only foreign key is run `runId`, reporting a missing run as such. */
function foreignKeyOf(runId: string, write: () => unknown): void {
  try {
    write();
  } catch (error) {
    if (error instanceof BetterSqlite3.SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw unknownRunError(runId, error);
    throw error;
  }
}
