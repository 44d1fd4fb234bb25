/**
 * dbt Labs' jaffle_shop (examples/jaffle_shop, its files unmodified; only a strata.json pointing
 * the warehouse at Postgres added) built end to end by the `assets` CLI on the Postgres warehouse:
 * the same rows and checksums as on DuckDB (computed from the seed CSVs by jaffle-shop-expected.ts),
 * all 20 schema.yml tests passing, the marts in `target.schema` (the URL's search_path), then a
 * changed seed makes its readers stale and column lineage traces through the models.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRowsAt, postgresUrl } from '../postgres.ts';
import { editFile, parseJson, runCli, Sandbox } from './cli-harness.ts';
import {
  customers,
  expectedChecks,
  expectedCustomers,
  expectedCustomerSums,
  expectedOrders,
  JAFFLE_SHOP,
  METHODS,
  orders,
  payments,
  round,
} from './jaffle-shop-expected.ts';

const missing = postgresMissing();
/** This file's database on the test cluster. */
const DATABASE = `cli_dbt_jaffle_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
/** `target.schema`: the schema of the URL's search_path. */
const TARGET_SCHEMA = 'jaffle';

let sandbox: Sandbox;
let project: string;
let url: string;
let env: Record<string, string>;

const rows = (sql: string) => postgresRowsAt(url, sql);

describe.skipIf(missing !== undefined)(`jaffle_shop, unmodified, on the Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await onPostgres(`create database ${DATABASE}`);
    const parsed = new URL(postgresUrl());
    parsed.pathname = `/${DATABASE}`;
    parsed.searchParams.set('options', `-c search_path=${TARGET_SCHEMA}`);
    url = parsed.toString();
    env = { STRATA_E2E_WAREHOUSE: url };
    sandbox = Sandbox.create();
    project = sandbox.copyProject(JAFFLE_SHOP, 'jaffle_shop');
    fs.writeFileSync(path.join(project, 'strata.json'), JSON.stringify({ name: 'jaffle_shop', dbt: '.', warehouse: 'env:STRATA_E2E_WAREHOUSE' }));
  });

  afterAll(async () => {
    sandbox?.cleanup();
    if (missing === undefined) await onPostgres(`drop database if exists ${DATABASE} with (force)`);
  });

  it("materialize --select '*' builds the 3 seeds, 3 staging views and 2 marts in Postgres", () => {
    const run = runCli(['materialize', '--select', '*', '--project', project], env);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/succeeded: 8 materialized/);
    expect(run.stdout).toContain(`${TARGET_SCHEMA}/customers`);
    expect(fs.existsSync(path.join(project, '.strata', 'warehouse.duckdb'))).toBe(false);
  });

  it('every table and view has the rows the seed CSVs imply; the marts are in target.schema', async () => {
    const count = async (table: string) => Number((await rows(`select count(*)::int as n from ${table}`))[0]?.n);
    expect(await count('seeds.raw_customers')).toBe(customers.length);
    expect(await count('seeds.raw_orders')).toBe(orders.length);
    expect(await count('seeds.raw_payments')).toBe(payments.length);
    expect(await count('staging.stg_customers')).toBe(customers.length);
    expect(await count('staging.stg_orders')).toBe(orders.length);
    expect(await count('staging.stg_payments')).toBe(payments.length);
    const kinds = await rows(
      "select table_schema || '.' || table_name as name, table_type from information_schema.tables where table_schema in ('staging', 'jaffle') order by 1",
    );
    expect(kinds).toEqual([
      { name: 'jaffle.customers', table_type: 'BASE TABLE' },
      { name: 'jaffle.orders', table_type: 'BASE TABLE' },
      { name: 'staging.stg_customers', table_type: 'VIEW' },
      { name: 'staging.stg_orders', table_type: 'VIEW' },
      { name: 'staging.stg_payments', table_type: 'VIEW' },
    ]);
  });

  it('jaffle.customers holds each customer with their first and last order, order count and lifetime value', async () => {
    const customerRows = await rows(
      "select customer_id::int, first_name, last_name, to_char(first_order, 'YYYY-MM-DD') as first_order, to_char(most_recent_order, 'YYYY-MM-DD') as most_recent_order, number_of_orders::int, customer_lifetime_value::float8 from jaffle.customers order by customer_id",
    );
    expect(customerRows.map((r) => ({ ...r, customer_lifetime_value: round(r.customer_lifetime_value as number | null) }))).toEqual(expectedCustomers());
    const [sums] = await rows(
      'select round(sum(customer_lifetime_value)::numeric, 2)::float8 as value, sum(number_of_orders)::int as orders from jaffle.customers',
    );
    expect(sums).toEqual(expectedCustomerSums());
  });

  it('jaffle.orders holds each order with its amount per payment method (the Jinja loop over methods)', async () => {
    const amounts = [...METHODS.map((m) => `${m}_amount`), 'amount'];
    const orderRows = await rows(
      `select order_id::int, customer_id::int, to_char(order_date, 'YYYY-MM-DD') as order_date, status, ${amounts.map((a) => `${a}::float8`).join(', ')} from jaffle.orders order by order_id`,
    );
    const rounded = orderRows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k.endsWith('amount') ? round(v as number) : v])));
    expect(rounded).toEqual(expectedOrders());
  });

  it('every schema.yml test ran as a check on Postgres and passed (20 tests, blocking)', () => {
    const result = runCli(['checks', '--json', '--project', project], env);
    expect(result.status, result.stderr).toBe(0);
    const checks = parseJson<{ assetKey: string; checkName: string; passed: boolean; severity: string }[]>(result);
    expect(checks.map((c) => `${c.assetKey} ${c.checkName}`).sort()).toEqual(expectedChecks(TARGET_SCHEMA));
    expect(checks.every((c) => c.passed && c.severity === 'error')).toBe(true);
  });

  it('lists the seeds and models with kind postgres (not duckdb)', () => {
    const list = runCli(['list', '--json', '--project', project], env);
    expect(list.status, list.stderr).toBe(0);
    const kinds = Object.fromEntries(parseJson<{ key: string; kinds: string[] }[]>(list).map((a) => [a.key, a.kinds]));
    expect(kinds['seeds/raw_orders']).toEqual(['seed', 'postgres', 'dbt']);
    expect(kinds[`${TARGET_SCHEMA}/customers`]).toEqual(['sql', 'postgres', 'dbt']);
  });

  it('lineage --column traces customer_lifetime_value through the staging view to the seed', () => {
    const result = runCli(['lineage', `${TARGET_SCHEMA}/customers`, '--column', 'customer_lifetime_value', '--upstream', '--json', '--project', project], env);
    expect(result.status, result.stderr).toBe(0);
    const lineage = parseJson<{ upstream: { asset: string; column: string; kind: string; depth: number }[] }>(result);
    expect(lineage.upstream.map(({ asset, column, kind, depth }) => ({ asset, column, kind, depth }))).toEqual([
      { asset: 'staging/stg_payments', column: 'amount', kind: 'aggregation', depth: 1 },
      { asset: 'seeds/raw_payments', column: 'amount', kind: 'transformation', depth: 2 },
    ]);
  });

  it('a changed seed makes the models reading it stale; --stale-only rebuilds them on Postgres', async () => {
    expect(parseJson<unknown[]>(runCli(['status', '--stale', '--json', '--project', project], env))).toEqual([]);
    editFile(path.join(project, 'seeds', 'raw_orders.csv'), '99,85,2018-04-09,placed', '99,85,2018-04-09,shipped');
    const status = runCli(['status', '--stale', '--json', '--project', project], env);
    expect(status.status, status.stderr).toBe(0);
    const stale = parseJson<{ key: string }[]>(status);
    expect(stale.map((s) => s.key).sort()).toEqual([`${TARGET_SCHEMA}/customers`, `${TARGET_SCHEMA}/orders`, 'seeds/raw_orders', 'staging/stg_orders']);
    const rebuild = runCli(['materialize', '--select', '*', '--stale-only', '--project', project], env);
    expect(rebuild.status, rebuild.stdout + rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/succeeded: 4 materialized/);
    expect(await rows('select status from jaffle.orders where order_id = 99')).toEqual([{ status: 'shipped' }]);
    expect(parseJson<unknown[]>(runCli(['status', '--stale', '--json', '--project', project], env))).toEqual([]);
  });
});
