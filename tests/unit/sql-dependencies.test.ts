import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dependenciesToKeys,
  inferMany,
  inferSqlDependencies,
  parseSqlTree,
  parseSqlTrees,
  SqlDependencyCache,
} from '../../core/engine/project/sql-dependencies.ts';
import type { SqlTableRef } from '../../core/engine/project/sql-dependencies.ts';
import { SqlHashCache } from '../../core/engine/project/sql-hash-cache.ts';
import { z } from 'zod';

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

async function tables(sql: string): Promise<string[]> {
  const result = await inferSqlDependencies(connection, sql);
  if (!result.ok) throw new Error(result.message);
  return result.tables.map((t) => [t.catalog, t.schema, t.table].filter((p) => p != null).join('.'));
}

describe('inferSqlDependencies', () => {
  it('finds a simple table', async () => {
    expect(await tables('select * from raw.orders')).toEqual(['raw.orders']);
  });

  it('finds both sides of joins, once each', async () => {
    const sql = `select * from raw.orders o
      join raw.payments p on p.order_id = o.id
      left join staging.customers c using (customer_id)
      cross join raw.orders o2`;
    expect(await tables(sql)).toEqual(['raw.orders', 'raw.payments', 'staging.customers']);
  });

  it('ignores CTE names, including one that shadows nothing', async () => {
    const sql = `with paid as (select * from raw.payments), nothing_like_a_table as (select 1)
      select * from paid, nothing_like_a_table`;
    expect(await tables(sql)).toEqual(['raw.payments']);
  });

  it('keeps a schema-qualified table named like a CTE', async () => {
    expect(await tables('with orders as (select * from raw.orders) select * from orders join staging.orders using (id)')).toEqual([
      'raw.orders',
      'staging.orders',
    ]);
  });

  it('scopes nested CTEs and CTEs that use earlier ones', async () => {
    const sql = `with a as (
        with inner_cte as (select * from raw.x) select * from inner_cte
      ), b as (select * from a join raw.y using (id))
      select * from b, (with c as (select * from raw.z) select * from c) s`;
    expect(await tables(sql)).toEqual(['raw.x', 'raw.y', 'raw.z']);
  });

  it('does not let a CTE name leak out of its subquery', async () => {
    expect(await tables('select * from (with t as (select 1) select * from t) s, t')).toEqual(['t']);
  });

  it('treats a recursive CTE reference to itself as the CTE', async () => {
    const sql = 'with recursive n(i) as (select 1 union all select i + 1 from n where i < 3) select * from n, raw.t';
    expect(await tables(sql)).toEqual(['raw.t']);
  });

  it('finds tables on both sides of UNION', async () => {
    expect(await tables('select id from raw.a union all select id from raw.b except select id from raw.c')).toEqual(['raw.a', 'raw.b', 'raw.c']);
  });

  it('finds tables in IN, EXISTS, scalar and LATERAL subqueries', async () => {
    const sql = `select o.*, (select max(amount) from raw.refunds) as max_refund
      from raw.orders o, lateral (select * from raw.items i where i.order_id = o.id) li
      where o.customer_id in (select id from staging.customers)
        and exists (select 1 from raw.payments p where p.order_id = o.id)`;
    expect(await tables(sql)).toEqual(['raw.items', 'raw.orders', 'raw.payments', 'raw.refunds', 'staging.customers']);
  });

  it('does not count table functions or file scans as tables', async () => {
    const sql = `select * from read_csv('data/orders.csv') join 'data/payments.parquet' using (id)
      join raw.customers using (customer_id)`;
    expect(await tables(sql)).toEqual(['raw.customers']);
  });

  it('reads quoted identifiers, unqualified names and catalogs as written', async () => {
    expect(await tables('select * from "marts"."fct_sales", orders, warehouse.raw.t')).toEqual(['orders', 'marts.fct_sales', 'warehouse.raw.t']);
  });

  it('returns the parser error message', async () => {
    const result = await inferSqlDependencies(connection, 'selec * from raw.orders');
    expect(result).toEqual({ ok: false, message: 'Parser Error: syntax error at or near "selec"' });
  });

  it('rejects anything but one SELECT', async () => {
    expect(await inferSqlDependencies(connection, 'select 1; select 2')).toEqual({
      ok: false,
      message: 'expected a single SELECT query, found 2 statements',
    });
    const created = await inferSqlDependencies(connection, 'create table x as select 1');
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.message).toMatch(/^expected a single SELECT query/);
  });

  it('treats the SQL as data, not as part of the statement', async () => {
    expect(await tables("select * from raw.orders where note = '$1'')) --'")).toEqual(['raw.orders']);
  });
});

describe('parseSqlTrees', () => {
  it('gives the same trees as parseSqlTree, one per query in order, with the error tree of a query that does not parse', async () => {
    const sqls = ["select 'it''s' as a from raw.t", 'selec 1', 'select b from raw.u where c > 1'];
    const batch = await parseSqlTrees(connection, sqls);
    const single = await Promise.all(sqls.map((sql) => parseSqlTree(connection, sql)));
    expect(batch).toEqual(single);
    expect(batch[1]).toMatchObject({ ok: true, tree: { error: true } });
    expect(await parseSqlTrees(connection, [])).toEqual([]);
  });
});

describe('inferMany', () => {
  it('infers a batch of 50 queries quickly on one connection', async () => {
    const sqls = new Map<string, string>();
    for (let i = 0; i < 50; i++) {
      sqls.set(
        `staging/m${i}`,
        `with a as (select * from raw.t${i} join staging.u${i} using (id))
         select a.*, (select max(x) from marts.m${i}) from a
         where exists (select 1 from raw.z) union all select * from raw.q${i}`,
      );
    }
    sqls.set('staging/broken', 'select * from where');
    await inferMany(connection, new Map([['warmup', 'select 1']]));
    const started = performance.now();
    const results = await inferMany(connection, sqls);
    const elapsed = performance.now() - started;
    expect([...results.keys()]).toEqual([...sqls.keys()]);
    const first = results.get('staging/m7');
    expect(first?.ok && first.tables.map((t) => `${t.schema}.${t.table}`)).toEqual(['marts.m7', 'raw.q7', 'raw.t7', 'raw.z', 'staging.u7']);
    expect(results.get('staging/broken')?.ok).toBe(false);
    // Typically ~20 ms; the bound only catches pathological regressions on slow machines.
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('dependenciesToKeys', () => {
  it('maps known tables to keys and reports the rest', () => {
    const refs: SqlTableRef[] = [
      { schema: 'raw', table: 'orders' },
      { schema: 'marts', table: 'finance__revenue' },
      { schema: 'Staging', table: 'Customers' },
      { schema: 'raw', table: 'missing' },
      { schema: null, table: 'orders' },
      { schema: 'raw', table: 'orders', catalog: 'other' },
    ];
    const known = new Set(['raw/orders', 'marts/finance/revenue', 'staging/customers']);
    expect(dependenciesToKeys(refs, known)).toEqual({
      deps: ['marts/finance/revenue', 'raw/orders', 'staging/customers'],
      unknown: ['orders', 'raw.missing'],
    });
  });
});

describe('SqlDependencyCache', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-sql-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips through its file and keeps only entries in use', () => {
    const path = join(dir, 'nested', 'sql-dependencies.json');
    const first = new SqlDependencyCache(path);
    expect(first.get('select 1')).toBeUndefined();
    first.set('select * from raw.a', [{ schema: 'raw', table: 'a' }]);
    first.set('select * from w.raw.b, c', [
      { schema: 'raw', table: 'b', catalog: 'w' },
      { schema: null, table: 'c' },
    ]);
    first.save();
    expect(readdirSync(join(dir, 'nested'))).toEqual(['sql-dependencies.json']);

    const second = new SqlDependencyCache(path);
    expect(second.get('select * from raw.a')).toEqual([{ schema: 'raw', table: 'a' }]);
    expect(second.get('select * from raw.a ')).toBeUndefined();
    second.save();

    const third = new SqlDependencyCache(path);
    expect(third.size).toBe(1);
    expect(third.get('select * from w.raw.b, c')).toBeUndefined();
  });

  it('keeps an unused entry for as many saves as asked, counting from its last use', () => {
    const path = join(dir, 'aging.json');
    const open = () => new SqlHashCache(path, 1, z.string(), (value) => value, 2);
    const first = open();
    first.set('a', 'A');
    first.set('b', 'B');
    first.save();
    // Two callers take turns, each using one entry: both stay.
    for (let turn = 0; turn < 4; turn++) {
      const cache = open();
      expect(cache.get(turn % 2 === 0 ? 'a' : 'b')).toBe(turn % 2 === 0 ? 'A' : 'B');
      cache.save();
      expect(open().size).toBe(2);
    }
    // 'b' was used last at turn 3; two saves without it keep it, the third drops it.
    for (const size of [2, 2, 1]) {
      const cache = open();
      expect(cache.get('a')).toBe('A');
      cache.save();
      expect(open().size).toBe(size);
    }
    expect(open().get('b')).toBeUndefined();
  });

  it('does not rewrite the file on a fully warm start', () => {
    const path = join(dir, 'warm.json');
    const cache = new SqlDependencyCache(path);
    cache.set('select 1', []);
    cache.save();
    const before = readFileSync(path, 'utf8');
    writeFileSync(path, before.replace('\n', ' \n'));
    const warm = new SqlDependencyCache(path);
    expect(warm.get('select 1')).toEqual([]);
    warm.save();
    expect(readFileSync(path, 'utf8')).toBe(before.replace('\n', ' \n'));
  });

  it('tolerates a missing or corrupt file', () => {
    expect(new SqlDependencyCache(join(dir, 'absent.json')).size).toBe(0);
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{ not json');
    expect(new SqlDependencyCache(corrupt).size).toBe(0);
    writeFileSync(corrupt, JSON.stringify({ format: 99, entries: {} }));
    const cache = new SqlDependencyCache(corrupt);
    expect(cache.size).toBe(0);
    cache.set('select 1', []);
    cache.save();
    expect(new SqlDependencyCache(corrupt).get('select 1')).toEqual([]);
  });
});
