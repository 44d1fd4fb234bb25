/**
 * The Postgres ELT example (examples/postgres-elt) end to end, against the test cluster: its
 * scripts create the shop and simulate a day; the real CLI loads it, then loads only the day's
 * changed rows (the raw assets' incremental counts are exactly the changed rows), the snapshot
 * keeps the old and new versions of an edited customer and closes the erased one, and
 * `--full-refresh` (without the snapshot) drops the hard-deleted rows from raw and rebuilds models
 * equal to those of the incremental load.
 *
 * The shop lives in the schema `shop` of the test cluster, which no other test uses; create-shop.ts
 * drops and recreates it, so every run starts from the same database.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { parseJson, queryDuckDb, querySqlite, REPO_ROOT, runCli, Sandbox, stateFiles, tableChecksums } from './cli-harness.ts';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'postgres-elt');
const TABLES = ['customers', 'products', 'orders'] as const;
const missing = postgresMissing();
let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

/** Runs one of the example's scripts as a process (`node --import tsx`) and returns what it printed. */
function runScript(name: string): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(EXAMPLE, 'scripts', name)], {
    cwd: REPO_ROOT,
    env: { ...process.env, SHOP_DB_URL: postgresUrl() },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status, `${name}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** `assets materialize --select '*'` (or `args`), which must succeed; returns the run id. */
function materialize(project: string, ...args: string[]): string {
  const result = runCli(['materialize', ...(args.length > 0 ? args : ['--select', '*']), '--json', '--project', project], { SHOP_DB_URL: postgresUrl() });
  expect(result.status, result.stderr + result.stdout).toBe(0);
  return parseJson<{ runId: string }>(result).runId;
}

/** The assets `assets status --stale` reports (the shop's tables are observed first). */
function staleAssets(project: string): string[] {
  const result = runCli(['status', '--stale', '--json', '--project', project], { SHOP_DB_URL: postgresUrl() });
  expect(result.status, result.stderr).toBe(0);
  return [...new Set(parseJson<{ key: string }[]>(result).map((s) => s.key))].sort();
}

/** The incremental counts a run recorded for the raw assets, by asset. */
function rawCounts(project: string, runId: string): Record<string, unknown> {
  const rows = querySqlite<{ asset_key: string; metadata: string }>(
    stateFiles(project).storage,
    `select asset_key, metadata from materializations where run_id = ? and asset_key in ('raw/customers', 'raw/products', 'raw/orders')`,
    runId,
  );
  return Object.fromEntries(
    rows.map((r) => {
      const { build, rowsInserted, rowsUpdated, rowsDeleted } = JSON.parse(r.metadata) as Record<string, unknown>;
      return [r.asset_key, { build, rowsInserted, rowsUpdated, rowsDeleted }];
    }),
  );
}

/** The checksums of the staging, intermediate and mart tables (the raw layer is left out). */
async function modelChecksums(project: string): Promise<Record<string, string>> {
  const sums = await tableChecksums(stateFiles(project).warehouse);
  return Object.fromEntries(Object.entries(sums).filter(([name]) => /^(staging|intermediate|marts)\./.test(name)));
}

/** Rows of the project's warehouse. */
function warehouse(project: string, sql: string): Promise<Record<string, unknown>[]> {
  return queryDuckDb(stateFiles(project).warehouse, sql);
}

describe.skipIf(missing !== undefined)(`the postgres-elt example${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('loads the shop, then only a day of changes; the models equal a from-scratch build; the snapshot keeps history; --full-refresh drops hard deletes', async () => {
    expect(runScript('create-shop.ts')).toContain('shop: 600 customers, 40 products, 4000 orders');
    const project = sandbox.copyProject(EXAMPLE, 'incremental');
    const first = materialize(project);
    const full = (n: number) => ({ build: 'full', rowsInserted: n, rowsUpdated: 0, rowsDeleted: 0 });
    expect(rawCounts(project, first)).toEqual({ 'raw/customers': full(600), 'raw/products': full(40), 'raw/orders': full(4000) });

    // What the day will change: rows past the watermark, new when their id is past the last one.
    const [last] = await postgresRows<Record<string, number | string>>(
      `select ${TABLES.map((t) => `(select max(id) from shop.${t}) as ${t}_id, (select max(updated_at)::text from shop.${t}) as ${t}_at`).join(', ')}`,
    );
    expect(staleAssets(project)).toEqual([]);
    const printed = runScript('simulate-day.ts');
    // The observed shop tables changed: every raw asset is stale, and so is all that reads them.
    expect(staleAssets(project)).toEqual(
      expect.arrayContaining(['raw/customer_ids', 'raw/customers', 'raw/order_ids', 'raw/orders', 'raw/products', 'marts/fct_sales']),
    );
    expect(printed).toContain('1 deleted (customer 3, with ');
    const expected: Record<string, unknown> = {};
    for (const t of TABLES) {
      const [changed] = await postgresRows<{ inserted: number; updated: number }>(
        `select count(*) filter (where id > $1)::int as inserted, count(*) filter (where id <= $1)::int as updated from shop.${t} where updated_at > $2::timestamptz`,
        [last?.[`${t}_id`], last?.[`${t}_at`]],
      );
      expected[`raw/${t}`] = { build: 'incremental', rowsInserted: changed?.inserted, rowsUpdated: changed?.updated, rowsDeleted: 0 };
      expect(changed?.inserted, t).toBeGreaterThan(0);
      expect(changed?.updated, t).toBeGreaterThan(0);
    }

    // The second load moves exactly the changed rows.
    const second = materialize(project);
    expect(rawCounts(project, second)).toEqual(expected);

    // The marts agree with the shop; raw still holds the erased customer and orders, staging drops
    // them (all models are compared with a full rebuild below).
    const [shop] = await postgresRows<Record<string, number>>(
      `select (select count(*) from shop.customers)::int as customers, count(*)::int as sales, sum(quantity * unit_price)::float8 as revenue from shop.orders where status <> 'cancelled'`,
    );
    expect(
      await warehouse(
        project,
        `select (select count(*) from marts.dim_customers)::int as customers, count(*)::int as sales, sum(revenue)::double as revenue from marts.fct_sales`,
      ),
    ).toEqual([shop]);
    const afterIncremental = await modelChecksums(project);
    expect(Object.keys(afterIncremental)).toHaveLength(6);
    const [erased] = await warehouse(project, `select count(*) filter (where customer_id = 3)::int as orders from raw.orders`);
    expect(erased?.orders).toBeGreaterThan(0);
    expect(await warehouse(project, `select count(*)::int as n from raw.customers where id = 3`)).toEqual([{ n: 1 }]);

    // The snapshot: an edited customer has its old version closed when the new one starts; the erased one is closed.
    const [edited] = await postgresRows<{ id: number; email: string; at: number }>(
      `select id, email, extract(epoch from updated_at)::float8 as at from shop.customers where created_at < '2025-07-01' and updated_at >= '2025-07-01' order by id limit 1`,
    );
    const versions = await warehouse(
      project,
      `select email, epoch(valid_from) as from_at, epoch(valid_to) as to_at, is_current from snapshots.customers where customer_id = ${edited?.id} order by valid_from`,
    );
    expect(versions).toHaveLength(2);
    expect(versions[0]).toMatchObject({ email: `customer${edited?.id}@mail.example`, to_at: edited?.at, is_current: false });
    expect(versions[1]).toMatchObject({ email: edited?.email, from_at: edited?.at, to_at: null, is_current: true });
    const closed = await warehouse(project, `select valid_to is not null as closed, is_current from snapshots.customers where customer_id = 3`);
    expect(closed).toEqual([{ closed: true, is_current: false }]);
    const [snapshotRows] = await warehouse(project, `select count(*)::int as n from snapshots.customers`);

    // --full-refresh refuses the snapshot's history; without the snapshot it rebuilds, and the hard deletes are gone.
    const refused = runCli(['materialize', '--select', '*', '--full-refresh', '--project', project], { SHOP_DB_URL: postgresUrl() });
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('snapshots/customers');
    const refreshed = materialize(project, '--select', 'not snapshots/*', '--full-refresh');
    const [live] = await postgresRows<Record<string, number>>(
      `select (select count(*) from shop.customers)::int as customers, (select count(*) from shop.products)::int as products, (select count(*) from shop.orders)::int as orders`,
    );
    expect(rawCounts(project, refreshed)).toEqual({
      'raw/customers': full(live!.customers!),
      'raw/products': full(live!.products!),
      'raw/orders': full(live!.orders!),
    });
    expect(
      await warehouse(
        project,
        `select (select count(*) from raw.customers where id = 3)::int as customers, (select count(*) from raw.orders where customer_id = 3)::int as orders`,
      ),
    ).toEqual([{ customers: 0, orders: 0 }]);
    // The models of the incremental load equal those of this from-scratch build of the same database.
    expect(await modelChecksums(project)).toEqual(afterIncremental);
    expect(await warehouse(project, `select count(*)::int as n from snapshots.customers`)).toEqual([snapshotRows]);
  }, 180_000); // four CLI runs and two scripts: 35 s on a busy two-core machine, more beside the whole suite
});
