/**
 * The `assets` CLI on a copy of the bundled example: materialize everything the marts need,
 * check the DuckDB warehouse and the SQLite storage it wrote, then the read-only commands
 * (status, runs, runs show, lineage, list, dry run) against that state.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, querySqlite, queryDuckDb, runCli, Sandbox, stackFrames, stateFiles, type CliResult } from './cli-harness.ts';

const MARTS = [
  'marts/daily_revenue_by_location',
  'marts/dim_locations',
  'marts/dim_menu_items',
  'marts/fct_sales',
  'marts/labor_cost_by_location_daily',
  'marts/payment_mix_daily',
];
/** Marts that the example materializes as views. */
const VIEWS = ['marts/dim_locations'];

let sandbox: Sandbox;
let project: string;
let materialized: CliResult;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(2);
  project = sandbox.copyExample('example');
  materialized = runCli(['materialize', '--select', '+marts/*', '--project', project]);
});

afterAll(() => sandbox?.cleanup());

interface RunRow {
  id: string;
  status: string;
  selection: string;
  asset_keys: string;
  error: string | null;
}

interface MaterializationRow {
  asset_key: string;
  run_id: string;
  row_count: number | null;
}

function runs(): RunRow[] {
  return querySqlite<RunRow>(stateFiles(project).storage, 'select id, status, selection, asset_keys, error from runs');
}

function onlyRun(): RunRow {
  const all = runs();
  expect(all).toHaveLength(1);
  return all[0] as RunRow;
}

function materializations(): MaterializationRow[] {
  return querySqlite<MaterializationRow>(stateFiles(project).storage, 'select asset_key, run_id, row_count from materializations order by asset_key');
}

const table = (key: string) => key.replace('/', '.');

describe("assets materialize --select '+marts/*'", () => {
  it('exits 0 and reports every step', () => {
    expect(materialized.stderr).toBe('');
    expect(materialized.status).toBe(0);
    const { stdout } = materialized;
    expect(stdout).toContain('Materializing 18 assets (+marts/*)');
    for (const key of MARTS) expect(stdout).toMatch(new RegExp(`✓ ${key}\\s`));
    expect(stdout).toMatch(/Run [0-9a-f]{8} succeeded: 18 materialized, [\d,]+ rows in /);
    expect(stdout).not.toMatch(/✗|skipped|failed/);
    expect(stackFrames(stdout + materialized.stderr)).toEqual([]);
  });

  it('writes every mart to the DuckDB warehouse, fct_sales with one row per item of a non-voided order', async () => {
    const { warehouse } = stateFiles(project);
    const tables = await queryDuckDb(warehouse, `select table_name, table_type from information_schema.tables where table_schema = 'marts' order by table_name`);
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
  });

  it('records one successful run and one materialization per asset, with the row counts in DuckDB', async () => {
    const run = onlyRun();
    expect(run).toMatchObject({ status: 'success', selection: '+marts/*', error: null });
    const keys = JSON.parse(run.asset_keys) as string[];
    expect(keys).toHaveLength(18);
    expect([...keys].filter((k) => k.startsWith('marts/')).sort()).toEqual(MARTS);
    expect(keys.filter((k) => k.startsWith('raw/'))).toHaveLength(6);
    expect(keys.filter((k) => k.startsWith('staging/'))).toHaveLength(6);
    expect(materialized.stdout).toContain(`Run ${run.id.slice(0, 8)} succeeded`);

    const rows = materializations();
    expect(rows.map((m) => m.asset_key)).toEqual([...keys].sort());
    const tables = keys.filter((k) => !VIEWS.includes(k));
    const counts = await queryDuckDb(stateFiles(project).warehouse, tables.map((k) => `select '${k}' as key, count(*) as n from ${table(k)}`).join(' union all '));
    const countOf = new Map(counts.map((r) => [r.key, r.n]));
    for (const m of rows) {
      expect(m.run_id).toBe(run.id);
      expect(m.row_count, m.asset_key).toBe(VIEWS.includes(m.asset_key) ? null : countOf.get(m.asset_key));
    }
  });
});

describe('read-only commands after the run', () => {
  it('status --json shows each asset with its last materialization', () => {
    const result = runCli(['status', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const status = parseJson<{ key: string; state: string; runId: string | null; rowCount: number | null; codeVersion: string | null; dataVersion: string | null }[]>(result);
    const run = onlyRun();
    const rowCounts = new Map(materializations().map((m) => [m.asset_key, m.row_count]));

    expect(status).toHaveLength(20);
    const missing = status.filter((s) => s.state === 'missing').map((s) => s.key);
    expect(missing.sort()).toEqual(['features/location_daily_features', 'features/menu_item_popularity']);
    for (const s of status.filter((x) => x.state !== 'missing')) {
      expect(s.state, s.key).toBe('materialized');
      expect(s.runId).toBe(run.id);
      expect(s.rowCount, s.key).toBe(rowCounts.get(s.key));
      expect(s.codeVersion).toMatch(/^[0-9a-f]{12}$/);
      expect(s.dataVersion).toMatch(/^[0-9a-f]{16}$/);
    }
    // Assets built by one factory (the raw loaders) still get their own versions.
    const raw = status.filter((s) => s.key.startsWith('raw/'));
    expect(new Set(raw.map((s) => s.codeVersion)).size).toBe(raw.length);
  });

  it('runs --json lists the run; runs show PREFIX prints it with its events', () => {
    const run = onlyRun();
    const list = runCli(['runs', '--json', '--project', project]);
    expect(list.status).toBe(0);
    const listed = parseJson<{ id: string; status: string; selection: string; assetKeys: string[]; startedAt: number; endedAt: number }[]>(list);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: run.id, status: 'success', selection: '+marts/*', trigger: 'manual', error: null });
    expect(listed[0]?.assetKeys).toEqual(JSON.parse(run.asset_keys));
    expect(listed[0]?.endedAt).toBeGreaterThanOrEqual(listed[0]?.startedAt ?? Infinity);

    const show = runCli(['runs', 'show', run.id.slice(0, 8), '--json', '--project', project]);
    expect(show.status).toBe(0);
    const shown = parseJson<{ run: { id: string; status: string }; events: { type: string; assetKey: string | null }[] }>(show);
    expect(shown.run).toMatchObject({ id: run.id, status: 'success' });
    expect(shown.events[0]?.type).toBe('run_start');
    expect(shown.events.at(-1)?.type).toBe('run_success');
    for (const type of ['step_start', 'materialization', 'step_success']) {
      expect(shown.events.filter((e) => e.type === type).map((e) => e.assetKey).sort(), type).toEqual(materializations().map((m) => m.asset_key));
    }
    expect(shown.events.some((e) => e.type === 'step_failure' || e.type === 'step_skipped')).toBe(false);

    const human = runCli(['runs', 'show', run.id.slice(0, 6), '--project', project]);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`Run ${run.id}  success`);
    expect(human.stdout).toContain('selection +marts/* · trigger manual');
    expect(human.stdout).toMatch(/run_success\s+run succeeded/);
  });

  it('lineage marts/fct_sales --json gives upstream and downstream with depths and the edges between them', () => {
    const result = runCli(['lineage', 'marts/fct_sales', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const lineage = parseJson<{ key: string; upstream: { key: string; depth: number }[]; downstream: { key: string; depth: number }[]; edges: { upstream: string; downstream: string }[] }>(result);
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
    });
    expect(byKey(lineage.downstream)).toEqual({
      'features/menu_item_popularity': 1,
      'marts/daily_revenue_by_location': 1,
      'features/location_daily_features': 2,
    });
    const edges = lineage.edges.map((e) => `${e.upstream} -> ${e.downstream}`);
    expect(new Set(edges).size).toBe(edges.length);
    for (const edge of [
      'marts/dim_menu_items -> marts/fct_sales',
      'staging/order_items -> marts/fct_sales',
      'staging/orders -> marts/fct_sales',
      'staging/menu_items -> marts/dim_menu_items',
      'raw/menu_items -> staging/menu_items',
      'raw/orders -> staging/orders',
      'raw/order_items -> staging/order_items',
      'marts/fct_sales -> marts/daily_revenue_by_location',
      'marts/fct_sales -> features/menu_item_popularity',
      'marts/daily_revenue_by_location -> features/location_daily_features',
    ]) {
      expect(edges).toContain(edge);
    }
    const members = new Set([lineage.key, ...lineage.upstream.map((u) => u.key), ...lineage.downstream.map((d) => d.key)]);
    for (const e of lineage.edges) expect(members.has(e.upstream) && members.has(e.downstream), `${e.upstream} -> ${e.downstream}`).toBe(true);
  });

  it("list --select 'group:staging' --json lists the staging assets in dependency order", () => {
    const result = runCli(['list', '--select', 'group:staging', '--json', '--project', project]);
    expect(result.status).toBe(0);
    const listed = parseJson<{ key: string; group: string; kind: string; file: string; upstream: string[]; codeVersion: string; owners: string[] }[]>(result);
    const names = ['locations', 'menu_items', 'order_items', 'orders', 'payments', 'time_entries'];
    expect(listed.map((a) => a.key)).toEqual(names.map((n) => `staging/${n}`));
    for (const a of listed) {
      const name = a.key.split('/')[1];
      expect(a).toMatchObject({ group: 'staging', kind: 'sql', file: `defs/staging/${name}.sql`, owners: ['data-eng@bistro.example'] });
      expect(a.upstream).toContain(`raw/${name}`);
      expect(a.upstream.every((u) => u.startsWith('raw/'))).toBe(true);
      expect(a.codeVersion).toMatch(/^[0-9a-f]{12}$/);
    }
  });

  it("materialize --select 'marts/*' --dry-run prints the plan and writes nothing", () => {
    const before = { runs: runs().length, materializations: materializations().length, warehouse: fs.statSync(stateFiles(project).warehouse).mtimeMs };
    const result = runCli(['materialize', '--select', 'marts/*', '--dry-run', '--project', project]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#\s+ASSET\s+KIND\s+WAITS FOR$/);
    expect(lines.slice(1, -1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['1', 'marts/dim_locations', 'sql', '-'],
      ['2', 'marts/dim_menu_items', 'sql', '-'],
      ['3', 'marts/labor_cost_by_location_daily', 'sql', '-'],
      ['4', 'marts/payment_mix_daily', 'typescript', '-'],
      ['5', 'marts/fct_sales', 'sql', 'marts/dim_menu_items'],
      ['6', 'marts/daily_revenue_by_location', 'sql', 'marts/dim_locations, marts/fct_sales'],
    ]);
    expect(lines.at(-1)).toBe('dry run: 6 steps, nothing written');
    expect({ runs: runs().length, materializations: materializations().length, warehouse: fs.statSync(stateFiles(project).warehouse).mtimeMs }).toEqual(before);

    const json = parseJson<{ selection: string; steps: { key: string; waitsFor: string[] }[] }>(
      runCli(['materialize', '--select', 'marts/*', '--dry-run', '--json', '--project', project]),
    );
    expect(json.selection).toBe('marts/*');
    expect(json.steps.map((s) => s.key)).toEqual(lines.slice(1, -1).map((l) => l.split(/\s{2,}/)[1]));
    expect(json.steps.find((s) => s.key === 'marts/daily_revenue_by_location')?.waitsFor).toEqual(['marts/dim_locations', 'marts/fct_sales']);
  });

  it('a dry run on a fresh project creates no warehouse and no storage', () => {
    const fresh = sandbox.copyExample('fresh');
    const result = runCli(['materialize', '--select', '+marts/fct_sales', '--dry-run', '--project', fresh]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/dry run: \d+ steps, nothing written/);
    expect(fs.existsSync(stateFiles(fresh).warehouse)).toBe(false);
    expect(fs.existsSync(stateFiles(fresh).storage)).toBe(false);
  });
});
