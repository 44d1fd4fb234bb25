/**
 * A dbt project with every materialization built by the `assets` CLI on the Postgres warehouse:
 * seeds with `column_types`, an ephemeral model, incremental models (merge with
 * `append_new_columns`, append, delete+insert with `sync_all_columns`), snapshots (timestamp and
 * check strategies, dbt's columns), `+schema`, a model directly in `models/` (in `target.schema`),
 * Postgres SQL DuckDB's parser cannot read (a model and a singular test), and a failing blocking
 * test that keeps the table's previous content; then `--full-refresh` of a model a view reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRowsAt, postgresUrl } from '../postgres.ts';
import { parseJson, runCli, Sandbox } from './cli-harness.ts';

const missing = postgresMissing();
/** This file's database on the test cluster. */
const DATABASE = `cli_dbt_pg_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

const ORDERS_V1 = `id,customer_id,status,amount,updated_at
1,10,placed,12.50,2025-01-01 10:00:00
2,11,placed,7.25,2025-01-01 11:00:00
3,10,shipped,30.00,2025-01-02 09:00:00
`;
const ORDERS_V2 = `id,customer_id,status,amount,updated_at
1,10,placed,12.50,2025-01-01 10:00:00
2,11,shipped,7.25,2025-01-03 08:00:00
3,10,shipped,30.00,2025-01-02 09:00:00
4,11,placed,5.00,2025-01-03 09:00:00
`;
const CUSTOMERS = (bobTier: string) => `id,name,tier,profile
10,Ada,gold,"{""city"": ""Paris""}"
11,Bob,${bobTier},"{""city"": ""Oslo""}"
`;

const FILES: Record<string, string> = {
  'strata.json': JSON.stringify({ name: 'pg_shop', dbt: '.', warehouse: 'env:STRATA_E2E_WAREHOUSE' }),
  'dbt_project.yml': `name: pg_shop
config-version: 2
seeds:
  pg_shop:
    raw_orders:
      +column_types:
        amount: numeric(10,2)
        updated_at: timestamp
        status: varchar(20)
models:
  pg_shop:
    marts:
      +materialized: table
    reporting:
      +schema: reporting
snapshots:
  pg_shop:
    +target_schema: history
`,
  'seeds/raw_orders.csv': ORDERS_V1,
  'seeds/raw_customers.csv': CUSTOMERS('silver'),
  'models/staging/stg_orders.sql': `{{ config(materialized='ephemeral') }}
select id as order_id, customer_id, status, amount, updated_at from {{ ref('raw_orders') }}
`,
  'models/marts/orders_merged.sql': `{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='merge', on_schema_change='append_new_columns') }}
select order_id, customer_id, status, amount, updated_at from {{ ref('stg_orders') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
`,
  'models/marts/order_events.sql': `{{ config(materialized='incremental', incremental_strategy='append') }}
select order_id, status, updated_at from {{ ref('stg_orders') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
`,
  'models/marts/orders_sync.sql': `{{ config(materialized='incremental', unique_key='order_id', on_schema_change='sync_all_columns') }}
select order_id, status, amount from {{ ref('stg_orders') }}
`,
  // Postgres SQL: `#>>` on jsonb does not parse with DuckDB; the model depends on what it refs.
  'models/marts/customers.sql': `select c.id as customer_id, c.name, c.tier, c.profile::jsonb #>> '{city}' as city, c.profile,
  count(o.order_id)::int as orders
from {{ ref('raw_customers') }} c left join {{ ref('stg_orders') }} o on o.customer_id = c.id
group by 1, 2, 3, 4, 5
`,
  'models/marts/schema.yml': `version: 2
models:
  - name: customers
    columns:
      - name: customer_id
        tests: [unique, not_null]
      - name: tier
        tests:
          - accepted_values: { values: ['gold', 'silver'] }
  - name: orders_merged
    columns:
      - name: order_id
        tests: [unique, not_null]
`,
  'models/overview.sql': `select '{{ target.type }}' as target_type, '{{ target.schema }}' as target_schema, count(*)::int as customers
from {{ ref('customers') }}
`,
  'models/reporting/revenue.sql': "select sum(amount) as revenue from {{ ref('orders_merged') }}\n",
  'snapshots/orders_snapshot.sql': `{% snapshot orders_snapshot %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select * from {{ ref('raw_orders') }}
{% endsnapshot %}
`,
  'snapshots/customers_snapshot.sql': `{% snapshot customers_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols=['tier']) }}
select id, name, tier from {{ ref('raw_customers') }}
{% endsnapshot %}
`,
  'tests/assert_positive_amount.sql': "select * from {{ ref('orders_merged') }} where amount < 0\n",
  'tests/assert_city_from_profile.sql': "select * from {{ ref('customers') }} where city is distinct from profile::jsonb #>> '{city}'\n",
};

let sandbox: Sandbox;
let project: string;
let url: string;
let env: Record<string, string>;

const rows = (sql: string) => postgresRowsAt(url, sql);

const columns = (schema: string, table: string) =>
  rows(
    `select column_name as name, data_type as type, character_maximum_length as length, numeric_precision as precision, numeric_scale as scale
     from information_schema.columns where table_schema = '${schema}' and table_name = '${table}' order by ordinal_position`,
  );

describe.skipIf(missing !== undefined)(`dbt materializations on the Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await onPostgres(`create database ${DATABASE}`);
    const parsed = new URL(postgresUrl());
    parsed.pathname = `/${DATABASE}`;
    parsed.searchParams.set('options', '-c search_path=shop');
    url = parsed.toString();
    env = { STRATA_E2E_WAREHOUSE: url };
    sandbox = Sandbox.create();
    project = sandbox.writeProject('pg_shop', FILES);
  });

  afterAll(async () => {
    sandbox?.cleanup();
    if (missing === undefined) await onPostgres(`drop database if exists ${DATABASE} with (force)`);
  });

  it('the first build writes every node, each where dbt would, with its tests passing', async () => {
    const run = runCli(['materialize', '--select', '*', '--project', project], env);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/succeeded: 10 materialized/);
    expect(await columns('seeds', 'raw_orders')).toEqual([
      { name: 'id', type: 'bigint', length: null, precision: 64, scale: 0 },
      { name: 'customer_id', type: 'bigint', length: null, precision: 64, scale: 0 },
      { name: 'status', type: 'character varying', length: 20, precision: null, scale: null },
      { name: 'amount', type: 'numeric', length: null, precision: 10, scale: 2 },
      { name: 'updated_at', type: 'timestamp without time zone', length: null, precision: null, scale: null },
    ]);
    expect(await rows('select * from shop.overview')).toEqual([{ target_type: 'postgres', target_schema: 'shop', customers: 2 }]);
    expect(await rows('select customer_id::int, name, tier, city, orders from marts.customers order by 1')).toEqual([
      { customer_id: 10, name: 'Ada', tier: 'gold', city: 'Paris', orders: 2 },
      { customer_id: 11, name: 'Bob', tier: 'silver', city: 'Oslo', orders: 1 },
    ]);
    const relations = await rows(
      "select table_schema || '.' || table_name as name, table_type from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema', '_strata') order by 1",
    );
    expect(relations).toEqual([
      { name: 'history.customers_snapshot', table_type: 'BASE TABLE' },
      { name: 'history.orders_snapshot', table_type: 'BASE TABLE' },
      { name: 'marts.customers', table_type: 'BASE TABLE' },
      { name: 'marts.order_events', table_type: 'BASE TABLE' },
      { name: 'marts.orders_merged', table_type: 'BASE TABLE' },
      { name: 'marts.orders_sync', table_type: 'BASE TABLE' },
      { name: 'reporting.revenue', table_type: 'VIEW' },
      { name: 'seeds.raw_customers', table_type: 'BASE TABLE' },
      { name: 'seeds.raw_orders', table_type: 'BASE TABLE' },
      { name: 'shop.overview', table_type: 'VIEW' },
    ]);
    expect(await rows('select revenue::text from reporting.revenue')).toEqual([{ revenue: '49.75' }]);

    const checks = runCli(['checks', '--json', '--project', project], env);
    expect(checks.status, checks.stderr).toBe(0);
    const results = parseJson<{ assetKey: string; checkName: string; passed: boolean }[]>(checks);
    expect(results.map((c) => `${c.assetKey} ${c.checkName} ${c.passed}`).sort()).toEqual([
      "marts/customers accepted_values(tier, 'gold', 'silver') true",
      'marts/customers assert_city_from_profile true',
      'marts/customers not_null(customer_id) true',
      'marts/customers unique(customer_id) true',
      'marts/orders_merged assert_positive_amount true',
      'marts/orders_merged not_null(order_id) true',
      'marts/orders_merged unique(order_id) true',
    ]);
  });

  it('lineage follows refs through the ephemeral model and the Postgres SQL', () => {
    const result = runCli(['lineage', 'marts/customers', '--upstream', '--json', '--project', project], env);
    expect(result.status, result.stderr).toBe(0);
    expect(
      parseJson<{ upstream: { key: string }[] }>(result)
        .upstream.map((u) => u.key)
        .sort(),
    ).toEqual(['seeds/raw_customers', 'seeds/raw_orders']);
  });

  it('the second build merges, appends and syncs columns, keeps snapshot history, and a failing test keeps the previous table', async () => {
    fs.writeFileSync(path.join(project, 'seeds', 'raw_orders.csv'), ORDERS_V2);
    fs.writeFileSync(path.join(project, 'seeds', 'raw_customers.csv'), CUSTOMERS('bronze'));
    const merged = path.join(project, 'models', 'marts', 'orders_merged.sql');
    fs.writeFileSync(merged, fs.readFileSync(merged, 'utf8').replace('amount, updated_at from', 'amount, updated_at, amount * 2 as double_amount from'));
    const sync = path.join(project, 'models', 'marts', 'orders_sync.sql');
    fs.writeFileSync(sync, fs.readFileSync(sync, 'utf8').replace('status, amount from', 'status, customer_id from'));

    const run = runCli(['materialize', '--select', '*', '--project', project], env);
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/✗ marts\/customers\s+blocking check failed, nothing published: accepted_values\(tier, 'gold', 'silver'\)/);
    expect(run.stdout).toMatch(/- shop\/overview\s+skipped/);
    // The failing test: the table keeps its previous content.
    expect(await rows('select customer_id::int, tier, orders from marts.customers order by 1')).toEqual([
      { customer_id: 10, tier: 'gold', orders: 2 },
      { customer_id: 11, tier: 'silver', orders: 1 },
    ]);
    // merge on unique_key of the rows newer than the table's, with the new column appended.
    expect(await rows('select order_id::int, status, amount::text, double_amount::text from marts.orders_merged order by 1')).toEqual([
      { order_id: 1, status: 'placed', amount: '12.50', double_amount: null },
      { order_id: 2, status: 'shipped', amount: '7.25', double_amount: '14.50' },
      { order_id: 3, status: 'shipped', amount: '30.00', double_amount: null },
      { order_id: 4, status: 'placed', amount: '5.00', double_amount: '10.00' },
    ]);
    expect(await rows('select order_id::int, status from marts.order_events order by 1, updated_at')).toEqual([
      { order_id: 1, status: 'placed' },
      { order_id: 2, status: 'placed' },
      { order_id: 2, status: 'shipped' },
      { order_id: 3, status: 'shipped' },
      { order_id: 4, status: 'placed' },
    ]);
    expect((await columns('marts', 'orders_sync')).map((c) => c.name)).toEqual(['order_id', 'status', 'customer_id']);
    expect(await rows('select count(*)::int as n from marts.orders_sync')).toEqual([{ n: 4 }]);

    const orderHistory = await rows(
      "select id::int, status, to_char(dbt_valid_from, 'YYYY-MM-DD HH24:MI') as valid_from, to_char(dbt_valid_to, 'YYYY-MM-DD HH24:MI') as valid_to, dbt_updated_at = dbt_valid_from as same, length(dbt_scd_id) as scd from history.orders_snapshot order by id, dbt_valid_from",
    );
    expect(orderHistory).toEqual([
      { id: 1, status: 'placed', valid_from: '2025-01-01 10:00', valid_to: null, same: true, scd: 32 },
      { id: 2, status: 'placed', valid_from: '2025-01-01 11:00', valid_to: '2025-01-03 08:00', same: true, scd: 32 },
      { id: 2, status: 'shipped', valid_from: '2025-01-03 08:00', valid_to: null, same: true, scd: 32 },
      { id: 3, status: 'shipped', valid_from: '2025-01-02 09:00', valid_to: null, same: true, scd: 32 },
      { id: 4, status: 'placed', valid_from: '2025-01-03 09:00', valid_to: null, same: true, scd: 32 },
    ]);
    const customerHistory = await rows('select id::int, tier, dbt_valid_to is null as current from history.customers_snapshot order by id, dbt_valid_from');
    expect(customerHistory).toEqual([
      { id: 10, tier: 'gold', current: true },
      { id: 11, tier: 'silver', current: false },
      { id: 11, tier: 'bronze', current: true },
    ]);
    const [closed] = await rows(
      "select (select dbt_valid_to from history.customers_snapshot where tier = 'silver') = (select dbt_valid_from from history.customers_snapshot where tier = 'bronze') as chained",
    );
    expect(closed).toEqual({ chained: true });
  });
  it('--full-refresh rebuilds an incremental model a view reads, and the view still works', async () => {
    const run = runCli(['materialize', '--select', 'orders_merged', '--full-refresh', '--project', project], env);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(await rows('select count(*)::int as n, count(double_amount)::int as doubled from marts.orders_merged')).toEqual([{ n: 4, doubled: 4 }]);
    expect(await rows('select revenue::text from reporting.revenue')).toEqual([{ revenue: '54.75' }]);
  });
});
