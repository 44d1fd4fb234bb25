/**
 * Writes the staleness bench's year of history into a Postgres schema that has the storage
 * schema: the same rows as ./staleness-history.ts writes into SQLite, generated with SQL inside
 * Postgres (day by day, every asset in topological order, so sequence numbers interleave the way
 * daily runs leave them), then the data sequence moved past them and the tables analyzed.
 */
import pg from 'pg';
import { depsVersionOf } from '../core/model/definitions/code-version.ts';
import type { AssetGraph } from '../core/model/graph/asset-graph.ts';
import { DAYS, NOW } from './staleness-bench.ts';

/** Writes the history through `url` (whose search path names the schema); returns the rows written. */
export async function writePostgresHistory(url: string, graph: AssetGraph): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const keys = graph.keys;
    const days = DAYS.keys(NOW);
    const parents = keys.map((key) => graph.parents(key));
    await client.query('create temp table bench_assets (ordinal bigint primary key, asset_key text collate "C", deps_version text, inputs text)');
    await client.query('create temp table bench_days (day_index bigint primary key, day text collate "C")');
    await client.query('insert into bench_assets select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[])', [
      keys.map((_, i) => i),
      keys,
      parents.map((p) => depsVersionOf(p)),
      // `DAY` is replaced per partition; a parent's data version is `dv:<key>@<day>`.
      parents.map((p) => JSON.stringify(Object.fromEntries(p.map((parent) => [`${parent}@DAY`, `dv:${parent}@DAY`])))),
    ]);
    await client.query('insert into bench_days select * from unnest($1::bigint[], $2::text[])', [days.map((_, i) => i), days]);
    await client.query(`insert into runs (id, status, trigger, selection, asset_keys, created_at, started_at, ended_at, error, tags)
      select 'day-' || day, 'success', 'schedule', '*', '[]', 0, 0, 0, null, '{}' from bench_days`);
    const width = keys.length;
    await client.query(`insert into materializations (id, asset_key, partition_key, run_id, timestamp, code_version, data_version,
        input_data_versions, row_count, metadata, read_seq, deps_version)
      select d.day_index * ${width} + a.ordinal + 1, a.asset_key, d.day, 'day-' || d.day, 1700000000000 + d.day_index,
        'v1', 'dv:' || a.asset_key || '@' || d.day, replace(a.inputs, 'DAY', d.day), 100, '{}', d.day_index * ${width} + a.ordinal, a.deps_version
      from bench_days d cross join bench_assets a order by 1`);
    await client.query(`insert into latest_materializations (materialization_id, asset_key, partition_key, run_id, timestamp, code_version,
        data_version, input_data_versions, row_count, metadata, read_seq, deps_version, version_key)
      select id, asset_key, partition_key, run_id, timestamp, code_version, data_version, input_data_versions, row_count,
        metadata, read_seq, deps_version, code_version || ' ' || deps_version from materializations order by asset_key, partition_key`);
    await client.query(`select setval('materializations_id_seq', (select max(id) from materializations))`);
    await client.query('vacuum analyze materializations');
    await client.query('vacuum analyze latest_materializations');
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from materializations');
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}
