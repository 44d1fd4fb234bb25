/**
 * The SQLite side of {@link StalenessStore}: the data sequence (the `materializations`
 * AUTOINCREMENT counter in `sqlite_sequence`, which observations draw from too), source
 * observations, and the one-pass summary of the latest-materialization index.
 */

import type BetterSqlite3 from 'better-sqlite3';
import { parseJsonObject, partitionFromColumn, partitionToColumn, toJsonText } from './column-codecs.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';

/** Separates partition keys in one aggregated string (a control character no key contains). */
const KEY_SEPARATOR = '\u001f';

/**
 * Per asset: counts, key bounds, code/deps version bounds and the two sequence columns
 * concatenated in partition order (`seq,readSeq,seq,readSeq,…`: one aggregate is cheaper than two). `indexed by` pins the covering index, whose scan visits
 * each asset's rows in partition key order: the order group_concat then keeps (an `order by`
 * inside the aggregate would re-sort rows that are already sorted, costing ~40% more).
 */
const SUMMARY_SELECT = `select asset_key, count(*), min(partition_key), max(partition_key),
  min(code_version), max(code_version), min(deps_version), max(deps_version),
  group_concat(materialization_id || ',' || read_seq, ',')
from latest_materializations indexed by latest_materializations_staleness_idx`;

/** The same summary for observed sources: an observation is read at its own sequence number. */
const OBSERVATION_SUMMARY_SELECT = `select asset_key, count(*), min(partition_key), max(partition_key),
  '', '', '', '', group_concat(seq || ',' || seq, ',')
from latest_observations`;

const ONLY_KEYS = `where asset_key in (select value from json_each(@keys))`;

type SummaryTuple = [string, number, string, string, string, string, string, string, string];
type ObservationTuple = [number, string, string, number, string, string];

/** Prepared statements and transactions of the staleness store on one connection. */
export class SqliteStalenessStatements {
  readonly #sequence: BetterSqlite3.Statement<[], { seq: number }>;
  readonly #summaries: BetterSqlite3.Statement<[], SummaryTuple>;
  readonly #summariesOf: BetterSqlite3.Statement<[{ keys: string }], SummaryTuple>;
  readonly #keysOf: BetterSqlite3.Statement<[{ keys: string }], [string, string]>;
  readonly #observations: BetterSqlite3.Statement<[], ObservationTuple>;
  readonly #observationsOf: BetterSqlite3.Statement<[{ keys: string }], ObservationTuple>;
  /** Records observations in one `BEGIN IMMEDIATE` transaction; returns the new ones. */
  readonly recordObservations: (observations: readonly ObservationRecord[]) => ObservationRecord[];

  constructor(sqlite: BetterSqlite3.Database) {
    this.#sequence = sqlite.prepare(`select coalesce((select seq from sqlite_sequence where name = 'materializations'), 0) as seq`);
    this.#summaries = sqlite.prepare<[], SummaryTuple>(`${SUMMARY_SELECT} group by asset_key union all ${OBSERVATION_SUMMARY_SELECT} group by asset_key order by 1`).raw();
    this.#summariesOf = sqlite
      .prepare<[{ keys: string }], SummaryTuple>(`${SUMMARY_SELECT} ${ONLY_KEYS} group by asset_key union all ${OBSERVATION_SUMMARY_SELECT} ${ONLY_KEYS} group by asset_key order by 1`)
      .raw();
    this.#keysOf = sqlite
      .prepare<[{ keys: string }], [string, string]>(
        `select asset_key, group_concat(partition_key, char(31)) from latest_materializations indexed by latest_materializations_staleness_idx ${ONLY_KEYS} group by asset_key
         union all select asset_key, group_concat(partition_key, char(31)) from latest_observations ${ONLY_KEYS} group by asset_key`,
      )
      .raw();
    const observationSelect = `select seq, asset_key, partition_key, timestamp, data_version, metadata from latest_observations`;
    this.#observations = sqlite.prepare<[], ObservationTuple>(`${observationSelect} order by asset_key, partition_key`).raw();
    this.#observationsOf = sqlite.prepare<[{ keys: string }], ObservationTuple>(`${observationSelect} ${ONLY_KEYS} order by asset_key, partition_key`).raw();

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
    const rows = keys === undefined ? this.#summaries.all() : this.#summariesOf.all({ keys: JSON.stringify(keys) });
    return rows.map((r) => {
      const [seqs, readSeqs] = parsePairs(r[8], r[1]);
      return {
        key: r[0],
        count: r[1],
        first: r[2],
        last: r[3],
        minCodeVersion: r[4],
        maxCodeVersion: r[5],
        minDepsVersion: r[6],
        maxDepsVersion: r[7],
        seqs,
        readSeqs,
      };
    });
  }

  dataPartitionKeys(keys: readonly string[]): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const [key, joined] of this.#keysOf.all({ keys: JSON.stringify(keys) })) found.set(key, joined.split(KEY_SEPARATOR));
    return found;
  }

  latestObservations(keys?: readonly string[]): ObservationRecord[] {
    const rows = keys === undefined ? this.#observations.all() : this.#observationsOf.all({ keys: JSON.stringify(keys) });
    return rows.map((r) => ({
      seq: r[0],
      assetKey: r[1],
      partition: partitionFromColumn(r[2]),
      timestamp: r[3],
      dataVersion: r[4],
      metadata: parseJsonObject(r[5]),
    }));
  }
}

/** `"3,2,17,16"` → `[3, 17]` and `[2, 16]`: `count` pairs of non-negative integers. */
function parsePairs(text: string, count: number): [Float64Array, Float64Array] {
  const firsts = new Float64Array(count);
  const seconds = new Float64Array(count);
  let value = 0;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 44) {
      value = value * 10 + (code - 48);
      continue;
    }
    if (index % 2 === 0) firsts[index >> 1] = value;
    else seconds[index >> 1] = value;
    index++;
    value = 0;
  }
  seconds[index >> 1] = value;
  return [firsts, seconds];
}
