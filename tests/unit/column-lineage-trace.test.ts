import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSqlTree } from '../../core/engine/project/sql-dependencies.ts';
import { traceColumnLineage } from '../../core/model/lineage/column-lineage-trace.ts';
import type { AssetColumnLineage } from '../../core/model/lineage/column-lineage.ts';
import { DUCKDB_AGGREGATES } from '../../core/model/lineage/duckdb-aggregates.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let aggregates: Set<string>;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  const reader = await connection.runAndReadAll("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'");
  aggregates = new Set(reader.getRows().map((r) => String(r[0])));
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/** Upstream tables as `schema.table` → columns (`null`: not known yet). */
const TABLES: Record<string, readonly string[] | null> = {
  'raw.orders': ['id', 'customer_id', 'amount', 'status', 'ordered_at'],
  'raw.customers': ['id', 'name', 'country'],
  'raw.refunds': ['order_id', 'amount'],
  'raw.opaque': null,
};

async function trace(sql: string, tables = TABLES): Promise<AssetColumnLineage> {
  const parsed = await parseSqlTree(connection, sql);
  if (!parsed.ok) throw new Error(parsed.message);
  return traceColumnLineage('marts/out', parsed.tree, {
    aggregates,
    table: (ref) => {
      const id = `${ref.schema}.${ref.table}`;
      return id in tables ? { asset: id.replace('.', '/'), columns: tables[id] ?? null } : undefined;
    },
  });
}

/** `name <- asset.column:kind, …` per output column (`?` marks an unknown one). */
function columns(lineage: AssetColumnLineage): string[] | null {
  return (
    lineage.columns?.map((c) => `${c.name}${c.unknown ? '?' : ''} <- ${c.sources.map((s) => `${s.asset}.${s.column}:${s.kind}`).join(', ')}`.trimEnd()) ?? null
  );
}

function indirect(lineage: AssetColumnLineage): string[] {
  return lineage.indirect.map((s) => `${s.asset}.${s.column}:${s.kind}`);
}

describe('traceColumnLineage: plain selects', () => {
  it('tells identity, transformation and aggregation apart', async () => {
    const lineage = await trace(`select customer_id, upper(status) as status, amount * 2 as doubled, sum(amount) as total, count(*) as n
      from raw.orders group by customer_id, status, amount`);
    expect(columns(lineage)).toEqual([
      'customer_id <- raw/orders.customer_id:identity',
      'status <- raw/orders.status:transformation',
      'doubled <- raw/orders.amount:transformation',
      'total <- raw/orders.amount:aggregation',
      'n <-',
    ]);
    expect(indirect(lineage)).toEqual(['raw/orders.amount:group_by', 'raw/orders.customer_id:group_by', 'raw/orders.status:group_by']);
    expect(lineage.unknown).toBeUndefined();
  });

  it('lists join, filter, having, order and qualify columns as indirect', async () => {
    const lineage = await trace(`select o.id, c.name from raw.orders o join raw.customers c on c.id = o.customer_id
      where o.status = 'paid' order by o.ordered_at`);
    expect(columns(lineage)).toEqual(['id <- raw/orders.id:identity', 'name <- raw/customers.name:identity']);
    expect(indirect(lineage)).toEqual(['raw/customers.id:join', 'raw/orders.customer_id:join', 'raw/orders.ordered_at:sort', 'raw/orders.status:filter']);
  });

  it('takes a CASE condition as part of the value', async () => {
    const lineage = await trace(`select case when amount > 100 then 'big' else status end as size from raw.orders`);
    expect(columns(lineage)).toEqual(['size <- raw/orders.amount:transformation, raw/orders.status:transformation']);
  });

  it('resolves references to earlier select aliases and positional group by / order by', async () => {
    const lineage = await trace("select status as s, s || '!' as loud, count(*) as n from raw.orders group by 1 order by 3");
    expect(columns(lineage)).toEqual(['s <- raw/orders.status:identity', 'loud <- raw/orders.status:transformation', 'n <-']);
    expect(indirect(lineage)).toEqual(['raw/orders.status:group_by']);
  });

  it('marks an ambiguous unqualified column unknown instead of picking a table', async () => {
    const lineage = await trace('select id from raw.orders o join raw.customers c on c.id = o.customer_id');
    expect(columns(lineage)).toEqual(['id? <-']);
    expect(lineage.columns?.[0]?.unknown).toContain('ambiguous');
  });

  it('binds lambda parameters instead of looking them up as columns', async () => {
    const lineage = await trace('select list_transform([1, 2], x -> x + amount) as shifted from raw.orders');
    expect(columns(lineage)).toEqual(['shifted <- raw/orders.amount:transformation']);
  });
});

describe('traceColumnLineage: stars', () => {
  it('expands *, t.*, exclude, replace and rename with the upstream schema', async () => {
    const lineage = await trace(`select * exclude (ordered_at) replace (amount / 100 as amount) rename (status as state), c.* rename (name as customer)
      from raw.orders o join raw.customers c on c.id = o.customer_id`);
    expect(columns(lineage)).toEqual([
      'id <- raw/orders.id:identity',
      'customer_id <- raw/orders.customer_id:identity',
      'amount <- raw/orders.amount:transformation',
      'state <- raw/orders.status:identity',
      'id <- raw/customers.id:identity',
      'name <- raw/customers.name:identity',
      'country <- raw/customers.country:identity',
      'id <- raw/customers.id:identity',
      'customer <- raw/customers.name:identity',
      'country <- raw/customers.country:identity',
    ]);
  });

  it('keeps a using column once in *, and lists both sides as join columns', async () => {
    const tables = { ...TABLES, 'raw.a': ['k', 'x'], 'raw.b': ['k', 'y'] };
    const lineage = await trace('select * from raw.a join raw.b using (k)', tables);
    expect(columns(lineage)).toEqual(['k <- raw/a.k:identity', 'x <- raw/a.x:identity', 'y <- raw/b.y:identity']);
    expect(indirect(lineage)).toEqual(['raw/a.k:join', 'raw/b.k:join']);
  });

  it('does not guess what * means over a table whose columns are not known', async () => {
    const lineage = await trace('select * from raw.opaque');
    expect(lineage.columns).toBeNull();
    expect(lineage.unknown).toContain('raw/opaque');
  });

  it('still traces named columns of a single table whose schema is not known', async () => {
    const lineage = await trace('select a, b + 1 as c from raw.opaque where d > 0');
    expect(columns(lineage)).toEqual(['a <- raw/opaque.a:identity', 'c <- raw/opaque.b:transformation']);
    expect(indirect(lineage)).toEqual(['raw/opaque.d:filter']);
  });

  it('does not take a name for a column of a table of unknown columns when a select alias or an enclosing query has it', async () => {
    const alias = await trace('select a + 1 as b, b * 2 as c from raw.opaque');
    expect(columns(alias)).toEqual(['b <- raw/opaque.a:transformation', 'c? <-']);
    const correlated = await trace('select o.id, (select max(x) from raw.opaque where k = customer_id) as top from raw.orders o');
    expect(columns(correlated)).toEqual(['id <- raw/orders.id:identity', 'top <- raw/opaque.x:aggregation']);
    expect(correlated.unknown).toContain('"customer_id" may be a column of this query\'s table');
  });

  it('marks an unqualified column unknown when another table in scope has unknown columns', async () => {
    const lineage = await trace('select name from raw.customers join raw.opaque using (id)');
    expect(columns(lineage)).toEqual(['name? <-']);
  });

  it("names expressions without an alias from the asset's table when it has exactly the traced columns", async () => {
    const parsed = await parseSqlTree(connection, 'select id, amount + 1, count(*) over () from raw.orders');
    if (!parsed.ok) throw new Error(parsed.message);
    const options = { aggregates, table: () => ({ asset: 'raw/orders', columns: TABLES['raw.orders'] ?? null }) };
    const named = traceColumnLineage('marts/out', parsed.tree, { ...options, ownColumns: ['id', '(amount + 1)', 'count_star() OVER ()'] });
    expect(columns(named)).toEqual(['id <- raw/orders.id:identity', '(amount + 1) <- raw/orders.amount:transformation', 'count_star() OVER () <-']);
    expect(named.unknown).toBeUndefined();
    // A table that disagrees with a named column, or has another column count, names nothing.
    expect(traceColumnLineage('marts/out', parsed.tree, { ...options, ownColumns: ['order_id', 'x', 'y'] }).columns).toBeNull();
    expect(traceColumnLineage('marts/out', parsed.tree, { ...options, ownColumns: ['id', 'x'] }).columns).toBeNull();
  });

  it('marks a file scan and an unaliased expression as unknown', async () => {
    expect((await trace("select * from 'orders.csv'")).columns).toBeNull();
    const unnamed = await trace('select amount + 1 from raw.orders');
    expect(unnamed.columns).toBeNull();
    expect(unnamed.unknown).toContain('alias');
  });
});

describe('traceColumnLineage: nested queries', () => {
  it('follows CTEs (with column aliases) and subqueries in FROM', async () => {
    const lineage = await trace(`with paid(order_id, cents) as (select id, amount * 100 from raw.orders where status = 'paid'),
      totals as (select order_id, sum(cents) as cents from paid group by order_id)
      select t.order_id, x.total from totals t join (select order_id as oid, cents as total from totals) as x on x.oid = t.order_id`);
    expect(columns(lineage)).toEqual(['order_id <- raw/orders.id:identity', 'total <- raw/orders.amount:aggregation']);
    expect(indirect(lineage)).toEqual(['raw/orders.id:group_by', 'raw/orders.id:join', 'raw/orders.status:filter']);
  });

  it('traces a correlated scalar subquery and an exists filter', async () => {
    const lineage = await trace(`select o.id, (select sum(r.amount) from raw.refunds r where r.order_id = o.id) as refunded
      from raw.orders o where exists (select 1 from raw.customers c where c.id = o.customer_id and c.country = 'FR')`);
    expect(columns(lineage)).toEqual(['id <- raw/orders.id:identity', 'refunded <- raw/refunds.amount:aggregation']);
    expect(indirect(lineage)).toEqual([
      'raw/customers.country:filter',
      'raw/customers.id:filter',
      'raw/orders.customer_id:filter',
      'raw/orders.id:filter',
      'raw/refunds.order_id:filter',
    ]);
  });

  it('merges union sides by position, union by name by name, and except as a filter', async () => {
    const union = await trace('select id, amount from raw.orders union all select order_id, -amount from raw.refunds');
    expect(columns(union)).toEqual([
      'id <- raw/orders.id:identity, raw/refunds.order_id:identity',
      'amount <- raw/orders.amount:identity, raw/refunds.amount:transformation',
    ]);
    const byName = await trace('select amount, id from raw.orders union by name select order_id as id, amount from raw.refunds');
    expect(columns(byName)).toEqual([
      'amount <- raw/orders.amount:identity, raw/refunds.amount:identity',
      'id <- raw/orders.id:identity, raw/refunds.order_id:identity',
    ]);
    const except = await trace('select id from raw.orders except select order_id from raw.refunds');
    expect(columns(except)).toEqual(['id <- raw/orders.id:identity']);
    expect(indirect(except)).toEqual(['raw/refunds.order_id:filter']);
  });

  it('tells aggregate window functions from ranking ones, and qualify is a filter', async () => {
    const lineage = await trace(`select id, sum(amount) over (partition by customer_id order by ordered_at) as running,
      lag(amount) over (order by ordered_at) as previous, row_number() over (partition by customer_id order by amount desc) as rn
      from raw.orders qualify rn = 1`);
    expect(columns(lineage)).toEqual([
      'id <- raw/orders.id:identity',
      'running <- raw/orders.amount:aggregation',
      'previous <- raw/orders.amount:transformation',
      'rn <-',
    ]);
    expect(indirect(lineage)).toEqual(['raw/orders.amount:window', 'raw/orders.customer_id:window', 'raw/orders.ordered_at:window']);
  });

  it('groups by every non-aggregate item under group by all', async () => {
    const lineage = await trace('select customer_id, status, max(amount) as top from raw.orders group by all');
    expect(indirect(lineage)).toEqual(['raw/orders.customer_id:group_by', 'raw/orders.status:group_by']);
    expect(columns(lineage)?.[2]).toBe('top <- raw/orders.amount:aggregation');
  });

  it('knows the aggregate functions of the installed DuckDB (DUCKDB_AGGREGATES is up to date)', () => {
    expect([...DUCKDB_AGGREGATES].sort()).toEqual([...aggregates].sort());
  });

  it('takes the common columns of a natural join as join columns, and distinct on as grouping', async () => {
    const tables = { ...TABLES, 'raw.a': ['k', 'x'], 'raw.b': ['k', 'y'] };
    const lineage = await trace('select distinct on (x) x, y from raw.a natural join raw.b order by all', tables);
    expect(columns(lineage)).toEqual(['x <- raw/a.x:identity', 'y <- raw/b.y:identity']);
    expect(indirect(lineage)).toEqual(['raw/a.k:join', 'raw/a.x:group_by', 'raw/a.x:sort', 'raw/b.k:join', 'raw/b.y:sort']);
  });

  it('does not trace a recursive CTE', async () => {
    const lineage = await trace('with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select n from r');
    expect(columns(lineage)).toEqual(['n? <-']);
    expect(lineage.columns?.[0]?.unknown).toContain('recursive cte node queries are not traced');
  });

  it('reports a query DuckDB cannot parse as unknown', async () => {
    const tree = JSON.parse((await connection.runAndReadAll("SELECT json_serialize_sql('selec 1')::VARCHAR")).getRows()[0]?.[0] as string);
    const lineage = traceColumnLineage('marts/out', tree, { aggregates, table: () => undefined });
    expect(lineage).toEqual({ key: 'marts/out', columns: null, indirect: [], unknown: 'the query is not a single SELECT DuckDB can parse' });
  });
});
