/**
 * The `assets` CLI on a copy of the bundled example, whose raw, staging, mart and feature
 * assets are partitioned by business day (2025) and one mart by month. Three days of landing
 * files are generated; a backfill builds the marts and everything upstream for those days.
 * Checks the DuckDB warehouse and the SQLite storage it wrote, that one step per partition
 * writes the same tables as one step per range, that re-running a partition changes nothing,
 * then the read-only commands (status with partition counts, runs, lineage, list, dry run).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, querySqlite, queryDuckDb, runCli, Sandbox, stackFrames, stateFiles, tableChecksums, type CliResult } from './cli-harness.ts';

/** The days with landing files: the first three daily partitions. */
const DAYS = ['2025-01-01', '2025-01-02', '2025-01-03'];
const RANGE = ['--from', DAYS[0] as string, '--to', DAYS.at(-1) as string];

const MARTS = [
  'marts/daily_revenue_by_location',
  'marts/dim_locations',
  'marts/dim_menu_items',
  'marts/fct_sales',
  'marts/labor_cost_by_location_daily',
  'marts/monthly_revenue_by_location',
  'marts/payment_mix_daily',
];
/** Marts that the example materializes as views. */
const VIEWS = ['marts/dim_locations'];
/** Assets of `+marts/*` partitioned by day, with the column that places a row in its partition. */
const DAILY: Readonly<Record<string, string>> = {
  'raw/order_items': '_file_date',
  'raw/orders': '_file_date',
  'raw/payments': '_file_date',
  'raw/time_entries': '_file_date',
  'staging/order_items': 'business_date',
  'staging/orders': 'business_date',
  'staging/payments': 'business_date',
  'staging/time_entries': 'business_date',
  'marts/daily_revenue_by_location': 'business_date',
  'marts/fct_sales': 'business_date',
  'marts/labor_cost_by_location_daily': 'business_date',
  'marts/payment_mix_daily': 'business_date',
};
const MONTHLY = 'marts/monthly_revenue_by_location';
const UNPARTITIONED = ['marts/dim_locations', 'marts/dim_menu_items', 'raw/locations', 'raw/menu_items', 'staging/locations', 'staging/menu_items'];
/** Asset partitions the backfill writes: 12 daily assets × 3 days, January, 6 unpartitioned assets. */
const PARTITIONS = Object.keys(DAILY).length * DAYS.length + 1 + UNPARTITIONED.length;

let sandbox: Sandbox;
let project: string;
let backfilled: CliResult;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(DAYS.length);
  project = sandbox.copyExample('example');
  backfilled = runCli(['backfill', '--select', '+marts/*', ...RANGE, '--project', project]);
});

afterAll(() => sandbox?.cleanup());

interface RunRow {
  id: string;
  status: string;
  trigger: string;
  selection: string;
  asset_keys: string;
  error: string | null;
}

interface MaterializationRow {
  asset_key: string;
  partition_key: string;
  run_id: string;
  row_count: number | null;
}

function runs(): RunRow[] {
  return querySqlite<RunRow>(stateFiles(project).storage, 'select id, status, trigger, selection, asset_keys, error from runs order by created_at');
}

function onlyRun(): RunRow {
  const all = runs();
  expect(all).toHaveLength(1);
  return all[0] as RunRow;
}

function materializations(): MaterializationRow[] {
  return querySqlite<MaterializationRow>(
    stateFiles(project).storage,
    'select asset_key, partition_key, run_id, row_count from materializations order by asset_key, partition_key, id',
  );
}

const table = (key: string) => key.replace('/', '.');

describe(`assets backfill --select '+marts/*' --from ${DAYS[0]} --to ${DAYS.at(-1)}`, () => {
  it('exits 0 and reports one step per asset: a range for the single-run assets, January for the monthly one', () => {
    expect(backfilled.stderr).toBe('');
    expect(backfilled.status).toBe(0);
    const { stdout } = backfilled;
    for (const key of Object.keys(DAILY)) expect(stdout).toMatch(new RegExp(`✓ ${key}@2025-01-01\\.\\.2025-01-03\\s`));
    expect(stdout).toMatch(new RegExp(`✓ ${MONTHLY}@2025-01-01\\s`));
    for (const key of UNPARTITIONED) expect(stdout).toMatch(new RegExp(`✓ ${key}\\s`));
    expect(stdout).toMatch(new RegExp(`Backfill [0-9a-f]{8} succeeded: ${PARTITIONS}/${PARTITIONS} partitions done in `));
    expect(stdout).not.toMatch(/✗|skipped|failed/);
    expect(stackFrames(stdout + backfilled.stderr)).toEqual([]);
  });

  it('writes every mart for the three days, fct_sales with one row per item of a non-voided order', async () => {
    const { warehouse } = stateFiles(project);
    const tables = await queryDuckDb(
      warehouse,
      `select table_name, table_type from information_schema.tables where table_schema = 'marts' order by table_name`,
    );
    const counts = await queryDuckDb(warehouse, MARTS.map((key) => `select '${key}' as key, count(*) as n from ${table(key)}`).join(' union all '));
    const [expected] = await queryDuckDb(
      warehouse,
      `select
         (select count(*) from marts.fct_sales) as fct_sales,
         (select count(*) from staging.order_items as i join staging.orders as o on o.order_id = i.order_id where not o.is_voided) as items_on_valid_orders,
         (select count(*) from staging.order_items) as all_items,
         (select count(*) from staging.orders where is_voided) as voided_orders`,
    );
    expect(tables).toEqual(MARTS.map((key) => ({ table_name: key.split('/')[1], table_type: VIEWS.includes(key) ? 'VIEW' : 'BASE TABLE' })));
    for (const row of counts) expect(row.n, String(row.key)).toBeGreaterThan(0);

    expect(expected?.fct_sales).toBe(expected?.items_on_valid_orders);
    // The data has voided orders with items, so the filter is really tested.
    expect(expected?.voided_orders).toBeGreaterThan(0);
    expect(expected?.all_items).toBeGreaterThan(Number(expected?.fct_sales));

    // Every partitioned table holds exactly the three days, by its partition column.
    for (const [key, column] of Object.entries(DAILY)) {
      const days = await queryDuckDb(warehouse, `select distinct ${column}::varchar as day from ${table(key)} order by 1`);
      expect(
        days.map((d) => d.day),
        key,
      ).toEqual(DAYS);
    }
  });

  it('keeps the latest export of an order re-sent the next day, once', async () => {
    const [orders] = await queryDuckDb(
      stateFiles(project).warehouse,
      `select
         count(*) as orders,
         count(distinct order_id) as distinct_orders,
         count(*) filter (where business_date = date '2025-01-01' and _source_file = 'orders_2025-01-02.csv') as resent,
         count(*) filter (where is_open and business_date < date '2025-01-03') as open_before_last_day
       from staging.orders`,
    );
    expect(orders?.orders).toBe(orders?.distinct_orders);
    expect(orders?.resent).toBeGreaterThan(0);
    expect(orders?.open_before_last_day).toBe(0);
  });

  it('rolls the days up into January in the monthly mart', async () => {
    const rows = await queryDuckDb(
      stateFiles(project).warehouse,
      `select
         m.month_start::varchar as month, m.trading_days, m.orders = d.orders as same_orders, m.net_sales = d.net_sales as same_sales
       from marts.monthly_revenue_by_location as m
       join (select location_id, sum(orders) as orders, sum(net_sales) as net_sales from marts.daily_revenue_by_location group by 1) as d
         using (location_id)`,
    );
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row).toEqual({ month: '2025-01-01', trading_days: 3, same_orders: true, same_sales: true });
  });

  it('records one backfill run and one materialization per asset partition, with the row counts in DuckDB', async () => {
    const run = onlyRun();
    expect(run).toMatchObject({ status: 'success', trigger: 'backfill', selection: '+marts/*', error: null });
    const keys = JSON.parse(run.asset_keys) as string[];
    expect(keys).toHaveLength(19);
    expect([...keys].filter((k) => k.startsWith('marts/')).sort()).toEqual(MARTS);

    const rows = materializations();
    expect(rows).toHaveLength(PARTITIONS);
    for (const m of rows) expect(m.run_id).toBe(run.id);
    const partitionsOf = (key: string) => rows.filter((m) => m.asset_key === key).map((m) => m.partition_key);
    for (const key of Object.keys(DAILY)) expect(partitionsOf(key), key).toEqual(DAYS);
    expect(partitionsOf(MONTHLY)).toEqual(['2025-01-01']);
    for (const key of UNPARTITIONED) expect(partitionsOf(key), key).toEqual(['']);

    // Row counts per partition, as DuckDB counts them by the partition column.
    const counted = await queryDuckDb(
      stateFiles(project).warehouse,
      [
        ...Object.entries(DAILY).map(([key, column]) => `select '${key}' as key, ${column}::varchar as p, count(*) as n from ${table(key)} group by all`),
        `select '${MONTHLY}' as key, month_start::varchar as p, count(*) as n from ${table(MONTHLY)} group by all`,
        ...UNPARTITIONED.filter((k) => !VIEWS.includes(k)).map((key) => `select '${key}' as key, '' as p, count(*) as n from ${table(key)}`),
      ].join(' union all '),
    );
    const countOf = new Map(counted.map((r) => [`${r.key}@${r.p}`, r.n]));
    for (const m of rows) {
      const id = `${m.asset_key}@${m.partition_key}`;
      expect(m.row_count, id).toBe(VIEWS.includes(m.asset_key) ? null : countOf.get(id));
    }
  });

  it('--per-partition (one step per day) writes exactly the same tables', async () => {
    const perPartition = sandbox.copyExample('per-partition');
    const result = runCli(['backfill', '--select', '+marts/*', ...RANGE, '--per-partition', '--project', perPartition]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    for (const day of DAYS) expect(result.stdout).toMatch(new RegExp(`✓ staging/orders@${day}\\s`));
    expect(result.stdout).toContain(`succeeded: ${PARTITIONS}/${PARTITIONS} partitions done`);

    const [single, perDay] = await Promise.all([tableChecksums(stateFiles(project).warehouse), tableChecksums(stateFiles(perPartition).warehouse)]);
    expect(Object.keys(single)).toHaveLength(19);
    expect(perDay).toEqual(single);
  });
});

describe('read-only commands after the backfill', () => {
  interface StatusRow {
    key: string;
    state: string;
    runId: string | null;
    rowCount: number | null;
    codeVersion: string | null;
    partitions: null | { total: number; materialized: number; missing: number; failed: number; missingRanges: { from: string; to: string; count: number }[] };
  }

  it('status --json shows partition counts and the missing ranges of the partitioned assets', () => {
    const result = runCli(['status', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const status = parseJson<StatusRow[]>(result);
    const byKey = new Map(status.map((s) => [s.key, s]));
    const run = onlyRun();

    expect(status).toHaveLength(27);
    // The landing files are source assets: observed, one partition per file present.
    expect(byKey.get('landing/orders')).toMatchObject({ state: 'partial', runId: null, partitions: { total: 365, materialized: 3, missing: 362 } });
    expect(byKey.get('landing/locations')).toMatchObject({ state: 'observed', partitions: null });
    for (const key of Object.keys(DAILY)) {
      expect(byKey.get(key), key).toMatchObject({
        state: 'partial',
        runId: run.id,
        partitions: { total: 365, materialized: 3, missing: 362, failed: 0, missingRanges: [{ from: '2025-01-04', to: '2025-12-31', count: 362 }] },
      });
    }
    expect(byKey.get(MONTHLY)).toMatchObject({
      state: 'partial',
      partitions: { total: 12, materialized: 1, missing: 11, failed: 0, missingRanges: [{ from: '2025-02-01', to: '2025-12-01', count: 11 }] },
    });
    for (const key of ['features/location_daily_features', 'features/menu_item_popularity']) {
      expect(byKey.get(key), key).toMatchObject({
        state: 'missing',
        runId: null,
        partitions: { total: 365, materialized: 0, missing: 365, missingRanges: [{ from: '2025-01-01', to: '2025-12-31', count: 365 }] },
      });
    }
    const rowCounts = new Map<string, number>();
    for (const m of materializations()) rowCounts.set(m.asset_key, (rowCounts.get(m.asset_key) ?? 0) + (m.row_count ?? 0));
    for (const key of UNPARTITIONED) {
      const s = byKey.get(key);
      expect(s, key).toMatchObject({ state: 'fresh', runId: run.id, partitions: null });
      expect(s?.rowCount, key).toBe(VIEWS.includes(key) ? null : rowCounts.get(key));
    }
    for (const key of Object.keys(DAILY)) expect(byKey.get(key)?.rowCount, key).toBe(rowCounts.get(key));
    for (const s of status) expect(s.codeVersion, s.key).toMatch(/^[0-9a-f]{12}$/);
    // Assets built by one factory (the raw loaders) still get their own versions.
    const raw = status.filter((s) => s.key.startsWith('raw/'));
    expect(new Set(raw.map((s) => s.codeVersion)).size).toBe(raw.length);

    const human = runCli(['status', '--project', project]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/staging\/orders\s+partial\s+3\/365\s.*2025-01-04\.\.2025-12-31/);
    expect(human.stdout).toMatch(/marts\/monthly_revenue_by_location\s+partial\s+1\/12\s/);
  });

  it('runs --json lists the backfill run; runs show PREFIX prints it with its events', () => {
    const run = onlyRun();
    const list = runCli(['runs', '--json', '--project', project]);
    expect(list.status).toBe(0);
    const listed = parseJson<{ id: string; status: string; selection: string; assetKeys: string[]; startedAt: number; endedAt: number }[]>(list);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: run.id, status: 'success', selection: '+marts/*', trigger: 'backfill', error: null });
    expect(listed[0]?.assetKeys).toEqual(JSON.parse(run.asset_keys));
    expect(listed[0]?.endedAt).toBeGreaterThanOrEqual(listed[0]?.startedAt ?? Infinity);

    const show = runCli(['runs', 'show', run.id.slice(0, 8), '--json', '--project', project]);
    expect(show.status).toBe(0);
    const shown = parseJson<{ run: { id: string; status: string }; events: { type: string; assetKey: string | null }[] }>(show);
    expect(shown.run).toMatchObject({ id: run.id, status: 'success' });
    expect(shown.events[0]?.type).toBe('run_start');
    expect(shown.events.at(-1)?.type).toBe('run_success');
    // One step per asset: a range step records one start, one materialization event and one success.
    const assets = [...new Set(materializations().map((m) => m.asset_key))];
    for (const type of ['step_start', 'materialization', 'step_success']) {
      expect(
        shown.events
          .filter((e) => e.type === type)
          .map((e) => e.assetKey)
          .sort(),
        type,
      ).toEqual(assets);
    }
    expect(shown.events.some((e) => e.type === 'step_failure' || e.type === 'step_skipped')).toBe(false);

    const human = runCli(['runs', 'show', run.id.slice(0, 6), '--project', project]);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`Run ${run.id}  success`);
    expect(human.stdout).toContain('selection +marts/* · trigger backfill');
    expect(human.stdout).toMatch(/run_success\s+run succeeded/);
  });

  it('lineage marts/fct_sales --json gives upstream and downstream with depths and the edges between them', () => {
    const result = runCli(['lineage', 'marts/fct_sales', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const lineage = parseJson<{
      key: string;
      upstream: { key: string; depth: number }[];
      downstream: { key: string; depth: number }[];
      edges: { upstream: string; downstream: string }[];
    }>(result);
    const byKey = (list: { key: string; depth: number }[]) => Object.fromEntries(list.map((x) => [x.key, x.depth]));

    expect(lineage.key).toBe('marts/fct_sales');
    expect(byKey(lineage.upstream)).toEqual({
      'marts/dim_menu_items': 1,
      'staging/order_items': 1,
      'staging/orders': 1,
      'staging/menu_items': 2,
      'raw/order_items': 2,
      'raw/orders': 2,
      'raw/menu_items': 3,
      'landing/order_items': 3,
      'landing/orders': 3,
      'landing/menu_items': 4,
    });
    expect(byKey(lineage.downstream)).toEqual({
      'features/menu_item_popularity': 1,
      'marts/daily_revenue_by_location': 1,
      'features/location_daily_features': 2,
      'marts/monthly_revenue_by_location': 2,
    });
    const edges = lineage.edges.map((e) => `${e.upstream} -> ${e.downstream}`);
    expect(new Set(edges).size).toBe(edges.length);
    for (const edge of [
      'marts/dim_menu_items -> marts/fct_sales',
      'staging/order_items -> marts/fct_sales',
      'staging/orders -> marts/fct_sales',
      'staging/orders -> staging/order_items',
      'staging/menu_items -> marts/dim_menu_items',
      'raw/menu_items -> staging/menu_items',
      'raw/orders -> staging/orders',
      'raw/order_items -> staging/order_items',
      'marts/fct_sales -> marts/daily_revenue_by_location',
      'marts/fct_sales -> features/menu_item_popularity',
      'marts/daily_revenue_by_location -> features/location_daily_features',
      'marts/daily_revenue_by_location -> marts/monthly_revenue_by_location',
    ]) {
      expect(edges).toContain(edge);
    }
    const members = new Set([lineage.key, ...lineage.upstream.map((u) => u.key), ...lineage.downstream.map((d) => d.key)]);
    for (const e of lineage.edges) expect(members.has(e.upstream) && members.has(e.downstream), `${e.upstream} -> ${e.downstream}`).toBe(true);
  });

  it("list --select 'group:staging' --json lists the staging assets in dependency order", () => {
    const result = runCli(['list', '--select', 'group:staging', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const listed =
      parseJson<
        { key: string; group: string; kinds: string[]; file: string; upstream: string[]; codeVersion: string; owners: string[]; partitionColumn?: string }[]
      >(result);
    const names = ['locations', 'menu_items', 'orders', 'time_entries', 'order_items', 'payments'];
    expect(listed.map((a) => a.key)).toEqual(names.map((n) => `staging/${n}`));
    for (const a of listed) {
      const name = a.key.split('/')[1];
      expect(a).toMatchObject({ group: 'staging', kinds: ['sql', 'duckdb'], file: `defs/staging/${name}.sql`, owners: ['data-eng@bistro.example'] });
      expect(a.upstream).toContain(`raw/${name}`);
      // Items and payments take their business date from their order.
      expect(a.upstream.filter((u) => !u.startsWith('raw/'))).toEqual(['order_items', 'payments'].includes(name ?? '') ? ['staging/orders'] : []);
      expect(a.partitionColumn).toBe(['locations', 'menu_items'].includes(name ?? '') ? undefined : 'business_date');
      expect(a.codeVersion).toMatch(/^[0-9a-f]{12}$/);
    }
  });

  it("materialize --select 'marts/*' --dry-run prints the plan, a whole-year step per single-run asset, and writes nothing", () => {
    const before = { runs: runs().length, materializations: materializations().length, warehouse: fs.statSync(stateFiles(project).warehouse).mtimeMs };
    const result = runCli(['materialize', '--select', 'marts/*', '--dry-run', '--project', project]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#\s+STEP\s+KINDS\s+BUILD\s+WAITS FOR$/);
    const year = '2025-01-01..2025-12-31';
    expect(lines.slice(1, -1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['1', 'marts/dim_locations', 'sql, duckdb', 'full', '-'],
      ['2', 'marts/dim_menu_items', 'sql, duckdb', 'full', '-'],
      ['3', `marts/labor_cost_by_location_daily@${year}`, 'sql, duckdb', 'partitions', '-'],
      ['4', `marts/fct_sales@${year}`, 'sql, duckdb', 'partitions', 'marts/dim_menu_items'],
      ['5', `marts/payment_mix_daily@${year}`, 'typescript', 'partitions', '-'],
      ['6', `marts/daily_revenue_by_location@${year}`, 'sql, duckdb', 'partitions', `marts/dim_locations, marts/fct_sales@${year}`],
      ['7', 'marts/monthly_revenue_by_location@2025-01-01..2025-12-01', 'sql, duckdb', 'partitions', `marts/daily_revenue_by_location@${year}`],
    ]);
    expect(lines.at(-1)).toBe('dry run: 7 steps, nothing written');
    expect({ runs: runs().length, materializations: materializations().length, warehouse: fs.statSync(stateFiles(project).warehouse).mtimeMs }).toEqual(before);

    const json = parseJson<{ selection: string; steps: { id: string; key: string; partitions: string[] | null; waitsFor: string[] }[] }>(
      runCli(['materialize', '--select', 'marts/*', '--dry-run', '--json', '--project', project]),
    );
    expect(json.selection).toBe('marts/*');
    expect(json.steps.map((s) => s.id)).toEqual(lines.slice(1, -1).map((l) => l.split(/\s{2,}/)[1]));
    expect(json.steps.find((s) => s.key === 'marts/fct_sales')?.partitions).toHaveLength(365);
    expect(json.steps.find((s) => s.key === MONTHLY)?.partitions).toHaveLength(12);
    expect(json.steps.find((s) => s.key === 'marts/dim_locations')?.partitions).toBeNull();
  });

  it('a dry run on a fresh project creates no warehouse and no storage', () => {
    const fresh = sandbox.copyExample('fresh');
    const result = runCli(['materialize', '--select', '+marts/fct_sales', '--partition', '2025-01-02', '--dry-run', '--project', fresh]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/marts\/fct_sales@2025-01-02\s/);
    expect(result.stdout).toMatch(/dry run: \d+ steps, nothing written/);
    expect(fs.existsSync(stateFiles(fresh).warehouse)).toBe(false);
    expect(fs.existsSync(stateFiles(fresh).storage)).toBe(false);
  });
});

describe('materialize --partition on materialized partitions', () => {
  it('re-running a day replaces its rows: every table keeps the same contents, no duplicates', async () => {
    const before = await tableChecksums(stateFiles(project).warehouse);
    const selection = '(raw/orders or raw/order_items or staging/orders+) and not group:features and not marts/monthly_revenue_by_location';
    const result = runCli(['materialize', '--select', selection, '--partition', '2025-01-02', '--project', project]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    for (const key of ['raw/orders', 'staging/orders', 'staging/order_items', 'marts/fct_sales', 'marts/daily_revenue_by_location']) {
      expect(result.stdout).toMatch(new RegExp(`✓ ${key}@2025-01-02\\s`));
    }
    expect(await tableChecksums(stateFiles(project).warehouse)).toEqual(before);

    const [fct] = await queryDuckDb(stateFiles(project).warehouse, 'select count(*) as n, count(distinct order_item_id) as d from marts.fct_sales');
    expect(fct?.n).toBe(fct?.d);
    const latest = runs().at(-1) as RunRow;
    expect(latest).toMatchObject({ status: 'success', trigger: 'manual' });
    const rewritten = materializations().filter((m) => m.run_id === latest.id);
    expect(new Set(rewritten.map((m) => m.partition_key))).toEqual(new Set(['2025-01-02']));
    expect(rewritten.map((m) => m.asset_key)).toContain('marts/fct_sales');
  });
});
