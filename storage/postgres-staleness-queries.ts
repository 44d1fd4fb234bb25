/**
 * The Postgres side of {@link StalenessStore} and the bulk read of latest materializations:
 * the data sequence is the identity sequence of `materializations.id` (observations draw from
 * it too), and the per-asset summary is one grouped pass over `latest_materializations` that
 * packs each partition's two sequence numbers into one integer, aggregated in partition key
 * order (as on SQLite, see ./sqlite-staleness-statements.ts). Bulk reads use pg's array row
 * mode directly: no per-row objects.
 */

import { lockAppendOrder } from './postgres-append-order.ts';
import type pg from 'pg';
import type { Kysely } from 'kysely';
import { sql } from './kysely/kysely-runtime.ts';
import { partitionToColumn, toJsonText } from './column-codecs.ts';
import { PACK, unpack } from './packed-sequences.js';
import { batches } from './postgres-step-writes.ts';
import type { Database } from './schema.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import type { MaterializationRecord } from './storage.ts';
import {
  LATEST_MATERIALIZATION_COLUMNS,
  type LatestMaterializationTuple,
  materializationFromTuple,
  OBSERVATION_SELECT,
  type ObservationTuple,
  observationFromTuple,
} from './record-tuples.ts';

/** `asset_key = any($1)` when keys are given, else nothing. */
function onlyKeys(keys: readonly string[] | undefined): string {
  return keys === undefined ? '' : 'where asset_key = any($1::text[])';
}

/**
 * Per asset: count, version bounds, partition key bounds and both sequence numbers of every
 * partition packed into one integer each (see {@link unpack}), concatenated in partition order.
 * The rows come from a subquery sorted by (asset_key, partition_key) — the order of the
 * covering index, so nothing is sorted — and string_agg keeps its input order: an `order by`
 * inside the aggregate would sort every asset's rows again (about 2.5 times slower). The
 * summary runs without parallel workers (see {@link dataSummaries}), so no group is split.
 */
const SUMMARY_SQL = (keys: readonly string[] | undefined) => `
  select asset_key, count(*)::int, min(version_key), max(version_key),
    string_agg((materialization_id * ${PACK} + greatest(0, least(materialization_id - read_seq, ${PACK - 1})))::text, ','),
    min(partition_key), max(partition_key)
  from (select * from latest_materializations ${onlyKeys(keys)} order by asset_key, partition_key) as m group by asset_key
  union all
  select asset_key, count(*)::int, ' ', ' ', string_agg((seq * ${PACK})::text, ','), min(partition_key), max(partition_key)
  from (select * from latest_observations ${onlyKeys(keys)} order by asset_key, partition_key) as o group by asset_key
  order by 1`;

type SummaryTuple = [key: string, count: number, minVersion: string, maxVersion: string, packed: string, first: string, last: string];

/** Reads rows as arrays. */
async function arrays<T extends unknown[]>(pool: pg.Pool, text: string, keys: readonly string[] | undefined): Promise<T[]> {
  const result = await pool.query<T>({ text, values: keys === undefined ? [] : [[...keys]], rowMode: 'array' });
  return result.rows;
}

/** From how many assets a summary is split over two connections (two server processes, as SQLite splits it over two threads). */
const PARALLEL_SUMMARY_KEYS = 2_000;

/** One summary per asset with latest data (optionally only `keys`), by asset key. */
export async function dataSummaries(pool: pg.Pool, keys?: readonly string[]): Promise<AssetDataSummary[]> {
  if (keys === undefined || keys.length < PARALLEL_SUMMARY_KEYS) return summaryRows(pool, keys);
  // Each half of the sorted keys on a connection of its own; the halves' keys do not interleave.
  const sorted = [...keys].sort();
  const half = sorted.length >> 1;
  const [first, second] = await Promise.all([summaryRows(pool, sorted.slice(0, half)), summaryRows(pool, sorted.slice(half))]);
  return [...first, ...second];
}

/** The summaries of `keys` (all when `undefined`) in one query on one connection. */
async function summaryRows(pool: pg.Pool, keys: readonly string[] | undefined): Promise<AssetDataSummary[]> {
  const client = await pool.connect();
  let rows: SummaryTuple[];
  try {
    // One process reads each group in index order (no parallel workers), and JIT costs more than it saves here.
    await client.query('begin read only; set local max_parallel_workers_per_gather = 0; set local jit = off');
    rows = (await client.query<SummaryTuple>({ text: SUMMARY_SQL(keys), values: keys === undefined ? [] : [[...keys]], rowMode: 'array' })).rows;
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return rows.map(([key, count, minVersion, maxVersion, packed, first, last]) => {
    const [seqs, readSeqs] = unpack(packed, count);
    // `version_key` is `code deps`: equal smallest and largest keys mean one pair throughout.
    const [minCodeVersion = '', minDepsVersion = ''] = minVersion.split(' ');
    const [maxCodeVersion = '', maxDepsVersion = ''] = maxVersion.split(' ');
    return { key, count, first, last, minCodeVersion, maxCodeVersion, minDepsVersion, maxDepsVersion, seqs, readSeqs };
  });
}

/** The sorted partition keys with latest data of each asset in `keys`. */
export async function dataPartitionKeys(pool: pg.Pool, keys: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await arrays<[string, string[]]>(
    pool,
    `select asset_key, array_agg(partition_key order by partition_key) from latest_materializations ${onlyKeys(keys)} group by asset_key
     union all select asset_key, array_agg(partition_key order by partition_key) from latest_observations ${onlyKeys(keys)} group by asset_key`,
    keys,
  );
  return new Map(rows);
}

/** The latest observation of every source partition (optionally only `keys`), by key then partition. */
export async function latestObservations(pool: pg.Pool, keys?: readonly string[]): Promise<ObservationRecord[]> {
  const rows = await arrays<ObservationTuple>(pool, `${OBSERVATION_SELECT} ${onlyKeys(keys)} order by asset_key, partition_key`, keys);
  return rows.map(observationFromTuple);
}

/** The latest materialization of every asset partition (optionally only `keys`), by key then partition. */
export async function latestMaterializations(pool: pg.Pool, keys?: readonly string[]): Promise<MaterializationRecord[]> {
  const rows = await arrays<LatestMaterializationTuple>(
    pool,
    `select ${LATEST_MATERIALIZATION_COLUMNS.join(', ')} from latest_materializations ${onlyKeys(keys)} order by asset_key, partition_key`,
    keys,
  );
  return rows.map(materializationFromTuple);
}

/** The highest data sequence number assigned so far (0 when none). */
export async function currentSequence(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ seq: number }>`select case when is_called then last_value else 0 end as seq from materializations_id_seq`.execute(db);
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Records observations in one transaction: an unchanged data version refreshes the latest
 * row's time and metadata, a new one takes the next sequence number (in the order given).
 * Returns the new ones. A batch is a few set-wise statements whatever its size; one that names a
 * partition twice is recorded one observation after the other.
 */
export async function recordObservations(db: Kysely<Database>, observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
  const keyOf = (assetKey: string, partition: string) => JSON.stringify([assetKey, partition]);
  const keys = observations.map((o) => keyOf(o.assetKey, partitionToColumn(o.partition)));
  if (new Set(keys).size !== keys.length) return recordOneByOne(db, observations);
  return db.transaction().execute(async (trx) => {
    const assets = observations.map((o) => o.assetKey);
    const partitions = observations.map((o) => partitionToColumn(o.partition));
    const { rows: previous } = await sql<{ asset_key: string; partition_key: string; data_version: string }>`
      select asset_key, partition_key, data_version from latest_observations
      where (asset_key, partition_key) in (select * from unnest(${assets}::text[], ${partitions}::text[])) for update`.execute(trx);
    const versions = new Map(previous.map((r) => [keyOf(r.asset_key, r.partition_key), r.data_version]));
    const same = observations.filter((o, i) => versions.get(keys[i] as string) === o.dataVersion);
    const changed = observations.filter((o, i) => versions.get(keys[i] as string) !== o.dataVersion);
    if (same.length > 0) {
      await sql`update latest_observations as l set timestamp = u.ts, metadata = u.md
        from unnest(${same.map((o) => o.assetKey)}::text[], ${same.map((o) => partitionToColumn(o.partition))}::text[],
                    ${same.map((o) => o.timestamp)}::bigint[], ${same.map((o) => toJsonText(o.metadata))}::text[]) as u(ak, pk, ts, md)
        where l.asset_key = u.ak and l.partition_key = u.pk`.execute(trx);
    }
    if (changed.length === 0) return [];
    await lockAppendOrder(trx);
    const { rows: drawn } = await sql<{
      seq: number;
    }>`select nextval('materializations_id_seq') as seq from generate_series(1, ${changed.length}::int)`.execute(trx);
    const seqs = drawn.map((r) => Number(r.seq)).sort((a, b) => a - b);
    const rows = changed.map((o, i) => ({
      seq: seqs[i] as number,
      asset_key: o.assetKey,
      partition_key: partitionToColumn(o.partition),
      timestamp: o.timestamp,
      data_version: o.dataVersion,
      metadata: toJsonText(o.metadata),
    }));
    for (const batch of batches(rows)) {
      await trx.insertInto('observations').values(batch).execute();
      await trx
        .insertInto('latest_observations')
        .values(batch)
        .onConflict((oc) =>
          oc.columns(['asset_key', 'partition_key']).doUpdateSet({
            seq: sql.raw('excluded.seq'),
            timestamp: sql.raw('excluded.timestamp'),
            data_version: sql.raw('excluded.data_version'),
            metadata: sql.raw('excluded.metadata'),
          }),
        )
        .execute();
    }
    return changed.map((o, i) => ({ ...o, seq: seqs[i] as number }));
  });
}

/** {@link recordObservations} one observation after the other (a batch that names a partition twice). */
async function recordOneByOne(db: Kysely<Database>, observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
  return db.transaction().execute(async (trx) => {
    const fresh: ObservationRecord[] = [];
    for (const o of observations) {
      const partition = partitionToColumn(o.partition);
      const metadata = toJsonText(o.metadata);
      const previous = await trx
        .selectFrom('latest_observations')
        .select('data_version')
        .where('asset_key', '=', o.assetKey)
        .where('partition_key', '=', partition)
        .forUpdate()
        .executeTakeFirst();
      if (previous?.data_version === o.dataVersion) {
        await trx
          .updateTable('latest_observations')
          .set({ timestamp: o.timestamp, metadata })
          .where('asset_key', '=', o.assetKey)
          .where('partition_key', '=', partition)
          .execute();
        continue;
      }
      await lockAppendOrder(trx);
      const { rows } = await sql<{ seq: number }>`select nextval('materializations_id_seq') as seq`.execute(trx);
      const seq = Number(rows[0]?.seq);
      const row = { seq, asset_key: o.assetKey, partition_key: partition, timestamp: o.timestamp, data_version: o.dataVersion, metadata };
      await trx.insertInto('observations').values(row).execute();
      await trx
        .insertInto('latest_observations')
        .values(row)
        .onConflict((oc) => oc.columns(['asset_key', 'partition_key']).doUpdateSet({ seq, timestamp: o.timestamp, data_version: o.dataVersion, metadata }))
        .execute();
      fresh.push({ ...o, seq });
    }
    return fresh;
  });
}
