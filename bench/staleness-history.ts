/**
 * Writes the staleness bench's year of history into a SQLite file that has the schema:
 * `tsx bench/staleness-history.ts FILE COUNT` prints the number of rows written. Run as a
 * child process by ./staleness-bench.ts.
 */
import BetterSqlite3 from 'better-sqlite3';
import { depsVersionOf } from '../core/model/definitions/code-version.ts';
import { AssetGraph } from '../core/model/graph/asset-graph.ts';
import { benchAssets, DAYS, NOW } from './staleness-bench.ts';

/**
 * Writes the year of history with SQL inside SQLite (generating 3.65 M rows through the
 * storage API would take minutes): day by day, every asset in topological order, so sequence
 * numbers interleave the way daily runs leave them. Each partition read its parents' partitions
 * of the same day just before it was written.
 */
export function writeHistory(file: string, graph: AssetGraph): number {
  const db = new BetterSqlite3(file);
  // Generation only: no fsync, and a cache big enough to hold the indexes being built.
  db.pragma('synchronous = off');
  db.pragma('cache_size = -1500000');
  const keys = graph.keys;
  const days = DAYS.keys(NOW);
  db.exec('create temp table bench_assets (ordinal integer primary key, asset_key text, deps_version text, inputs text)');
  db.exec('create temp table bench_days (day_index integer primary key, day text)');
  const insertAsset = db.prepare('insert into bench_assets values (?, ?, ?, ?)');
  const insertDay = db.prepare('insert into bench_days values (?, ?)');
  db.transaction(() => {
    keys.forEach((key, ordinal) => {
      const parents = graph.parents(key);
      // `DAY` is replaced per partition; a parent's data version is `dv:<key>@<day>`.
      const inputs = JSON.stringify(Object.fromEntries(parents.map((p) => [`${p}@DAY`, `dv:${p}@DAY`])));
      insertAsset.run(ordinal, key, depsVersionOf(parents), inputs);
    });
    days.forEach((day, i) => insertDay.run(i, day));
    db.exec(`insert into runs (id, status, trigger, selection, asset_keys, created_at, started_at, ended_at, error, tags)
             select 'day-' || day, 'success', 'schedule', '*', '[]', 0, 0, 0, null, '{}' from bench_days`);
    const width = keys.length;
    const select = `select d.day_index * ${width} + a.ordinal + 1, a.asset_key, d.day, 'day-' || d.day, 1700000000000 + d.day_index,
        'v1', 'dv:' || a.asset_key || '@' || d.day, replace(a.inputs, 'DAY', d.day), 100, '{}', d.day_index * ${width} + a.ordinal, a.deps_version
      from bench_days d cross join bench_assets a order by 1`;
    db.exec(`insert into materializations (id, asset_key, partition_key, run_id, timestamp, code_version, data_version,
             input_data_versions, row_count, metadata, read_seq, deps_version) ${select}`);
    db.exec(`insert into latest_materializations (materialization_id, asset_key, partition_key, run_id, timestamp, code_version,
             data_version, input_data_versions, row_count, metadata, read_seq, deps_version, version_key)
             select id, asset_key, partition_key, run_id, timestamp, code_version, data_version, input_data_versions, row_count,
             metadata, read_seq, deps_version, code_version || ' ' || deps_version from materializations order by asset_key, partition_key`);
  })();
  const rows = (db.prepare('select count(*) as n from materializations').get() as { n: number }).n;
  db.close();
  return rows;
}

const [file, count] = process.argv.slice(2);
if (file !== undefined && count !== undefined) {
  console.log(writeHistory(file, AssetGraph.build(benchAssets(Number(count)).map((d) => d.spec))));
}
