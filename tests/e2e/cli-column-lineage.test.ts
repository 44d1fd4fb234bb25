/**
 * `assets lineage KEY --column COL` through the CLI on a small project: a TypeScript asset
 * without declared lineage (its columns come from the warehouse once it is written), one that
 * declares its columns, a SQL asset with `* exclude` and a filter, and a SQL mart joining and
 * aggregating. Before anything is materialized the star cannot be expanded and says so; after,
 * the trace goes through it. An unknown column is exit 2 with "did you mean"; what was computed
 * is recorded in storage for the definition version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, querySqlite, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

const FILES = {
  'package.json': '{ "type": "module" }\n',
  'strata.json': JSON.stringify({ name: 'column-lineage' }),
  'defs/raw/orders.ts': `import { asset } from 'strata';
export const orders = asset({
  key: 'raw/orders',
  materialize: async (ctx) => { await ctx.warehouse.replaceTable("select i as id, i % 3 as customer_id, i * 1.5 as amount, 'open' as status from range(1, 10) t(i)"); },
});
`,
  'defs/raw/customers.ts': `import { asset } from 'strata';
export const customers = asset({
  key: 'raw/customers',
  columnLineage: { id: [], name: [] },
  materialize: async (ctx) => { await ctx.warehouse.replaceTable("select i as id, 'c' || i as name from range(0, 3) t(i)"); },
});
`,
  'defs/staging/orders.sql': 'select * exclude (status), upper(status) as status from raw.orders where amount > 0\n',
  'defs/marts/customer_totals.sql': `select c.name, sum(o.amount) as total
from staging.orders as o join raw.customers as c on c.id = o.customer_id
group by c.name
`,
};

interface ColumnLineageJson {
  key: string;
  column: string;
  upstream: { asset: string; column: string; kind: string; depth: number; of: string }[];
  unknown: { asset: string; column: string; reason: string }[];
  indirect: { asset: string; column: string; kind: string }[];
  downstream: { asset: string; column: string; kind: string; depth: number; of: string }[];
  downstreamIndirect: { asset: string; kind: string; depth: number; of: string }[];
}

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('column-lineage', FILES);
});

afterAll(() => sandbox?.cleanup());

describe('assets lineage --column', () => {
  it('before anything is written: traces what it can and says why the rest is unknown', () => {
    const result = runCli(['lineage', 'marts/customer_totals', '--column', 'total', '--upstream', '--json', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    const lineage = parseJson<ColumnLineageJson>(result);
    expect(lineage.upstream).toEqual([{ asset: 'staging/orders', column: 'amount', kind: 'aggregation', depth: 1, of: 'marts/customer_totals.total' }]);
    expect(lineage.unknown).toEqual([{ asset: 'staging/orders', column: 'amount', reason: expect.stringContaining('raw/orders') }]);
    expect(lineage.indirect).toEqual([
      { asset: 'raw/customers', column: 'id', kind: 'join' },
      { asset: 'raw/customers', column: 'name', kind: 'group_by' },
      { asset: 'staging/orders', column: 'customer_id', kind: 'join' },
    ]);
  });

  it('after a materialization: expands the star with the warehouse columns and follows the column to its TypeScript source', () => {
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const up = parseJson<ColumnLineageJson>(runCli(['lineage', 'marts/customer_totals', '--column', 'total', '--upstream', '--json', '--project', project]));
    expect(up.upstream).toEqual([
      { asset: 'staging/orders', column: 'amount', kind: 'aggregation', depth: 1, of: 'marts/customer_totals.total' },
      { asset: 'raw/orders', column: 'amount', kind: 'identity', depth: 2, of: 'staging/orders.amount' },
    ]);
    expect(up.unknown).toEqual([{ asset: 'raw/orders', column: 'amount', reason: 'a TypeScript asset that declares no columnLineage' }]);

    const down = parseJson<ColumnLineageJson>(runCli(['lineage', 'raw/orders', '--column', 'AMOUNT', '--downstream', '--json', '--project', project]));
    expect(down.column).toBe('amount');
    expect(down.downstream).toEqual([
      { asset: 'staging/orders', column: 'amount', kind: 'identity', depth: 1, of: 'raw/orders.amount' },
      { asset: 'marts/customer_totals', column: 'total', kind: 'aggregation', depth: 2, of: 'staging/orders.amount' },
    ]);
    expect(down.downstreamIndirect).toEqual([{ asset: 'staging/orders', kind: 'filter', depth: 1, of: 'raw/orders.amount' }]);

    const declared = parseJson<ColumnLineageJson>(runCli(['lineage', 'raw/customers', '--column', 'name', '--downstream', '--json', '--project', project]));
    expect(declared.downstream).toEqual([{ asset: 'marts/customer_totals', column: 'name', kind: 'identity', depth: 1, of: 'raw/customers.name' }]);
  });

  it('prints a tree per direction in text', () => {
    const result = runCli(['lineage', 'staging/orders', '--column', 'status', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('upstream of staging/orders.status\nstaging/orders.status\n└── raw/orders.status (transformation)\n');
    expect(result.stdout).toContain('staging/orders also uses (joins, filters, grouping, sorting, windows):\n  raw/orders.amount (filter)\n');
    expect(result.stdout).toContain('downstream of staging/orders.status\nstaging/orders.status\n');
  });

  it('an unknown column: exit 2 with "did you mean", no stack trace', () => {
    const result = runCli(['lineage', 'marts/customer_totals', '--column', 'totl', '--project', project]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('asset "marts/customer_totals" has no column "totl" (did you mean "total"?)');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
  });

  it('records the column lineage of every asset for the definition version', () => {
    const rows = querySqlite<{ asset_key: string; lineage: string }>(
      stateFiles(project).storage,
      'select asset_key, lineage from column_lineage order by asset_key',
    );
    expect(rows.map((r) => r.asset_key)).toEqual(['marts/customer_totals', 'raw/customers', 'raw/orders', 'staging/orders']);
    const versions = querySqlite<{ n: number }>(stateFiles(project).storage, 'select count(distinct definition_version) as n from column_lineage');
    expect(versions).toEqual([{ n: 1 }]);
    expect(JSON.parse(rows[3]?.lineage ?? '{}').columns.map((c: { name: string }) => c.name)).toEqual(['id', 'customer_id', 'amount', 'status']);
  });
});
