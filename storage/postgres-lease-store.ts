/**
 * Leases in Postgres (see ./lease-store.ts), correct across connections and hosts: taking
 * leases is one `INSERT … ON CONFLICT DO UPDATE … WHERE` over the `leases` primary key, whose
 * `WHERE` (the lease is the run's own, expired, or its run no longer running) is evaluated on
 * the locked, latest version of each row. Two transactions racing for a key queue on its row
 * (or on the key's uniqueness check when it is new); the second then sees the first's lease.
 * Keys are written in one sorted order, so two requests for overlapping sets lock rows in the
 * same order; a deadlock the server still reports is retried.
 */

import { lockAppendOrder } from './postgres-append-order.ts';
import { sql } from './kysely/kysely-runtime.ts';
import type { Kysely, Transaction } from 'kysely';
import { partitionToColumn } from './column-codecs.ts';
import { uniqueLeaseKeys, type DeadRunFailure, type LeaseAcquireOptions, type LeaseAcquisition, type LeaseKey, type LeaseRecord } from './lease-store.ts';
import { eventToRow, runToRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import { leaseFromRow } from './row-mappers.ts';

/** A `leases` row. */
interface LeaseRow {
  asset_key: string;
  partition_key: string;
  run_id: string;
  acquired_at: number;
  expires_at: number;
}

/** Refuses a lease request from inside its transaction, so nothing of it is written. */
class Refused extends Error {
  constructor(readonly conflicts: LeaseRecord[]) {
    super('lease refused');
  }
}

/** How often a request that lost a race (a deadlock, a holder gone while reading it) is tried again. */
const ATTEMPTS = 5;
/** Postgres's deadlock and serialization failure codes. */
const RETRIED = new Set(['40P01', '40001']);

/**
 * Takes leases on `keys` for `runId` in one transaction (see `LeaseStore.acquireLeases`);
 * `appendEvents` writes the request's events inside it.
 */
export async function acquireLeases(
  db: Kysely<Database>,
  runId: string,
  keys: readonly LeaseKey[],
  { now, expiresAt, events = [] }: LeaseAcquireOptions,
  appendEvents: (trx: Transaction<Database>, rows: ReturnType<typeof eventToRow>[]) => Promise<void>,
): Promise<LeaseAcquisition> {
  const wanted = uniqueLeaseKeys(keys).map((k) => ({ asset_key: k.assetKey, partition_key: partitionToColumn(k.partition) }));
  if (wanted.length === 0) {
    await db.transaction().execute((trx) => appendEvents(trx, events.map(eventToRow)));
    return { acquired: true, leases: [] };
  }
  const sorted = [...wanted].sort((a, b) => compareKeys(a, b));
  for (let attempt = 1; ; attempt++) {
    try {
      const leases = await db.transaction().execute(async (trx) => {
        const taken = await trx
          .insertInto('leases')
          .values(sorted.map((k) => ({ ...k, run_id: runId, acquired_at: now, expires_at: expiresAt })))
          .onConflict((oc) =>
            oc
              .columns(['asset_key', 'partition_key'])
              .doUpdateSet({
                // The run's own lease keeps its first acquisition time; a taken-over one starts anew.
                acquired_at: sql`case when leases.run_id = excluded.run_id then leases.acquired_at else excluded.acquired_at end`,
                run_id: sql.raw('excluded.run_id'),
                expires_at: sql.raw('excluded.expires_at'),
              })
              .where(
                sql<boolean>`leases.run_id = excluded.run_id or leases.expires_at <= ${now}
                  or not exists (select 1 from runs where runs.id = leases.run_id and runs.status = 'running')`,
              ),
          )
          .returning(['asset_key', 'partition_key', 'run_id', 'acquired_at', 'expires_at'])
          .execute();
        if (taken.length < wanted.length) throw new Refused(await liveConflicts(trx, runId, wanted, now));
        await appendEvents(trx, events.map(eventToRow));
        const byKey = new Map(taken.map((row) => [keyId(row), row]));
        return wanted.map((k) => leaseFromRow(byKey.get(keyId(k)) as LeaseRow));
      });
      return { acquired: true, leases };
    } catch (error) {
      // A holder that let go between the upsert and the read: the next attempt may take its lease.
      if (error instanceof Refused && error.conflicts.length > 0) return { acquired: false, conflicts: error.conflicts };
      const retry = error instanceof Refused || RETRIED.has((error as { code?: string }).code ?? '');
      if (!retry || attempt >= ATTEMPTS) {
        if (error instanceof Refused) return { acquired: false, conflicts: [] };
        throw error;
      }
    }
  }
}

/** The live leases of other runs on `keys`, in the order of `keys`. */
async function liveConflicts(
  trx: Transaction<Database>,
  runId: string,
  keys: readonly Pick<LeaseRow, 'asset_key' | 'partition_key'>[],
  now: number,
): Promise<LeaseRecord[]> {
  const rows = await trx
    .selectFrom('leases')
    .innerJoin('runs', 'runs.id', 'leases.run_id')
    .select(['leases.asset_key', 'leases.partition_key', 'leases.run_id', 'leases.acquired_at', 'leases.expires_at'])
    .where(inKeys(keys))
    .where('leases.run_id', '<>', runId)
    .where('leases.expires_at', '>', now)
    .where('runs.status', '=', 'running')
    .execute();
  const byKey = new Map(rows.map((row) => [keyId(row), row]));
  return keys.flatMap((k) => {
    const row = byKey.get(keyId(k));
    return row === undefined ? [] : [leaseFromRow(row)];
  });
}

/** Gives back `keys` of `runId` (all its leases when `undefined`) inside `trx`; returns how many. */
export async function releaseLeases(trx: Kysely<Database>, runId: string, keys: readonly LeaseKey[] | undefined): Promise<number> {
  let query = trx.deleteFrom('leases').where('run_id', '=', runId);
  if (keys !== undefined) {
    const unique = uniqueLeaseKeys(keys).map((k) => ({ asset_key: k.assetKey, partition_key: partitionToColumn(k.partition) }));
    if (unique.length === 0) return 0;
    query = query.where(inKeys(unique));
  }
  return Number((await query.executeTakeFirst()).numDeletedRows);
}

/** Moves the expiry of every lease of `runId`; returns how many it holds. */
export async function extendLeases(db: Kysely<Database>, runId: string, expiresAt: number): Promise<number> {
  return Number((await db.updateTable('leases').set({ expires_at: expiresAt }).where('run_id', '=', runId).executeTakeFirst()).numUpdatedRows);
}

/** Leases by asset key then partition; only `runId`'s when given. */
export async function listLeases(db: Kysely<Database>, runId?: string): Promise<LeaseRecord[]> {
  let query = db
    .selectFrom('leases')
    .select(['asset_key', 'partition_key', 'run_id', 'acquired_at', 'expires_at'])
    .orderBy('asset_key')
    .orderBy('partition_key');
  if (runId !== undefined) query = query.where('run_id', '=', runId);
  return (await query.execute()).map(leaseFromRow);
}

/** `LeaseStore.failDeadRun` in one transaction: the run is failed only while it is still running and unseen. */
export async function failDeadRun(db: Kysely<Database>, runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const failed = await trx
      .updateTable('runs')
      .set({ status: 'failed', ended_at: failure.endedAt, error: failure.error })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .where(sql<boolean>`coalesce(heartbeat_at, started_at, created_at) <= ${failure.lastSeenBefore}`)
      .executeTakeFirst();
    if (failed.numUpdatedRows === 0n) return undefined;
    // Lease rows before the append lock (see ./postgres-append-order.ts).
    const releasedLeases = await releaseLeases(trx, runId, undefined);
    await lockAppendOrder(trx);
    await trx.insertInto('events').values(eventToRow(failure.event)).execute();
    if (failure.retry !== undefined) await trx.insertInto('runs').values(runToRow(failure.retry)).execute();
    return { releasedLeases };
  });
}

/** `(leases.asset_key, leases.partition_key)` is one of `keys` (two array parameters, however many keys). */
function inKeys(keys: readonly Pick<LeaseRow, 'asset_key' | 'partition_key'>[]) {
  const assets = keys.map((k) => k.asset_key);
  const partitions = keys.map((k) => k.partition_key);
  return sql<boolean>`(leases.asset_key, leases.partition_key) in (select * from unnest(${assets}::text[], ${partitions}::text[]))`;
}

function keyId(row: Pick<LeaseRow, 'asset_key' | 'partition_key'>): string {
  return JSON.stringify([row.asset_key, row.partition_key]);
}

/** Code-unit order, the order of the `collate "C"` primary key for the keys assets have. */
function compareKeys(a: Pick<LeaseRow, 'asset_key' | 'partition_key'>, b: Pick<LeaseRow, 'asset_key' | 'partition_key'>): number {
  if (a.asset_key !== b.asset_key) return a.asset_key < b.asset_key ? -1 : 1;
  return a.partition_key < b.partition_key ? -1 : a.partition_key > b.partition_key ? 1 : 0;
}
