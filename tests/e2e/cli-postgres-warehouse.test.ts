/**
 * The `assets` CLI with its warehouse in Postgres (`"warehouse": "env:NAME"` naming a
 * postgres:// URL): SQL assets in two layers (one partitioned, one incremental merge, a check)
 * materialize into Postgres tables; a failing blocking check leaves the published table as it
 * was; Postgres SQL DuckDB's parser cannot read asks for `-- deps:` and works with it; bad input
 * (an unreachable server, a password in strata.json, `assets query`) exits 2 without a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, onPostgres, postgresMissing, postgresRowsAt, postgresUrl } from '../postgres.ts';
import { editFile, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();
/** This file's database on the test cluster. */
const DATABASE = `cli_warehouse_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

beforeAll(() => {
  sandbox = Sandbox.create();
});
afterAll(() => sandbox?.cleanup());

const EVENTS = `-- partitioned_by: daily(start=2025-01-01, end=2025-01-05)
-- partition_column: day
select day, id, amount from (
  select (DATE '2025-01-01' + (i / 4))::date as day, i as id, i % 9 as amount from generate_series(0, 15) as t(i)
) as e
where day >= {{ partition_start }}::date and day < {{ partition_end }}::date
`;

const FILES = {
  'strata.json': JSON.stringify({ name: 'pg-warehouse', warehouse: 'env:STRATA_E2E_WAREHOUSE' }),
  'defs/raw/events.sql': EVENTS,
  'defs/raw/orders_src.sql':
    "select * from (values (1, 'new', TIMESTAMP '2025-01-01 10:00:00'), (2, 'new', TIMESTAMP '2025-01-01 11:00:00')) as t(order_id, status, updated_at)\n",
  'defs/staging/orders.sql': `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select * from raw.orders_src where updated_at > {{ watermark }}
`,
  'defs/marts/daily.sql': `-- check: accepted_range(total, min=0)
select day, count(*)::int as n, sum(amount)::int as total from raw.events group by day
`,
  'seeds/payment_types.csv': 'code,label,fee_pct\ncard,Card,1.40\ncash,"Cash, in hand",0\n',
  'defs/marts/fees.sql': 'select code, fee_pct * 2 as double_fee from seeds.payment_types\n',
};

describe('a Postgres warehouse on bad input exits 2', () => {
  it('a server that cannot be reached: names host, port and database, never the password', async () => {
    const project = sandbox.writeProject('pg-warehouse-down', FILES);
    const port = await closedPort();
    const result = runCli(['materialize', '--select', '*', '--project', project], {
      STRATA_E2E_WAREHOUSE: `postgres://strata:down-secret-77c1@127.0.0.1:${port}/analytics`,
    });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`cannot connect to the Postgres warehouse at 127.0.0.1:${port}/analytics as strata`);
    expect(result.stdout + result.stderr).not.toContain('down-secret-77c1');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('a password written in strata.json', () => {
    const project = sandbox.writeProject('pg-warehouse-password', {
      ...FILES,
      'strata.json': JSON.stringify({ name: 'pg-warehouse', warehouse: 'postgres://strata:in-file-secret@db/analytics' }),
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('warehouse.path: a URL with a password is not written in strata.json: use "env:NAME"');
    expect(result.stderr).not.toContain('in-file-secret');
  });

  it('DuckDB settings given to a Postgres warehouse', () => {
    const project = sandbox.writeProject('pg-warehouse-threads', {
      ...FILES,
      'strata.json': JSON.stringify({ name: 'pg-warehouse', warehouse: { path: 'postgres://db/analytics', threads: 2 } }),
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('warehouse.threads: is a DuckDB setting: a Postgres warehouse does not take it');
  });
});

describe.skipIf(missing !== undefined)(`the CLI on a Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let url: string;
  beforeAll(async () => {
    await onPostgres(`create database ${DATABASE}`);
    const parsed = new URL(postgresUrl());
    parsed.pathname = `/${DATABASE}`;
    url = parsed.toString();
  });
  afterAll(() => onPostgres(`drop database if exists ${DATABASE} with (force)`));

  const rows = (sql: string) => postgresRowsAt(url, sql);

  it('materializes partitioned, incremental and checked SQL assets into Postgres; a failing blocking check publishes nothing', async () => {
    const project = sandbox.writeProject('pg-warehouse', FILES);
    const env = { STRATA_E2E_WAREHOUSE: url };
    const first = runCli(['materialize', '--select', '*', '--project', project], env);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toContain(new URL(url).password);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
    expect(await rows('select day::text, count(*)::int as n from raw.events group by day order by day')).toEqual(
      ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04'].map((day) => ({ day, n: 4 })),
    );
    const daily = 'select day::text, n, total from marts.daily order by day';
    const published = [
      { day: '2025-01-01', n: 4, total: 6 },
      { day: '2025-01-02', n: 4, total: 22 },
      { day: '2025-01-03', n: 4, total: 11 },
      { day: '2025-01-04', n: 4, total: 18 },
    ];
    expect(await rows(daily)).toEqual(published);
    expect(await rows('select order_id, status from staging.orders order by order_id')).toEqual([
      { order_id: 1, status: 'new' },
      { order_id: 2, status: 'new' },
    ]);
    expect(await rows('select code, label, fee_pct::text, double_fee::text from seeds.payment_types join marts.fees using (code) order by code')).toEqual([
      { code: 'card', label: 'Card', fee_pct: '1.4', double_fee: '2.8' },
      { code: 'cash', label: 'Cash, in hand', fee_pct: '0', double_fee: '0' },
    ]);
    const checks = runCli(['checks', '--select', 'marts/daily', '--project', project], env);
    expect(checks.status, checks.stdout + checks.stderr).toBe(0);
    expect(checks.stdout).toContain('accepted_range(total');

    // New source rows: order 2 changed, order 3 new; the merge updates one and inserts one.
    editFile(
      path.join(project, 'defs/raw/orders_src.sql'),
      "(2, 'new', TIMESTAMP '2025-01-01 11:00:00')",
      "(2, 'paid', TIMESTAMP '2025-01-02 09:00:00'), (3, 'new', TIMESTAMP '2025-01-02 10:00:00')",
    );
    const merged = runCli(['materialize', '--select', 'raw/orders_src+', '--json', '--project', project], env);
    expect(merged.status, merged.stdout + merged.stderr).toBe(0);
    expect(await rows('select order_id, status from staging.orders order by order_id')).toEqual([
      { order_id: 1, status: 'new' },
      { order_id: 2, status: 'paid' },
      { order_id: 3, status: 'new' },
    ]);
    const shown = runCli(['runs', 'show', (JSON.parse(merged.stdout) as { runId: string }).runId.slice(0, 8), '--project', project], env);
    expect(shown.stdout).toContain('materialized staging/orders (3 rows): incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-01 11:00:00');

    // Negative amounts: raw/events is rewritten, marts/daily fails its check and keeps its rows.
    editFile(path.join(project, 'defs/raw/events.sql'), 'i % 9 as amount', 'i % 9 - 20 as amount');
    const failed = runCli(['materialize', '--select', 'raw/events+', '--project', project], env);
    expect(failed.status, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout + failed.stderr).toContain('accepted_range(total');
    expect(stackFrames(failed.stdout + failed.stderr)).toEqual([]);
    expect(await rows('select min(amount)::int as low from raw.events')).toEqual([{ low: -20 }]);
    expect(await rows(daily)).toEqual(published);
  });

  it('Postgres SQL that DuckDB’s parser cannot read: the error asks for -- deps:, and with it the asset builds', async () => {
    const docs = {
      'strata.json': JSON.stringify({ name: 'pg-docs', warehouse: 'env:STRATA_E2E_WAREHOUSE' }),
      'defs/raw/docs.sql': `select '{"a": {"b": "x"}}'::jsonb as doc\n`,
      'defs/marts/doc_b.sql': "select doc #>> '{a,b}' as b from raw.docs\n",
    };
    const env = { STRATA_E2E_WAREHOUSE: url };
    const refused = runCli(['materialize', '--select', '*', '--project', sandbox.writeProject('pg-docs-refused', docs)], env);
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('defs/marts/doc_b.sql');
    expect(refused.stderr).toContain("SQL does not parse with DuckDB's parser, which infers dependencies");
    expect(refused.stderr).toContain('-- deps:');
    expect(stackFrames(refused.stdout + refused.stderr)).toEqual([]);

    const declared = sandbox.writeProject('pg-docs', { ...docs, 'defs/marts/doc_b.sql': `-- deps: raw/docs\n${docs['defs/marts/doc_b.sql']}` });
    const built = runCli(['materialize', '--select', '*', '--project', declared], env);
    expect(built.status, built.stdout + built.stderr).toBe(0);
    expect(await rows('select b from marts.doc_b')).toEqual([{ b: 'x' }]);

    const extracting = sandbox.writeProject('pg-docs-source', {
      ...docs,
      'strata.json': JSON.stringify({
        name: 'pg-docs',
        warehouse: 'env:STRATA_E2E_WAREHOUSE',
        resources: { shop: { type: 'postgres', url: 'env:STRATA_E2E_WAREHOUSE' } },
      }),
      'defs/raw/shop_docs.sql': '-- source: shop\nselect * from raw.docs\n',
    });
    const source = runCli(['materialize', '--select', '*', '--project', extracting], env);
    expect(source.status, source.stderr).toBe(2);
    expect(source.stderr).toContain('defs/raw/shop_docs.sql');
    expect(source.stderr).toContain('"source: shop" extracts rows from Postgres into the DuckDB warehouse, but this project\'s warehouse is Postgres');
    expect(stackFrames(source.stdout + source.stderr)).toEqual([]);

    const typescript = sandbox.writeProject('pg-docs-extract', {
      'strata.json': JSON.stringify({
        name: 'pg-docs',
        warehouse: 'env:STRATA_E2E_WAREHOUSE',
        resources: { shop: { type: 'postgres', url: 'env:STRATA_E2E_WAREHOUSE' } },
      }),
      'package.json': '{ "type": "module" }',
      'defs/shop.ts': `import { asset } from 'strata';
export const copied = asset({ key: 'raw/copied', materialize: async (ctx) => ({ rowCount: await ctx.resources.shop.extract('select 1 as id') }) });
`,
    });
    const extract = runCli(['materialize', '--select', '*', '--project', typescript], env);
    expect(extract.status, extract.stderr).toBe(1);
    expect(extract.stdout + extract.stderr).toContain(
      "ctx.resources.shop.extract loads Postgres rows into the DuckDB warehouse, but this project's warehouse is Postgres",
    );
    expect(stackFrames(extract.stdout + extract.stderr)).toEqual([]);

    const query = runCli(['query', 'select 1', '--project', declared], env);
    expect(query.status, query.stderr).toBe(2);
    expect(query.stderr).toContain("assets query reads the DuckDB warehouse; this project's warehouse is Postgres");
    expect(stackFrames(query.stdout + query.stderr)).toEqual([]);
  });
});
