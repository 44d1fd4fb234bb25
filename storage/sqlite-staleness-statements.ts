/**
 * The SQLite side of {@link StalenessStore}: the data sequence (the `materializations`
 * AUTOINCREMENT counter in `sqlite_sequence`, which observations draw from too), source
 * observations, and the one-pass summary of the latest-materialization index.
 */

import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { partitionToColumn, toJsonText } from './column-codecs.ts';
import { PACK, unpack } from './packed-sequences.js';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import { OBSERVATION_SELECT, type ObservationTuple, observationFromTuple } from './record-tuples.ts';

/** Separates partition keys in one aggregated string (a control character no key contains). */
const KEY_SEPARATOR = '\u001f';

/**
 * Per asset: count, version bounds and both sequence numbers of every partition, packed into
 * one integer each (see {@link unpack}) and concatenated in partition order: one integer per
 * row is the cheapest thing to aggregate. The partition key bounds are not aggregated here —
 * min()/max() over every key costs a third of the pass — but read afterwards with two index
 * seeks per asset. `indexed by` pins the covering index, whose scan visits
 * each asset's rows in partition key order: the order group_concat then keeps (an `order by`
 * inside the aggregate would re-sort rows that are already sorted, costing ~40% more).
 */
const SUMMARY_SELECT = `select asset_key, count(*), min(version_key), max(version_key),
  group_concat(materialization_id * ${PACK} + max(0, min(materialization_id - read_seq, ${PACK - 1})))
from latest_materializations indexed by latest_materializations_staleness_idx`;

/** The same summary for observed sources: an observation is read at its own sequence number. */
const OBSERVATION_SUMMARY_SELECT = `select asset_key, count(*), ' ', ' ', group_concat(seq * ${PACK})
from latest_observations`;

const ONLY_KEYS = `where asset_key in (select value from json_each(@keys))`;

/** Summaries of the assets in the JSON array `@keys`, by asset key. */
const SUMMARIES_OF_SQL = `${SUMMARY_SELECT} ${ONLY_KEYS} group by asset_key union all ${OBSERVATION_SUMMARY_SELECT} ${ONLY_KEYS} group by asset_key order by 1`;

type SummaryTuple = [string, number, string, string, string];

/** A summary row with its sequence numbers unpacked. */
type UnpackedRow = [key: string, count: number, minVersion: string, maxVersion: string, seqs: Float64Array, readSeqs: Float64Array];

/** Prepared statements and transactions of the staleness store on one connection. */
export class SqliteStalenessStatements {
  readonly #sequence: BetterSqlite3.Statement<[], { seq: number }>;
  readonly #summaries: BetterSqlite3.Statement<[], SummaryTuple>;
  readonly #summariesOf: BetterSqlite3.Statement<[{ keys: string }], SummaryTuple>;
  readonly #keysOf: BetterSqlite3.Statement<[{ keys: string }], [string, string]>;
  readonly #observations: BetterSqlite3.Statement<[], ObservationTuple>;
  /** First and last partition key of every asset in a list, by index seeks. */
  readonly #keyBounds: (keys: readonly string[]) => Map<string, [string, string]>;
  readonly #observationsOf: BetterSqlite3.Statement<[{ keys: string }], ObservationTuple>;
  /** Records observations in one `BEGIN IMMEDIATE` transaction; returns the new ones. */
  readonly recordObservations: (observations: readonly ObservationRecord[]) => ObservationRecord[];

  constructor(sqlite: BetterSqlite3.Database) {
    this.#sequence = sqlite.prepare(`select coalesce((select seq from sqlite_sequence where name = 'materializations'), 0) as seq`);
    this.#summaries = sqlite
      .prepare<[], SummaryTuple>(`${SUMMARY_SELECT} group by asset_key union all ${OBSERVATION_SUMMARY_SELECT} group by asset_key order by 1`)
      .raw();
    this.#summariesOf = sqlite.prepare<[{ keys: string }], SummaryTuple>(SUMMARIES_OF_SQL).raw();
    this.#keysOf = sqlite
      .prepare<[{ keys: string }], [string, string]>(
        `select asset_key, group_concat(partition_key, char(31)) from latest_materializations indexed by latest_materializations_staleness_idx ${ONLY_KEYS} group by asset_key
         union all select asset_key, group_concat(partition_key, char(31)) from latest_observations ${ONLY_KEYS} group by asset_key`,
      )
      .raw();
    const bounds = sqlite
      .prepare<[{ keys: string }], [string, string | null, string | null]>(
        `select value,
         coalesce((select partition_key from latest_materializations where asset_key = value order by partition_key limit 1),
                  (select partition_key from latest_observations where asset_key = value order by partition_key limit 1)),
         coalesce((select partition_key from latest_materializations where asset_key = value order by partition_key desc limit 1),
                  (select partition_key from latest_observations where asset_key = value order by partition_key desc limit 1))
       from json_each(@keys)`,
      )
      .raw();
    this.#keyBounds = (keys) => {
      const found = new Map<string, [string, string]>();
      for (const [key, first, last] of bounds.all({ keys: JSON.stringify(keys) })) if (first !== null && last !== null) found.set(key, [first, last]);
      return found;
    };
    this.#observations = sqlite.prepare<[], ObservationTuple>(`${OBSERVATION_SELECT} order by asset_key, partition_key`).raw();
    this.#observationsOf = sqlite.prepare<[{ keys: string }], ObservationTuple>(`${OBSERVATION_SELECT} ${ONLY_KEYS} order by asset_key, partition_key`).raw();

    const latest = sqlite.prepare<[string, string], { seq: number; data_version: string }>(
      'select seq, data_version from latest_observations where asset_key = ? and partition_key = ?',
    );
    const refresh = sqlite.prepare('update latest_observations set timestamp = ?, metadata = ? where asset_key = ? and partition_key = ?');
    const next = sqlite.prepare<[], { seq: number }>(`update sqlite_sequence set seq = seq + 1 where name = 'materializations' returning seq`);
    const insert = sqlite.prepare('insert into observations (seq, asset_key, partition_key, timestamp, data_version, metadata) values (?, ?, ?, ?, ?, ?)');
    const upsert = sqlite.prepare(
      `insert into latest_observations (seq, asset_key, partition_key, timestamp, data_version, metadata) values (?, ?, ?, ?, ?, ?)
       on conflict (asset_key, partition_key) do update set seq = excluded.seq, timestamp = excluded.timestamp,
         data_version = excluded.data_version, metadata = excluded.metadata`,
    );
    this.recordObservations = sqlite.transaction((observations: readonly ObservationRecord[]) => {
      const fresh: ObservationRecord[] = [];
      for (const o of observations) {
        const partition = partitionToColumn(o.partition);
        const metadata = toJsonText(o.metadata);
        const previous = latest.get(o.assetKey, partition);
        if (previous?.data_version === o.dataVersion) {
          refresh.run(o.timestamp, metadata, o.assetKey, partition);
          continue;
        }
        const seq = (next.get() as { seq: number }).seq;
        insert.run(seq, o.assetKey, partition, o.timestamp, o.dataVersion, metadata);
        upsert.run(seq, o.assetKey, partition, o.timestamp, o.dataVersion, metadata);
        fresh.push({ ...o, seq });
      }
      return fresh;
    }).immediate;
  }

  currentSequence(): number {
    return (this.#sequence.get() as { seq: number }).seq;
  }

  dataSummaries(keys?: readonly string[]): AssetDataSummary[] {
    return this.#summarize((keys === undefined ? this.#summaries.all() : this.#summariesOf.all({ keys: JSON.stringify(keys) })).map(unpackRow));
  }

  /**
   * The same summaries for many assets, on two cores: a worker thread with its own read-only
   * connection to `file` scans the first half of the keys while this thread scans the second.
   * (Both read the WAL's latest commit when they start; a commit between the two starts can
   * only make a partition's versions checked when they did not need to be.)
   */
  async dataSummariesInParallel(file: string, keys: readonly string[]): Promise<AssetDataSummary[]> {
    const sorted = [...keys].sort();
    const half = sorted.length >> 1;
    const worker = new Worker(new URL('./staleness-summary-worker.js', import.meta.url), {
      workerData: { file, sql: SUMMARIES_OF_SQL, keys: JSON.stringify(sorted.slice(0, half)) },
    });
    try {
      const theirs = new Promise<UnpackedRow[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const mine = this.#summariesOf.all({ keys: JSON.stringify(sorted.slice(half)) }).map(unpackRow);
      return this.#summarize([...(await theirs), ...mine]);
    } finally {
      await worker.terminate();
    }
  }

  #summarize(rows: readonly UnpackedRow[]): AssetDataSummary[] {
    const bounds = this.#keyBounds(rows.map((r) => r[0]));
    return rows.map((r) => {
      const [, , , , seqs, readSeqs] = r;
      // `version_key` is `code deps`: equal smallest and largest keys mean one pair throughout.
      const [minCodeVersion = '', minDepsVersion = ''] = r[2].split(' ');
      const [maxCodeVersion = '', maxDepsVersion = ''] = r[3].split(' ');
      const [first, last] = bounds.get(r[0]) ?? ['', ''];
      return { key: r[0], count: r[1], first, last, minCodeVersion, maxCodeVersion, minDepsVersion, maxDepsVersion, seqs, readSeqs };
    });
  }

  dataPartitionKeys(keys: readonly string[]): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const [key, joined] of this.#keysOf.all({ keys: JSON.stringify(keys) })) found.set(key, joined.split(KEY_SEPARATOR));
    return found;
  }

  latestObservations(keys?: readonly string[]): ObservationRecord[] {
    const rows = keys === undefined ? this.#observations.all() : this.#observationsOf.all({ keys: JSON.stringify(keys) });
    return rows.map(observationFromTuple);
  }
}

function unpackRow(r: SummaryTuple): UnpackedRow {
  const [seqs, readSeqs] = unpack(r[4], r[1]);
  return [r[0], r[1], r[2], r[3], seqs, readSeqs];
}
