/**
 * dbt Labs' jaffle_shop example (examples/jaffle_shop, unmodified) built end to end by the
 * `assets` CLI on DuckDB, without dbt: every table's rows are compared with what the seed CSVs
 * imply, computed here in plain TypeScript (not with the project's SQL), and every schema.yml test
 * passed as a check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, runCli, Sandbox, stateFiles } from './cli-harness.ts';
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

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.copyProject(JAFFLE_SHOP, 'jaffle_shop');
});

afterAll(() => sandbox?.cleanup());

describe('jaffle_shop, unmodified, on DuckDB', () => {
  it("materialize --select '*' builds the 3 seeds, 3 staging views and 2 marts", () => {
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/succeeded: 8 materialized/);
  });

  it('every table and view has the rows the seed CSVs imply', async () => {
    const { warehouse } = stateFiles(project);
    const count = async (table: string) => Number((await queryDuckDb(warehouse, `select count(*) as n from ${table}`))[0]?.n);
    expect(await count('seeds.raw_customers')).toBe(customers.length);
    expect(await count('seeds.raw_orders')).toBe(orders.length);
    expect(await count('seeds.raw_payments')).toBe(payments.length);
    expect(await count('staging.stg_customers')).toBe(customers.length);
    expect(await count('staging.stg_orders')).toBe(orders.length);
    expect(await count('staging.stg_payments')).toBe(payments.length);
    const kinds = await queryDuckDb(
      warehouse,
      "select table_schema || '.' || table_name as name, table_type from information_schema.tables where table_schema in ('staging', 'main') order by 1",
    );
    expect(kinds).toEqual([
      { name: 'main.customers', table_type: 'BASE TABLE' },
      { name: 'main.orders', table_type: 'BASE TABLE' },
      { name: 'staging.stg_customers', table_type: 'VIEW' },
      { name: 'staging.stg_orders', table_type: 'VIEW' },
      { name: 'staging.stg_payments', table_type: 'VIEW' },
    ]);
  });

  it('main.customers holds each customer with their first and last order, order count and lifetime value', async () => {
    const expected = expectedCustomers();
    const { warehouse } = stateFiles(project);
    const rows = await queryDuckDb(
      warehouse,
      "select customer_id, first_name, last_name, strftime(first_order, '%Y-%m-%d') as first_order, strftime(most_recent_order, '%Y-%m-%d') as most_recent_order, number_of_orders, customer_lifetime_value from main.customers order by customer_id",
    );
    expect(
      rows.map((r) => ({
        ...r,
        number_of_orders: r.number_of_orders === null ? null : Number(r.number_of_orders),
        customer_lifetime_value: round(r.customer_lifetime_value as number | null),
      })),
    ).toEqual(expected);
    // A checksum over the whole table: total lifetime value and orders.
    const [sums] = await queryDuckDb(
      warehouse,
      'select round(sum(customer_lifetime_value), 2) as value, sum(number_of_orders)::integer as orders from main.customers',
    );
    expect(sums).toEqual(expectedCustomerSums());
  });

  it('main.orders holds each order with its amount per payment method (the Jinja loop over methods)', async () => {
    const expected = expectedOrders();
    const { warehouse } = stateFiles(project);
    const rows = await queryDuckDb(
      warehouse,
      `select order_id, customer_id, strftime(order_date, '%Y-%m-%d') as order_date, status, ${METHODS.map((m) => `${m}_amount`).join(', ')}, amount from main.orders order by order_id`,
    );
    const columns = await queryDuckDb(
      warehouse,
      "select column_name from information_schema.columns where table_schema = 'main' and table_name = 'orders' order by ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual(['order_id', 'customer_id', 'order_date', 'status', ...METHODS.map((m) => `${m}_amount`), 'amount']);
    const rounded = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k.endsWith('amount') ? round(v as number) : v])));
    expect(rounded).toEqual(expected);
  });

  it('every schema.yml test ran as a check and passed (20 tests, blocking: severity error)', () => {
    const result = runCli(['checks', '--json', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    const checks = parseJson<{ assetKey: string; checkName: string; passed: boolean; severity: string }[]>(result);
    expect(checks.map((c) => `${c.assetKey} ${c.checkName}`).sort()).toEqual(expectedChecks('main'));
    expect(checks.every((c) => c.passed && c.severity === 'error')).toBe(true);
  });

  it('lists the models with kind dbt, their descriptions, column descriptions (doc() blocks too) and dependencies from ref()', () => {
    const list = runCli(['list', '--json', '--project', project]);
    expect(list.status, list.stderr).toBe(0);
    const assets = parseJson<{ key: string; kinds: string[]; deps: string[]; description?: string; columnDescriptions?: Record<string, string> }[]>(list);
    const ordersColumns = assets.find((a) => a.key === 'main/orders')?.columnDescriptions ?? {};
    expect(ordersColumns.order_id).toBe('This is a unique identifier for an order');
    expect(ordersColumns.status).toMatch(/^Orders can be one of the following statuses:\n\n\| status/);
    expect(Object.keys(ordersColumns)).toHaveLength(9);
    const customersAsset = assets.find((a) => a.key === 'main/customers');
    expect(customersAsset?.kinds).toContain('dbt');
    expect(customersAsset?.deps).toEqual(['staging/stg_customers', 'staging/stg_orders', 'staging/stg_payments']);
    expect(customersAsset?.description).toMatch(/^This table has basic information about a customer/);
    expect(assets.find((a) => a.key === 'staging/stg_orders')?.deps).toEqual(['seeds/raw_orders']);
    expect(assets.find((a) => a.key === 'seeds/raw_orders')?.kinds).toEqual(['seed', 'duckdb', 'dbt']);
  });
});

describe('assets dbt ls', () => {
  it('prints each model and seed with the asset it became', () => {
    const result = runCli(['dbt', 'ls', '--json', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    expect(parseJson(result)).toEqual([
      { id: 'model.jaffle_shop.customers', key: 'main/customers', materialized: 'table', file: 'models/customers.sql' },
      { id: 'model.jaffle_shop.orders', key: 'main/orders', materialized: 'table', file: 'models/orders.sql' },
      { id: 'model.jaffle_shop.stg_customers', key: 'staging/stg_customers', materialized: 'view', file: 'models/staging/stg_customers.sql' },
      { id: 'model.jaffle_shop.stg_orders', key: 'staging/stg_orders', materialized: 'view', file: 'models/staging/stg_orders.sql' },
      { id: 'model.jaffle_shop.stg_payments', key: 'staging/stg_payments', materialized: 'view', file: 'models/staging/stg_payments.sql' },
      { id: 'seed.jaffle_shop.raw_customers', key: 'seeds/raw_customers', materialized: 'seed', file: 'seeds/raw_customers.csv' },
      { id: 'seed.jaffle_shop.raw_orders', key: 'seeds/raw_orders', materialized: 'seed', file: 'seeds/raw_orders.csv' },
      { id: 'seed.jaffle_shop.raw_payments', key: 'seeds/raw_payments', materialized: 'seed', file: 'seeds/raw_payments.csv' },
    ]);
    const table = runCli(['dbt', 'ls', '--project', project]);
    expect(table.stdout).toMatch(/model\.jaffle_shop\.stg_orders\s+staging\/stg_orders\s+view\s+models\/staging\/stg_orders\.sql/);
  });

  it('exits 2 on a project without dbt, or another action', () => {
    const plain = sandbox.writeProject('plain', { 'strata.json': '{}', 'defs/raw/x.sql': 'select 1 as x\n' });
    const none = runCli(['dbt', 'ls', '--project', plain]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('this project has no dbt project');
    expect(runCli(['dbt', 'run', '--project', project]).status).toBe(2);
  });
});

describe('a dbt project Strata cannot run exactly', () => {
  it('exits 2 naming the model, file and line, and writes nothing', () => {
    const broken = sandbox.writeProject('broken_dbt', {
      'dbt_project.yml': 'name: broken\n',
      'models/ok.sql': 'select 1 as x\n',
      'models/bad.sql': "select *\nfrom {{ ref('ok') }}\nwhere x in ({{ run_query('select 1') }})\n",
    });
    const run = runCli(['materialize', '--select', '*', '--project', broken]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('main/bad in models/bad.sql:3: run_query() reads the database while the model is rendered, which Strata does not support');
    expect(fs.existsSync(path.join(broken, '.strata'))).toBe(false);
  });
});
