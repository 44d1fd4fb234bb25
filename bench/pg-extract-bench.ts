/**
 * Postgres extraction: `rows` rows of a Postgres table into a DuckDB file, (a) by hand —
 * `COPY ... TO STDOUT` into a CSV file, then DuckDB `read_csv` of it — and (b) by a Strata run
 * whose asset calls `ctx.resources.db.extract(...)`. Each mode runs in a process of its own
 * (`--mode baseline|strata --json`), so its peak RSS is its own. Needs a server:
 * STRATA_BENCH_POSTGRES_URL, else STRATA_TEST_POSTGRES_URL (tests/postgres-cluster.sh).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { asset } from '../core/model/definitions/asset-spec.ts';
import { NO_RETRIES } from '../core/model/definitions/retry-policy.ts';
import { executeRun } from '../core/engine/execution/executor.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { DEFAULT_HEARTBEAT } from '../core/model/config/heartbeat-settings.ts';
import type { ProjectConfig } from '../core/model/config/project-config.ts';
import { buildProject } from '../core/model/project.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';

/** Figures of one mode. */
export interface PgExtractFigures {
  readonly rows: number;
  readonly ms: number;
  readonly peakRssMb: number;
}

const TABLE = 'strata_bench_orders';
const SELECT = `select * from ${TABLE}`;

/** The server of the bench, or `undefined` when none is configured. */
export function benchPostgresUrl(): string | undefined {
  return process.env.STRATA_BENCH_POSTGRES_URL ?? process.env.STRATA_TEST_POSTGRES_URL;
}

/** Creates and fills the source table with `rows` rows (not timed). */
export async function prepareSource(url: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop table if exists ${TABLE}`);
    await client.query(`create unlogged table ${TABLE} as
      select i as id, 'customer ' || (i % 9973) as customer, (i % 100000) / 100.0::numeric(12,2) as amount,
             date '2024-01-01' + (i % 365) as placed, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' as updated_at, i % 3 = 0 as paid
      from generate_series(1, ${rows}) as i`);
  } finally {
    await client.end();
  }
}

async function runBaseline(url: string, dir: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const instance = await DuckDBInstance.create(join(dir, 'baseline.duckdb'));
  const connection = await instance.connect();
  try {
    const file = join(dir, 'rows.csv');
    await pipeline(client.query(copyTo(`COPY (${SELECT}) TO STDOUT (FORMAT csv, HEADER)`)), createWriteStream(file));
    const reader = await connection.runAndReadAll(`create table orders as select * from read_csv('${file}'); select count(*)::bigint as n from orders`);
    return Number(reader.getRowObjects()[0]?.n);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await client.end();
  }
}

async function runStrata(url: string, dir: string): Promise<number> {
  process.env.STRATA_BENCH_DB = url;
  const config: ProjectConfig = {
    name: 'bench',
    dir,
    assetsDir: dir,
    landingDir: dir,
    storageFile: join(dir, 'strata.db'),
    warehouseFile: join(dir, 'warehouse.duckdb'),
    concurrency: 1,
    retries: NO_RETRIES,
    heartbeat: DEFAULT_HEARTBEAT,
    resources: { db: { type: 'postgres', url: 'env:STRATA_BENCH_DB' } },
  };
  const storage = await SqliteStorage.open(config.storageFile);
  const warehouse = await DuckDBWarehouse.open(config.warehouseFile);
  try {
    const project = buildProject(config, [asset({ key: 'raw/orders', materialize: async (ctx) => ({ rowCount: await ctx.resources.db!.extract(SELECT) }) })]);
    const result = await executeRun({
      project,
      plan: buildPlan(project.graph, ['raw/orders']),
      storage,
      warehouse,
      landing: new FileLandingZone(dir),
      selection: 'raw/orders',
    });
    if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.steps[0]?.error}`);
    return result.steps[0]?.rowCount ?? 0;
  } finally {
    warehouse.close();
    await storage.close();
  }
}

/** Runs one mode in this process and returns its figures. */
export async function measure(mode: 'baseline' | 'strata', url: string): Promise<PgExtractFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-pg-bench-'));
  try {
    const started = performance.now();
    const rows = mode === 'baseline' ? await runBaseline(url, dir) : await runStrata(url, dir);
    return { rows, ms: performance.now() - started, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Only when run as the script (other benches import benchPostgresUrl from here).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--json')) {
  const mode = process.argv[process.argv.indexOf('--mode') + 1] === 'baseline' ? 'baseline' : 'strata';
  const url = benchPostgresUrl();
  if (!url) throw new Error('no Postgres: set STRATA_BENCH_POSTGRES_URL (or run inside tests/postgres-cluster.sh)');
  console.log(JSON.stringify(await measure(mode, url)));
}
