import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { qualifiedTableName } from '../core/model/definitions/asset-key.ts';
import { startBackfill } from '../core/engine/execution/backfill-runner.ts';
import { renderSqlTemplate } from '../core/model/definitions/sql-template.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { loadProject } from '../core/engine/project/project-loader.ts';
import type { Project } from '../core/model/project.ts';
import { selectAssets } from '../core/model/selection/index.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * The partitioned-chain workload: a year of raw order lines (≥ 10 M rows) and a chain of three
 * daily-partitioned SQL assets over it, built three ways:
 *
 *  (a) baseline — the three SELECTs run directly in DuckDB, one `CREATE TABLE … AS` each, with
 *      `{{ partition_start }}` / `{{ partition_end }}` bound to the year's bounds;
 *  (b) `assets backfill` with the assets' `single_run` policy: one step per asset over the year;
 *  (c) `assets backfill --per-partition`: 365 × 3 steps.
 *
 * (b) and (c) call {@link startBackfill} in-process, as `assets backfill` does after loading the
 * project (same selection, grouping and default concurrency): process start, project load and
 * opening the files are not timed (the project load is reported on its own). Each of (a), (b), (c)
 * starts from its own copy of one raw DuckDB file, and (b) and (c) each get a fresh SQLite
 * storage file. Each timing ends with a CHECKPOINT, so work left in the WAL (which `assets
 * backfill` pays when it closes the warehouse) is counted. CPU time of the process is reported
 * too: on a busy machine it is a steadier comparison than wall time.
 *
 * The raw data is an unpartitioned table, `raw.orders`, sorted by `ordered_at`, declared as an
 * (unpartitioned) SQL asset that is never part of the backfill. An unpartitioned source is what a
 * loader typically lands, it is read identically by all three variants, and sorting it by time
 * lets DuckDB's zone maps skip every row group outside a partition's window, so a per-partition
 * step reads only (about) its own day. Materializing raw as a partitioned asset beforehand would
 * add a fourth backfilled asset whose cost the baseline does not pay.
 *
 * After the runs the three warehouses must hold identical tables (row count and an
 * order-independent checksum of every row); any difference throws.
 */

/** The year the chain covers: daily partitions 2025-01-01 … 2025-12-31. */
const YEAR = { first: '2025-01-01', last: '2025-12-31', start: '2025-01-01 00:00:00', end: '2026-01-01 00:00:00', days: 365 } as const;
const PARTITIONS = 'daily(start=2025-01-01, end=2026-01-01)';
/** The clock for planning: every partition of the year is complete. */
const NOW = new Date('2026-01-02T00:00:00Z');

/**
 * The raw source: order lines as a POS export lands them (codes untrimmed, numbers as text). Rows
 * come out of `range` in order and DuckDB preserves insertion order, so the table is stored sorted
 * by `ordered_at` (about 4.4 days per 122,880-row group).
 */
const RAW_SQL = `-- description: Raw POS order lines for the year, as exported (codes untrimmed, numbers as text),
-- description: sorted by ordered_at. Built once by the benchmark; not part of the backfill.
with lines as (select range as i from range(0, ${YEAR.days} * $ROWS_PER_DAY))
select
  i as line_id,
  i // 2 as order_id,
  timestamp '${YEAR.start}' + to_microseconds((i * 86400000000 // $ROWS_PER_DAY)::bigint) as ordered_at,
  (hash(i // 2) % 200000)::integer as customer_id,
  'S' || lpad((hash(i // 2, 1) % 40)::varchar, 3, '0') as store_code,
  case when i % 97 = 0 then ' p' else 'P' end || lpad((hash(i, 2) % 60)::varchar, 3, '0') || case when i % 89 = 0 then ' ' else '' end as product_code,
  (1 + hash(i, 3) % 5)::varchar as quantity,
  case when i % 1013 = 0 then 'n/a' else ((100 + hash(i, 4) % 9900) / 100)::decimal(10, 2)::varchar end as unit_price,
  (['completed', 'completed', 'completed', 'refunded', 'CANCELLED '])[(1 + hash(i // 2, 5) % 5)::bigint] as status
from lines`;

/** The chain, as the SQL files of the project. */
const CHAIN: readonly { readonly key: string; readonly sql: string }[] = [
  {
    key: 'staging/orders',
    sql: `-- description: Order lines typed and cleaned: codes normalised, text numbers cast, unpriced lines dropped.
-- partitioned_by: ${PARTITIONS}
-- partition_column: order_date
-- backfill_policy: single_run
select
  line_id,
  order_id,
  ordered_at,
  ordered_at::date as order_date,
  customer_id,
  store_code,
  upper(trim(product_code)) as product_code,
  try_cast(quantity as integer) as quantity,
  try_cast(unit_price as decimal(10, 2)) as unit_price,
  try_cast(quantity as integer) * try_cast(unit_price as decimal(10, 2)) as amount,
  lower(trim(status)) as status
from raw.orders
where ordered_at >= {{ partition_start }} and ordered_at < {{ partition_end }}
  and try_cast(unit_price as decimal(10, 2)) is not null
`,
  },
  {
    key: 'marts/store_product_daily',
    sql: `-- description: Sales per store, product and day: orders, customers, units, revenue, refunds, cancellations.
-- partitioned_by: ${PARTITIONS}
-- partition_column: order_date
-- backfill_policy: single_run
select
  order_date,
  store_code,
  product_code,
  count(distinct order_id) as orders,
  count(distinct customer_id) as customers,
  sum(quantity) as units,
  coalesce(sum(amount) filter (where status = 'completed'), 0) as revenue,
  coalesce(sum(amount) filter (where status = 'refunded'), 0) as refunded,
  count(*) filter (where status = 'cancelled') as cancelled_lines
from staging.orders
where order_date >= {{ partition_start }} and order_date < {{ partition_end }}
group by order_date, store_code, product_code
`,
  },
  {
    key: 'features/store_daily',
    sql: `-- description: Store-day features: revenue, units, breadth, best seller and its share, revenue rank of the day.
-- partitioned_by: ${PARTITIONS}
-- partition_column: order_date
-- backfill_policy: single_run
select
  order_date,
  store_code,
  sum(revenue) as revenue,
  sum(units) as units,
  sum(orders) as order_product_pairs,
  count(*) filter (where revenue > 0) as products_sold,
  arg_max(product_code, (revenue, product_code)) as top_product,
  round(max(revenue) / nullif(sum(revenue), 0), 6)::decimal(9, 6) as top_product_share,
  round(sum(refunded) / nullif(sum(revenue) + sum(refunded), 0), 6)::decimal(9, 6) as refund_rate,
  rank() over (partition by order_date order by sum(revenue) desc, store_code) as revenue_rank
from marts.store_product_daily
where order_date >= {{ partition_start }} and order_date < {{ partition_end }}
group by order_date, store_code
`,
  },
];

const CHAIN_KEYS = CHAIN.map((a) => a.key);
/** What `assets backfill --select` is given: the staging asset and everything downstream of it. */
const SELECTION = 'staging/orders+';

/** Row count and order-independent checksum of one table. */
export interface TableDigest {
  readonly rows: number;
  readonly checksum: string;
}

/** Time spent per kind of call during one engine run (busy time: overlapping steps add up). */
export interface EngineProfile {
  readonly planMs: number;
  readonly duckdb: Readonly<Record<string, { ms: number; calls: number }>>;
  readonly storage: Readonly<Record<string, { ms: number; calls: number }>>;
}

/** Figures of one engine backfill. */
export interface EngineFigures {
  /** startBackfill plus a final CHECKPOINT. */
  readonly ms: number;
  /** The final CHECKPOINT, included in {@link ms}. */
  readonly checkpointMs: number;
  /** CPU time of the process (all threads) during the backfill: less sensitive than wall time to a busy machine. */
  readonly cpuMs: number;
  readonly steps: number;
  readonly status: string;
  readonly loadMs: number;
  readonly peakRssMb: number;
  readonly profile?: EngineProfile;
}

/** Figures of one run of the workload. */
export interface PartitionedChainFigures {
  readonly rawRows: number;
  readonly rawBuildMs: number;
  readonly baselineMs: number;
  readonly baselineCpuMs: number;
  /** Per asset, in chain order. */
  readonly baselineStatementMs: readonly number[];
  /** The final CHECKPOINT, included in {@link baselineMs}. */
  readonly baselineCheckpointMs: number;
  readonly singleRun: EngineFigures;
  readonly perPartition: EngineFigures;
  readonly digests: Readonly<Record<string, TableDigest>>;
  readonly peakRssMb: number;
}

/** Options of {@link runPartitionedChain}. */
export interface PartitionedChainOptions {
  /** Raw order lines per day (default 28,000: 10.22 M rows over the year). */
  readonly rowsPerDay?: number;
  /** Time DuckDB statements, storage calls and planning inside (b) and (c). */
  readonly profile?: boolean;
  readonly log?: (line: string) => void;
}

/** Builds the raw data once, then runs (a), (b) and (c) and checks that their tables agree. */
export async function runPartitionedChain(options: PartitionedChainOptions = {}): Promise<PartitionedChainFigures> {
  const rowsPerDay = options.rowsPerDay ?? 28_000;
  const log = options.log ?? (() => undefined);
  const root = mkdtempSync(join(tmpdir(), 'strata-bench-backfill-'));
  try {
    // The raw data, once: copied below for every variant so each starts from the same bytes.
    const source = join(root, 'source.duckdb');
    const rawSql = RAW_SQL.replaceAll('$ROWS_PER_DAY', String(rowsPerDay));
    const started = performance.now();
    const rawRows = await withDatabase(source, async (connection) => {
      await connection.run('CREATE SCHEMA raw');
      await connection.run(`CREATE TABLE raw.orders AS ${rawSql}`);
      return Number((await connection.runAndReadAll('SELECT count(*) FROM raw.orders')).getRows()[0]?.[0]);
    });
    const rawBuildMs = performance.now() - started;
    log(`  raw data built: ${rawRows.toLocaleString('en-US')} rows in ${(rawBuildMs / 1000).toFixed(1)} s`);

    // (a) the same SQL straight in DuckDB, one CREATE TABLE … AS per asset.
    const baselineFile = join(root, 'baseline', 'baseline.duckdb');
    mkdirSync(join(root, 'baseline'));
    copyFileSync(source, baselineFile);
    const baselineStatementMs: number[] = [];
    let baselineCpuMs = 0;
    let baselineCheckpointMs = 0;
    const baselineDigests = await withDatabase(baselineFile, async (connection) => {
      await connection.run(`CREATE SCHEMA IF NOT EXISTS staging; CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS features;`);
      for (const { key, sql } of CHAIN) {
        const select = renderSqlTemplate(sql, { partition_key: `${YEAR.first}..${YEAR.last}`, partition_start: YEAR.start, partition_end: YEAR.end });
        const t = performance.now();
        const cpu = process.cpuUsage();
        await connection.run(`CREATE TABLE ${qualifiedTableName(key)} AS ${select}`);
        baselineStatementMs.push(performance.now() - t);
        baselineCpuMs += cpuMs(cpu);
      }
      // Like (b) and (c), (a) ends with everything checkpointed into the database file.
      const t = performance.now();
      const cpu = process.cpuUsage();
      await connection.run('CHECKPOINT');
      baselineCheckpointMs = performance.now() - t;
      baselineCpuMs += cpuMs(cpu);
      return digestAll((sql) => readFirst(connection, sql));
    });
    const baselineMs = baselineStatementMs.reduce((a, b) => a + b, 0) + baselineCheckpointMs;
    log(`  (a) baseline: ${(baselineMs / 1000).toFixed(2)} s`);

    // (b) and (c): the engine, each in a fresh project folder with its own warehouse and storage.
    const singleRun = await runEngine(root, 'single-run', source, rawSql, 'policy', options.profile === true);
    log(`  (b) single run: ${(singleRun.figures.ms / 1000).toFixed(2)} s`);
    const perPartition = await runEngine(root, 'per-partition', source, rawSql, 'per_partition', options.profile === true);
    log(`  (c) per partition: ${(perPartition.figures.ms / 1000).toFixed(2)} s`);

    // All three must have built the same tables.
    const problems: string[] = [];
    for (const key of CHAIN_KEYS) {
      const a = baselineDigests[key] as TableDigest;
      for (const [name, digests] of [
        ['single-run', singleRun.digests],
        ['per-partition', perPartition.digests],
      ] as const) {
        const other = digests[key] as TableDigest;
        if (other.rows !== a.rows || other.checksum !== a.checksum) {
          problems.push(`${key}: baseline ${a.rows} rows / ${a.checksum}, ${name} ${other.rows} rows / ${other.checksum}`);
        }
      }
      if (a.rows === 0) problems.push(`${key}: the baseline table is empty`);
    }
    if (problems.length > 0) throw new Error(`the partitioned chain built different tables:\n  ${problems.join('\n  ')}`);

    return {
      rawRows,
      rawBuildMs,
      baselineMs,
      baselineCpuMs,
      baselineStatementMs,
      baselineCheckpointMs,
      singleRun: singleRun.figures,
      perPartition: perPartition.figures,
      digests: baselineDigests,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** One engine backfill of the chain over the year in `root/name`, from a copy of the raw file. */
async function runEngine(
  root: string,
  name: string,
  source: string,
  rawSql: string,
  grouping: 'policy' | 'per_partition',
  profile: boolean,
): Promise<{ figures: EngineFigures; digests: Record<string, TableDigest> }> {
  const dir = join(root, name);
  writeProject(dir, rawSql);
  copyFileSync(source, join(dir, '.strata', 'warehouse.duckdb'));

  const loadStarted = performance.now();
  const project = await loadProject(dir);
  const loadMs = performance.now() - loadStarted;
  for (const file of [project.config.warehouseFile, project.config.storageFile]) {
    if (!file.startsWith(dir)) throw new Error(`STRATA_WAREHOUSE / STRATA_STORAGE would point the benchmark at ${file}: unset them`);
  }
  const opened = await SqliteStorage.open(project.config.storageFile);
  const warehouse = await DuckDBWarehouse.open(project.config.warehouseFile);
  const { keys } = selectAssets(project.graph, SELECTION);
  if ([...keys].sort().join() !== [...CHAIN_KEYS].sort().join()) throw new Error(`"${SELECTION}" selects ${keys.join(', ')}, not the chain`);
  const timers = profile ? new Timers() : undefined;
  const storage = timers ? timers.storage(opened) : opened;
  if (timers) timers.warehouse(warehouse);
  try {
    const planMs = profile ? timePlan(project, grouping) : 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const outcome = await startBackfill(
      { project, storage, warehouse, landing: new FileLandingZone(project.config.landingDir), now: NOW },
      { selection: SELECTION, keys, from: YEAR.first, to: YEAR.last, mode: 'all', grouping },
    );
    timers?.stop();
    // Whatever the run left in the WAL is written to the file here (`assets backfill` pays this when it closes the warehouse).
    const checkpointStarted = performance.now();
    await warehouse.query('CHECKPOINT');
    const checkpointMs = performance.now() - checkpointStarted;
    const ms = performance.now() - started;
    const cpuUsed = cpuMs(cpu);
    const steps = outcome.run?.steps.length ?? 0;
    if (outcome.backfill.status !== 'success') {
      throw new Error(`backfill (${name}) ended ${outcome.backfill.status}: ${outcome.run?.error ?? outcome.backfill.error ?? ''}`);
    }
    const expectedSteps = grouping === 'policy' ? CHAIN.length : CHAIN.length * YEAR.days;
    if (steps !== expectedSteps) throw new Error(`backfill (${name}) ran ${steps} steps, expected ${expectedSteps}`);
    const digests = await digestAll(async (sql) => (await warehouse.query(sql))[0] as Record<string, unknown>);
    return {
      figures: {
        ms,
        checkpointMs,
        cpuMs: cpuUsed,
        steps,
        status: outcome.backfill.status,
        loadMs,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        ...(timers ? { profile: { planMs, ...timers.result() } } : {}),
      },
      digests,
    };
  } finally {
    warehouse.close();
    await opened.close();
  }
}

/** strata.json and the four SQL files (raw source + chain) of a project in `dir`. */
function writeProject(dir: string, rawSql: string): void {
  mkdirSync(join(dir, '.strata'), { recursive: true });
  writeFileSync(
    join(dir, 'strata.json'),
    JSON.stringify({ name: 'bench-backfill', assets: 'defs', storage: '.strata/strata.db', warehouse: '.strata/warehouse.duckdb' }),
  );
  for (const { key, sql } of [{ key: 'raw/orders', sql: rawSql }, ...CHAIN]) {
    const file = join(dir, 'defs', `${key}.sql`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, sql);
  }
}

/** Planning alone, as startBackfill does it (pure, so it can be timed apart). */
function timePlan(project: Project, grouping: 'policy' | 'per_partition'): number {
  const started = performance.now();
  buildPlan(project.graph, CHAIN_KEYS, { now: NOW, partitions: { from: YEAR.first, to: YEAR.last }, skip: () => false, grouping });
  return performance.now() - started;
}

/** Row count and checksum of every chain table. */
async function digestAll(first: (sql: string) => Promise<Record<string, unknown>>): Promise<Record<string, TableDigest>> {
  const digests: Record<string, TableDigest> = {};
  for (const key of CHAIN_KEYS) {
    const row = await first(`SELECT count(*) AS n, coalesce(sum(hash(t)), 0)::VARCHAR AS h FROM ${qualifiedTableName(key)} AS t`);
    digests[key] = { rows: Number(row.n), checksum: String(row.h) };
  }
  return digests;
}

/** CPU time (user + system, all threads) since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function readFirst(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJS()[0] as Record<string, unknown>;
}

async function withDatabase<T>(file: string, fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Busy time of DuckDB statements (by kind) and storage calls (by method) during a run. */
class Timers {
  readonly #duckdb: Record<string, { ms: number; calls: number }> = {};
  readonly #storage: Record<string, { ms: number; calls: number }> = {};
  #stopped = false;

  /** Stops timing (the checks after the run are not part of it). */
  stop(): void {
    this.#stopped = true;
  }

  /** A storage whose every method call is timed. */
  storage(target: Storage): Storage {
    const table = this.#storage;
    return new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => timed(table, String(prop), () => (value as (...a: unknown[]) => unknown).apply(t, args));
      },
    });
  }

  /** Times every statement the warehouse's connections run, by its first words. */
  warehouse(warehouse: DuckDBWarehouse): void {
    const table = this.#duckdb;
    const acquire = warehouse.acquire.bind(warehouse);
    // Released connections go back to the pool as proxies: wrap each connection once.
    const proxies = new WeakSet<DuckDBConnection>();
    const timers = this;
    warehouse.acquire = async () => {
      const connection = await acquire();
      if (proxies.has(connection)) return connection;
      const proxy = new Proxy(connection, {
        get(t, prop) {
          const value = Reflect.get(t, prop, t) as unknown;
          if (typeof value !== 'function') return value;
          if (prop !== 'run' && prop !== 'runAndReadAll') return (value as (...a: unknown[]) => unknown).bind(t);
          const call = (sql: string, ...rest: unknown[]) => (value as (...a: unknown[]) => unknown).call(t, sql, ...rest);
          return (sql: string, ...rest: unknown[]) => (timers.#stopped ? call(sql, ...rest) : timed(table, statementKind(sql), () => call(sql, ...rest)));
        },
      });
      proxies.add(proxy);
      return proxy;
    };
  }

  result(): { duckdb: EngineProfile['duckdb']; storage: EngineProfile['storage'] } {
    return { duckdb: this.#duckdb, storage: this.#storage };
  }
}

function timed<T>(table: Record<string, { ms: number; calls: number }>, name: string, fn: () => T): T {
  const started = performance.now();
  const add = () => {
    const entry = (table[name] ??= { ms: 0, calls: 0 });
    entry.ms += performance.now() - started;
    entry.calls++;
  };
  const result = fn();
  if (result instanceof Promise) return result.finally(add) as T;
  add();
  return result;
}

/** `staging create if not exists`, `marts insert by name`, `commit`: the step's table (when named) and the statement. */
function statementKind(sql: string): string {
  const text = sql.trim().replace(/\s+/g, ' ');
  // The engine quotes the step's table; the user's SQL in it does not quote the tables it reads.
  const table = new RegExp(`"(${CHAIN_KEYS.map((k) => k.split('/')[0]).join('|')})"\\.`).exec(text)?.[1];
  return table ? `${table} ${statementName(text)}` : statementName(text);
}

function statementName(text: string): string {
  if (/^CREATE TABLE IF NOT EXISTS/i.test(text)) return 'create if not exists (LIMIT 0)';
  if (/^INSERT INTO/i.test(text)) return 'insert by name';
  if (/^DELETE FROM/i.test(text)) return 'delete window';
  if (/^SELECT w\.k, count/i.test(text) || /GROUP BY 1$/i.test(text)) return 'count rows per partition';
  return text.split(' ').slice(0, 2).join(' ').toLowerCase();
}
