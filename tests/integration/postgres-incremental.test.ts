/**
 * Incremental SQL assets whose query runs on Postgres (`source:` with `materialization:
 * incremental`), against a real server (tests/postgres-cluster.sh): the watermark is the maximum
 * in the DuckDB table, written as a literal Postgres reads, so only changed rows travel; the first
 * build and `--full-refresh` take every row; a failed check keeps table and watermark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const missing = postgresMissing();
let workspace: TempWorkspace;

const ITEMS_SQL = `
  drop table if exists inc_items;
  create table inc_items (id integer primary key, name text, price numeric(10,2), seq bigint not null,
                          day date not null, updated_at timestamptz not null, score double precision not null);
  insert into inc_items
    select i, 'item ' || i, (i * 0.5)::numeric(10,2), i, date '2025-01-01' + (i % 20),
           timestamptz '2025-01-01 00:00:00+00' + i * interval '1 second', i / 7.0
    from generate_series(1, 2000) as i;`;

/** Writes one SQL asset file into the workspace's defs folder. */
function writeAsset(relative: string, text: string): void {
  const file = join(workspace.dir, 'defs', relative);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

const MERGED =
  '-- source: shop_db\n-- materialization: incremental\n-- unique_key: id\n-- watermark: updated_at\nselect * from inc_items where updated_at > {{ watermark }}\n';

async function runAll(options: { fullRefresh?: boolean } = {}) {
  const result = await workspace.run(await loadProject(workspace.dir), undefined, options.fullRefresh ? { fullRefresh: true } : {});
  expect(result.status, result.steps.map((s) => s.error).join()).toBe('success');
  return result;
}

async function metadataOf(key: string): Promise<Record<string, unknown>> {
  const [latest] = await workspace.storage.latestMaterializations([key]);
  return { ...latest?.metadata };
}

async function duck<T>(sql: string): Promise<T[]> {
  return workspace.warehouse.query<T & Record<string, unknown>>(sql) as Promise<T[]>;
}

describe.skipIf(missing !== undefined)(`incremental source: assets${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => {
    process.env.STRATA_TEST_SHOP_DB = postgresUrl();
  });
  afterAll(() => {
    delete process.env.STRATA_TEST_SHOP_DB;
  });
  beforeEach(async () => {
    await onPostgres(ITEMS_SQL);
    workspace = await openTempWorkspace('strata-pg-inc-', { name: 'pg-inc', resources: { shop_db: { type: 'postgres', url: 'env:STRATA_TEST_SHOP_DB' } } });
  });
  afterEach(() => workspace.close());

  it('loads every row first, then only the rows past the watermark, merged by key', async () => {
    writeAsset('raw/items.sql', MERGED);
    await runAll();
    expect(await metadataOf('raw/items')).toMatchObject({ build: 'full', rowsInserted: 2000 });
    await onPostgres(
      "update inc_items set name = 'renamed', updated_at = now() where id in (5, 6, 7)",
      "insert into inc_items values (2001, 'new', 1, 2001, date '2025-02-01', now(), 1), (2002, 'new', 2, 2002, date '2025-02-01', now(), 2)",
      'delete from inc_items where id = 9',
    );
    await runAll();
    // Five rows travelled: had all 2,001 come, 1,999 would count as updated.
    expect(await metadataOf('raw/items')).toMatchObject({ build: 'incremental', rowsInserted: 2, rowsUpdated: 3, rowsDeleted: 0 });
    expect(await duck("select count(*)::int as n, count(*) filter (where name = 'renamed')::int as renamed from raw.items")).toEqual([{ n: 2002, renamed: 3 }]);
    // A hard delete is not seen by a watermark; --full-refresh takes the source as it is.
    await runAll({ fullRefresh: true });
    expect(await metadataOf('raw/items')).toMatchObject({ build: 'full', rowsInserted: 2001 });
    expect(await duck('select count(*)::int as n from raw.items where id = 9')).toEqual([{ n: 0 }]);
  });

  it('writes watermarks of every supported type as literals Postgres reads', async () => {
    const columns: Record<string, string> = { seq: 'bigint', day: 'date', price: 'numeric', score: 'double', name: 'text' };
    for (const column of Object.keys(columns)) {
      writeAsset(
        `raw/by_${column}.sql`,
        `-- source: shop_db\n-- materialization: incremental\n-- watermark: ${column}\nselect id, ${column} from inc_items where ${column} > {{ watermark }}\n`,
      );
    }
    await runAll();
    for (const column of Object.keys(columns)) expect(await metadataOf(`raw/by_${column}`), column).toMatchObject({ build: 'full', rowsInserted: 2000 });
    // One row past every watermark (an append: each asset gains exactly that row).
    await onPostgres("insert into inc_items values (3000, 'zzz', 9999, 3000, date '2026-01-01', now(), 9999)");
    await runAll();
    for (const column of Object.keys(columns)) {
      expect(await metadataOf(`raw/by_${column}`), column).toMatchObject({ build: 'incremental', rowsInserted: 1, rowsUpdated: 0 });
    }
    expect(await duck('select count(*)::int as n from raw.by_seq')).toEqual([{ n: 2001 }]);
  });

  it('a failed blocking check keeps the table and its watermark, so the next run reads the same rows', async () => {
    writeAsset('raw/items.sql', MERGED);
    await runAll();
    await onPostgres('update inc_items set name = null, updated_at = now() where id = 1');
    writeAsset('raw/items.sql', MERGED.replace('-- watermark', '-- check: not_null(name)\n-- watermark'));
    const failed = await workspace.run(await loadProject(workspace.dir));
    expect(failed.status).toBe('failed');
    expect(await duck('select name from raw.items where id = 1')).toEqual([{ name: 'item 1' }]);
    await onPostgres("update inc_items set name = 'fixed' where id = 1");
    await runAll();
    expect(await metadataOf('raw/items')).toMatchObject({ build: 'incremental', rowsUpdated: 1 });
    expect(await duck('select name from raw.items where id = 1')).toEqual([{ name: 'fixed' }]);
  });

  it('{{ this }} in a query that runs on Postgres is a definition error naming the asset and file', async () => {
    writeAsset(
      'raw/items.sql',
      '-- source: shop_db\n-- materialization: incremental\n-- unique_key: id\nselect * from inc_items where id > (select max(id) from {{ this }})\n',
    );
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect(String((error as Error).message)).toMatch(/raw\/items.*raw\/items\.sql[\s\S]*\{\{ this \}\} is the asset's DuckDB table/);
  });
});
