/**
 * Incremental SQL assets loaded from files and run on real DuckDB and SQLite files: a first
 * build creates the table, later builds merge, append or delete+insert only the rows the query
 * returns (by `{{ watermark }}`), count rows inserted / updated / deleted, `fullRefresh` rebuilds,
 * a failed blocking check leaves table and watermark as they were, and on_schema_change applies.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { incremental } from '../../core/model/definitions/incremental-config.ts';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { buildProject } from '../../core/model/project.ts';
import { openTempWorkspace, withoutSchema, type TempWorkspace } from './temp-workspace.ts';

const READ = "read_csv({{ landing }} || '/orders.csv', columns = {'order_id': 'INTEGER', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})";

const MERGE = `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select * from ${READ} where updated_at > {{ watermark }}
`;

describe('incremental SQL assets', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-incremental-', { name: 'incremental' }, { 'defs/raw/orders.sql': MERGE });
    writeOrders(['1,new,2025-01-01 00:00:00', '2,new,2025-01-02 00:00:00', '3,new,2025-01-03 00:00:00']);
  });

  afterEach(() => workspace.close());

  function writeOrders(lines: readonly string[]): void {
    fs.mkdirSync(workspace.config.landingDir, { recursive: true });
    fs.writeFileSync(path.join(workspace.config.landingDir, 'orders.csv'), `${['order_id,status,updated_at', ...lines].join('\n')}\n`);
  }

  function writeAsset(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, 'defs', file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, 'defs', file), text);
  }

  async function rows(table = 'raw.orders'): Promise<unknown[]> {
    return (await workspace.warehouse.query(`select * exclude (updated_at), updated_at::varchar as updated_at from ${table} order by all`)).map((r) =>
      Object.values(r).join('|'),
    );
  }

  async function lastMetadata(key = 'raw/orders'): Promise<Record<string, unknown>> {
    const [latest] = await workspace.storage.latestMaterializations([key]);
    return { ...withoutSchema(latest?.metadata), rowCount: latest?.rowCount };
  }

  it('builds the table first, then merges changed rows by unique_key with the watermark of the table', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toEqual({ build: 'full', rowsInserted: 3, rowsUpdated: 0, rowsDeleted: 0, watermark: null, rowCount: 3 });

    // Order 2 changes, order 4 is new; order 1 is rewritten with an old timestamp (the watermark filters it out).
    writeOrders(['1,lost,2025-01-01 00:00:00', '2,paid,2025-01-05 00:00:00', '3,new,2025-01-03 00:00:00', '4,new,2025-01-06 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toEqual({
      build: 'incremental',
      rowsInserted: 1,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-03 00:00:00',
      rowCount: 4,
    });
    expect(await rows()).toEqual(['1|new|2025-01-01 00:00:00', '2|paid|2025-01-05 00:00:00', '3|new|2025-01-03 00:00:00', '4|new|2025-01-06 00:00:00']);

    // Nothing newer than the watermark: nothing changes.
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toMatchObject({ build: 'incremental', rowsInserted: 0, rowsUpdated: 0, watermark: '2025-01-06 00:00:00', rowCount: 4 });
  });

  it('the watermark skips NULLs (all NULL: the lowest value); keys below, inside and above the key range of the table merge', async () => {
    writeAsset('raw/orders.sql', MERGE.replace('where updated_at > {{ watermark }}', 'where updated_at > {{ watermark }} or updated_at is null'));
    writeOrders(['5,new,', '6,new,']);
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    writeOrders(['5,new,', '6,paid,2025-01-02 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toEqual({ build: 'incremental', rowsInserted: 0, rowsUpdated: 2, rowsDeleted: 0, watermark: null, rowCount: 2 });

    // Keys 4 (below), 6 (inside) and 9 (above), and order 5 again with its NULL updated_at.
    writeOrders(['4,new,2025-01-03 00:00:00', '6,sent,2025-01-04 00:00:00', '9,new,2025-01-05 00:00:00', '5,lost,']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toEqual({
      build: 'incremental',
      rowsInserted: 2,
      rowsUpdated: 2,
      rowsDeleted: 0,
      watermark: '2025-01-02 00:00:00',
      rowCount: 4,
    });
    expect(await rows()).toEqual(['4|new|2025-01-03 00:00:00', '5|lost|', '6|sent|2025-01-04 00:00:00', '9|new|2025-01-05 00:00:00']);
  });

  it('rebuilds from scratch with fullRefresh: the watermark is the lowest timestamp again', async () => {
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    writeOrders(['1,lost,2025-01-01 00:00:00', '3,new,2025-01-03 00:00:00']);
    expect((await workspace.run(project, undefined, { fullRefresh: true })).status).toBe('success');
    expect(await lastMetadata()).toEqual({ build: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, watermark: null, rowCount: 2 });
    expect(await rows()).toEqual(['1|lost|2025-01-01 00:00:00', '3|new|2025-01-03 00:00:00']);
  });

  it('appends without a unique_key, delete+insert replaces every row of a key, merge by a two-column key', async () => {
    writeAsset('raw/events.sql', `-- materialization: incremental\n-- watermark: updated_at\nselect * from ${READ} where updated_at > {{ watermark }}\n`);
    writeAsset('raw/lines.sql', `-- materialization: incremental\n-- unique_key: status\n-- incremental_strategy: delete+insert\nselect * from ${READ}\n`);
    writeAsset('raw/pairs.sql', `-- materialization: incremental\n-- unique_key: order_id, status\nselect * from ${READ}\n`);
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    writeOrders(['1,new,2025-01-01 00:00:00', '5,paid,2025-01-09 00:00:00', '6,new,2025-01-09 00:00:00']);
    expect((await workspace.run(project, ['raw/events', 'raw/lines', 'raw/pairs'])).status).toBe('success');
    // A key of two columns: (1, new) is updated, (5, paid) and (6, new) inserted, (2, new) and (3, new) stay.
    expect(await lastMetadata('raw/pairs')).toEqual({ build: 'incremental', rowsInserted: 2, rowsUpdated: 1, rowsDeleted: 0, rowCount: 5 });
    expect(await lastMetadata('raw/events')).toEqual({
      build: 'incremental',
      rowsInserted: 2,
      rowsUpdated: 0,
      rowsDeleted: 0,
      watermark: '2025-01-03 00:00:00',
      rowCount: 5,
    });
    // Status "new" had 3 rows: all deleted, then the 2 new rows of "new" and 1 of "paid" inserted.
    expect(await lastMetadata('raw/lines')).toEqual({ build: 'incremental', rowsInserted: 3, rowsUpdated: 0, rowsDeleted: 3, rowCount: 3 });
    expect(await rows('raw.lines')).toEqual(['1|new|2025-01-01 00:00:00', '5|paid|2025-01-09 00:00:00', '6|new|2025-01-09 00:00:00']);
  });

  it('binds {{ is_incremental }} and reads {{ this }} without a dependency cycle', async () => {
    writeAsset(
      'raw/totals.sql',
      `-- materialization: incremental
-- unique_key: day
select current_date as day, {{ is_incremental }} as was_incremental,
  (select count(*) from ${READ}) as n
`,
    );
    writeAsset(
      'raw/history.sql',
      `-- materialization: incremental
select 1 as build_number where not {{ is_incremental }}
union all select max(build_number) + 1 from {{ this }} where {{ is_incremental }}
`,
    );
    await workspace.run(await loadProject(workspace.dir), ['raw/totals']);
    const project = await loadProject(workspace.dir);
    expect(project.graph.parents('raw/history')).toEqual([]);
    expect((await workspace.run(project, ['raw/totals'])).status).toBe('success');
    expect(await workspace.warehouse.query('select was_incremental from raw.totals')).toEqual([{ was_incremental: true }]);
  });

  it('a failing blocking check leaves the table and its watermark as they were', async () => {
    writeAsset('raw/orders.sql', `-- check: custom_sql(no_cancelled): select * from {{ this }} where status = 'cancelled'\n${MERGE}`);
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    writeOrders(['2,cancelled,2025-01-05 00:00:00', '4,new,2025-01-06 00:00:00']);
    const failed = await workspace.run(project);
    expect(failed.status).toBe('failed');
    expect(await rows()).toEqual(['1|new|2025-01-01 00:00:00', '2|new|2025-01-02 00:00:00', '3|new|2025-01-03 00:00:00']);
    // The next build starts from the old watermark again, so the fixed rows all arrive.
    writeOrders(['2,paid,2025-01-05 00:00:00', '4,new,2025-01-06 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata()).toMatchObject({ rowsInserted: 1, rowsUpdated: 1, watermark: '2025-01-03 00:00:00' });
  });

  it('on_schema_change: fail stops the step naming the columns; append_new_columns adds them; sync_all_columns also drops', async () => {
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    writeAsset('raw/orders.sql', MERGE.replace('select *', "select *, 'eu' as region"));
    const failed = await workspace.run(await loadProject(workspace.dir));
    expect(failed.steps[0]?.error).toContain(
      'the columns of raw/orders changed (added region): rebuild it with assets materialize --full-refresh --select raw/orders',
    );
    writeAsset('raw/orders.sql', `-- on_schema_change: append_new_columns\n${MERGE.replace('select *', "select *, 'eu' as region")}`);
    writeOrders(['4,new,2025-01-06 00:00:00']);
    expect((await workspace.run(await loadProject(workspace.dir))).status).toBe('success');
    expect(await workspace.warehouse.query('select order_id, region from raw.orders order by 1')).toEqual([
      { order_id: 1, region: null },
      { order_id: 2, region: null },
      { order_id: 3, region: null },
      { order_id: 4, region: 'eu' },
    ]);
    // sync_all_columns: status is gone from the query, so it goes from the table.
    writeAsset('raw/orders.sql', `-- on_schema_change: sync_all_columns\n${MERGE.replace('select *', "select * exclude (status), 'eu' as region")}`);
    writeOrders(['5,new,2025-01-07 00:00:00']);
    expect((await workspace.run(await loadProject(workspace.dir))).status).toBe('success');
    expect(
      (await workspace.warehouse.query("select column_name from duckdb_columns() where table_name = 'orders' order by column_index")).map((r) => r.column_name),
    ).toEqual(['order_id', 'updated_at', 'region']);
    expect(await lastMetadata()).toMatchObject({ rowsInserted: 1, rowCount: 5 });
  });

  it('fails before writing when unique_key is not a column of the query, naming the asset', async () => {
    writeAsset('raw/orders.sql', MERGE.replace('unique_key: order_id', 'unique_key: id'));
    const result = await workspace.run(await loadProject(workspace.dir));
    expect(result.steps[0]).toMatchObject({
      definitionError: true,
      error: 'raw/orders in defs/raw/orders.sql: unique_key id is not a column of the query (it returns order_id, status, updated_at)',
    });
    expect(await workspace.warehouse.query("select count(*)::int as n from duckdb_tables() where table_name = 'orders'")).toEqual([{ n: 0 }]);
  });

  it('refuses a declared watermark the query does not use, and {{ watermark }} without one', async () => {
    writeAsset('raw/orders.sql', `-- materialization: incremental\n-- watermark: updated_at\nselect * from ${READ}\n`);
    writeAsset('raw/other.sql', `-- materialization: incremental\nselect * from ${READ} where updated_at > {{ watermark }}\n`);
    const error = await loadProject(workspace.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.file}: ${e.message}`)).toEqual([
      'defs/raw/orders.sql: watermark: updated_at is declared, but the query does not use {{ watermark }} (filter on it, e.g. where updated_at > {{ watermark }})',
      'defs/raw/other.sql: {{ watermark }} is used, but no watermark column is declared (add watermark: <column>)',
    ]);
  });

  it('TypeScript: ctx.isIncremental, ctx.watermark and ctx.warehouse.merge', async () => {
    const seen: unknown[] = [];
    const project = buildProject(workspace.config, [
      asset({
        key: 'raw/orders_ts',
        incremental: incremental({ uniqueKey: 'order_id', watermark: 'updated_at' }),
        async materialize(ctx) {
          seen.push([ctx.isIncremental, ctx.watermark]);
          const since = ctx.watermark === null ? "'-infinity'" : `'${ctx.watermark}'`;
          const result = await ctx.warehouse.merge(
            `select * from read_csv('${workspace.config.landingDir}/orders.csv') where updated_at > ${since}::timestamp`,
            { uniqueKey: 'order_id' },
          );
          return { rowCount: result.rowCount, metadata: { updated: result.rowsUpdated, inserted: result.rowsInserted } };
        },
      }),
    ]);
    expect((await workspace.run(project)).status).toBe('success');
    writeOrders(['1,new,2025-01-01 00:00:00', '2,paid,2025-01-05 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await lastMetadata('raw/orders_ts')).toEqual({ updated: 1, inserted: 0, rowCount: 3 });
    expect((await workspace.run(project, undefined, { fullRefresh: true })).status).toBe('success');
    expect(seen).toEqual([
      [false, null],
      [true, '2025-01-03 00:00:00'],
      [false, null],
    ]);
    expect(await lastMetadata('raw/orders_ts')).toEqual({ updated: 0, inserted: 2, rowCount: 2 });
  });
});
