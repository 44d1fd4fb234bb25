import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { postgresTable } from '../../core/model/definitions/postgres-table.ts';
import { rowCount } from '../../core/model/definitions/check-spec.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { buildProject } from '../../core/model/project.ts';
import { observeSources } from '../../core/engine/staleness/observe-sources.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { closedPort, onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const missing = postgresMissing();
const DOWN_PASSWORD = 'down-secret-7f3a';
let downPort = 0;
let workspace: TempWorkspace;

const ORDERS_SQL = `
  drop table if exists orders;
  create table orders (id integer primary key, customer text, amount numeric(12,2), placed date,
                       updated_at timestamptz not null, paid boolean, big bigint, score double precision);
  insert into orders
    select i, case when i % 100 = 0 then null when i % 100 = 1 then '' else 'customer ' || (i % 37) end,
           (i * 1.25)::numeric(12,2), date '2025-01-01' + (i % 31), timestamptz '2025-01-01 00:00:00+00' + i * interval '1 minute',
           i % 2 = 0, 10000000000::bigint + i, i / 3.0
    from generate_series(1, 5000) as i;`;

describe.skipIf(missing !== undefined)(`postgres sources${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    process.env.STRATA_TEST_SHOP_DB = postgresUrl();
    downPort = await closedPort();
    process.env.STRATA_TEST_DOWN_DB = `postgres://strata:${DOWN_PASSWORD}@127.0.0.1:${downPort}/shop`;
  });

  afterAll(() => {
    delete process.env.STRATA_TEST_SHOP_DB;
    delete process.env.STRATA_TEST_DOWN_DB;
  });

  beforeEach(async () => {
    await onPostgres(ORDERS_SQL);
    workspace = await openTempWorkspace('strata-pg-', {
      name: 'pg-test',
      retries: { maxRetries: 2, delay: 1 },
      resources: { shop_db: { type: 'postgres', url: 'env:STRATA_TEST_SHOP_DB' }, down_db: { type: 'postgres', url: 'env:STRATA_TEST_DOWN_DB' } },
    });
  });

  afterEach(() => workspace.close());

  const extracting = (select: string, extra: Partial<Parameters<typeof asset>[0]> = {}) =>
    asset({ key: 'raw/orders', ...extra, materialize: async (ctx) => ({ rowCount: await ctx.resources.shop_db!.extract(select) }) });

  it('extracts thousands of rows into DuckDB with their Postgres types, NULL and empty strings kept apart', async () => {
    const result = await workspace.run(buildProject(workspace.config, [extracting('select * from orders -- every order\n;')]));
    expect(result.status).toBe('success');
    expect(result.steps[0]?.rowCount).toBe(5000);
    const types = await workspace.warehouse.query<{ column_name: string; column_type: string }>('select column_name, column_type from (describe raw.orders)');
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      id: 'INTEGER',
      customer: 'VARCHAR',
      amount: 'DECIMAL(12,2)',
      placed: 'DATE',
      updated_at: 'TIMESTAMP WITH TIME ZONE',
      paid: 'BOOLEAN',
      big: 'BIGINT',
      score: 'DOUBLE',
    });
    const [summary] = await workspace.warehouse.query(
      `select count(*)::int as n, count(*) filter (where customer is null)::int as nulls, count(*) filter (where customer = '')::int as empty,
              sum(amount)::double as amount, max(big)::double as big, strftime(max(updated_at) at time zone 'UTC', '%Y-%m-%d %H:%M') as latest
       from raw.orders`,
    );
    expect(summary).toEqual({ n: 5000, nulls: 50, empty: 50, amount: (1.25 * (5000 * 5001)) / 2, big: 10000005000, latest: '2025-01-04 11:20' });
  });

  it('extracts into a staging table, and appends to the asset table', async () => {
    const project = buildProject(workspace.config, [
      asset({
        key: 'raw/orders',
        materialize: async (ctx) => {
          const db = ctx.resources.shop_db!;
          expect(await db.extract('select id, amount from orders where id <= 100', { into: 'temp.orders_stage' })).toBe(100);
          await ctx.warehouse.replaceTable('select * from temp.orders_stage where id <= 40');
          expect(await db.extract('select id, amount from orders where id > 4990', { append: true })).toBe(10);
          return {};
        },
      }),
    ]);
    const result = await workspace.run(project);
    expect(result.status, result.steps[0]?.error).toBe('success');
    expect(await workspace.warehouse.query('select count(*)::int as n, max(id)::int as top from raw.orders')).toEqual([{ n: 50, top: 5000 }]);
  });

  it('rolls the extraction back when a blocking check fails', async () => {
    await workspace.run(buildProject(workspace.config, [extracting('select * from orders where id <= 10')]));
    const result = await workspace.run(buildProject(workspace.config, [extracting('select * from orders', { checks: [rowCount({ max: 100 })] })]));
    expect(result.status).toBe('failed');
    expect(await workspace.warehouse.query('select count(*)::int as n from raw.orders')).toEqual([{ n: 10 }]);
  });

  it('a SQL asset with a source: header runs its query on Postgres and lands the rows in DuckDB', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    fs.mkdirSync(path.join(workspace.dir, 'defs/raw'), { recursive: true });
    // `orders` is a Postgres table, not an asset: nothing to infer from a query run on Postgres.
    fs.writeFileSync(
      path.join(workspace.dir, 'defs/raw/paid_orders.sql'),
      '-- source: shop_db\n-- check: row_count(min=1)\nselect id, amount from orders where paid\n',
    );
    const project = await loadProject(workspace.dir);
    expect(project.graph.parents('raw/paid_orders')).toEqual([]);
    const result = await workspace.run(project);
    expect(result.status, result.steps[0]?.error).toBe('success');
    expect(await workspace.warehouse.query('select count(*)::int as n, sum(amount)::double as amount from raw.paid_orders')).toEqual([
      { n: 2500, amount: (1.25 * 2 * (2500 * 2501)) / 2 },
    ]);
  });

  it('a partitioned source: asset extracts each partition window from Postgres', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    fs.mkdirSync(path.join(workspace.dir, 'defs/raw'), { recursive: true });
    fs.writeFileSync(
      path.join(workspace.dir, 'defs/raw/daily_orders.sql'),
      '-- source: shop_db\n-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)\n-- partition_column: placed\n' +
        'select id, placed from orders where placed >= {{ partition_start }} and placed < {{ partition_end }}\n',
    );
    const result = await workspace.run(await loadProject(workspace.dir), undefined, { now: new Date('2025-06-01T00:00:00Z') });
    expect(result.status, result.steps.map((s) => s.error).join()).toBe('success');
    const [expected] = await pgRows<{ n: number }>(`select count(*)::int as n from orders where placed < date '2025-01-04'`);
    expect(await workspace.warehouse.query('select count(*)::int as n, count(distinct placed)::int as days from raw.daily_orders')).toEqual([
      { n: expected?.n, days: 3 },
    ]);
  });

  it("fails the step with Postgres's message when the query fails there", async () => {
    const result = await workspace.run(buildProject(workspace.config, [extracting('select * from no_such_table')]));
    expect(result.status).toBe('failed');
    expect(result.steps[0]?.error).toContain('relation "no_such_table" does not exist');
    expect(result.steps[0]?.error).toContain('shop_db');
  });

  it('observes a table by row count and watermark: inserts, updates and deletes change its data version', async () => {
    const project = buildProject(workspace.config, [
      postgresTable({ key: 'landing/orders', resource: 'shop_db', table: 'public.orders', watermark: 'updated_at' }),
    ]);
    const observe = async () => {
      const summary = await observeSources({ project, storage: workspace.storage, landing: new FileLandingZone(workspace.config.landingDir) });
      const [latest] = await workspace.storage.latestObservations(['landing/orders']);
      return { changed: summary.changed.length, version: latest?.dataVersion, metadata: latest?.metadata };
    };
    const first = await observe();
    expect(first).toMatchObject({ changed: 1, metadata: { row_count: '5000', watermark: '2025-01-04 11:20:00+00' } });
    expect((await observe()).changed).toBe(0);
    await onPostgres(`update orders set amount = 0, updated_at = timestamptz '2025-02-01 00:00:00+00' where id = 7`);
    expect(await observe()).toMatchObject({ changed: 1, metadata: { row_count: '5000', watermark: '2025-02-01 00:00:00+00' } });
    await onPostgres(`delete from orders where id = 8`);
    expect(await observe()).toMatchObject({ changed: 1, metadata: { row_count: '4999' } });
  });

  it('retries a refused connection, then fails naming host, port and database but never the password', async () => {
    const project = buildProject(workspace.config, [
      postgresTable({ key: 'landing/orders', resource: 'down_db', table: 'orders', watermark: 'updated_at' }),
      asset({ key: 'raw/orders', deps: ['landing/orders'], materialize: () => ({ rowCount: 0 }) }),
    ]);
    const result = await workspace.run(project);
    expect(result.status).toBe('failed');
    const events = await workspace.storage.listEvents(result.runId);
    expect(events.filter((e) => e.type === 'observation_retry')).toHaveLength(2);
    const failure = events.find((e) => e.type === 'observation_failure');
    expect(failure?.message).toContain(`cannot connect to Postgres resource down_db at 127.0.0.1:${downPort}/shop as strata`);
    expect(failure?.message).toContain('ECONNREFUSED');
    expect(JSON.stringify(events)).not.toContain(DOWN_PASSWORD);
    expect(result.steps.find((s) => s.key === 'raw/orders')?.status).toBe('skipped');
  });

  it('an extracting step retries a refused connection by its retry policy, then fails naming where', async () => {
    const project = buildProject(workspace.config, [
      asset({
        key: 'raw/orders',
        retryPolicy: { maxRetries: 1, delay: 1 },
        materialize: async (ctx) => ({ rowCount: await ctx.resources.down_db!.extract('select 1 as one') }),
      }),
    ]);
    const result = await workspace.run(project);
    expect(result.status).toBe('failed');
    expect(result.steps[0]?.error).toContain(`cannot connect to Postgres resource down_db at 127.0.0.1:${downPort}/shop as strata`);
    const events = await workspace.storage.listEvents(result.runId);
    expect(events.filter((e) => e.type === 'step_retry')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(DOWN_PASSWORD);
  });

  it('a canceled run cancels its query on the server', async () => {
    const controller = new AbortController();
    const project = buildProject(workspace.config, [
      asset({
        key: 'raw/slow',
        materialize: async (ctx) => void (await ctx.resources.shop_db!.query('select pg_sleep(60) as slept /* strata-cancel-test */')),
      }),
    ]);
    const sleeping = async () =>
      (await pgRows<{ n: number }>(`select count(*)::int as n from pg_stat_activity where query like '%strata-cancel-test%' and pid <> pg_backend_pid()`))[0]
        ?.n;
    const running = workspace.run(project, undefined, { signal: controller.signal });
    await waitFor(async () => (await sleeping()) === 1);
    controller.abort();
    const result = await running;
    expect(result.status).toBe('canceled');
    await waitFor(async () => (await sleeping()) === 0, 5_000);
  });
});

async function pgRows<T>(sql: string): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
