/**
 * Checks that read other assets, through the CLI on a small SQL project: on a fresh warehouse
 * at the default concurrency the check target is built first and the checks pass; `lineage`
 * (text and JSON) and `+sel` show the target as a check dependency; a check that cannot run is
 * an error in `runs`, `checks`, `checks history` and the CHECKS column of `status`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox, stackFrames } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

const FILES = {
  'strata.json': JSON.stringify({ name: 'check-deps' }),
  'defs/staging/customers.sql': 'select i as customer_id from range(1, 200001) as t(i) order by hash(i)\n',
  'defs/marts/orders.sql': `-- check: relationships(customer_id, staging/customers.customer_id)
-- check: custom_sql(orders_of_known_customers): select o.* from {{ this }} as o anti join staging.customers as c using (customer_id)
select i as order_id, i * 3 as customer_id from range(1, 1001) as t(i)
`,
};

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('check-deps', FILES);
});

afterAll(() => sandbox?.cleanup());

describe('checks that read other assets, in the CLI', () => {
  it('a check that cannot run is an error, not a violation count, everywhere it is shown', () => {
    // Only marts/orders, on a fresh warehouse: the assets its checks read do not exist.
    const run = runCli(['materialize', '--select', 'marts/orders', '--project', project]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /✗ marts\/orders +blocking checks failed, nothing published: relationships\(customer_id, staging\/customers\.customer_id\): could not run: Catalog Error: Table with name/,
    );
    expect(run.stdout).not.toMatch(/violation/);
    const status = runCli(['status', '--project', project]);
    expect(status.stdout).toMatch(/marts\/orders .* 2 error/);
    const history = runCli(['checks', 'history', 'marts/orders', '--project', project]);
    expect(history.stdout).toMatch(/orders_of_known_customers +- +error +Catalog Error: Table with name/);
    expect(stackFrames(run.stdout + run.stderr + status.stderr + history.stderr)).toEqual([]);
  });

  it('+marts/orders builds the check target first at concurrency 4, and every check passes', () => {
    const run = runCli(['materialize', '--select', '+marts/orders', '--project', project]);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Materializing 2 assets/);
    expect(run.stdout.indexOf('staging/customers')).toBeLessThan(run.stdout.indexOf('✓ marts/orders'));
    const checks = runCli(['checks', '--project', project]);
    expect(checks.status, checks.stdout).toBe(0);
    expect(checks.stdout).toMatch(/2 checks on 1 assets: 2 passed, 0 failed/);
    const status = parseJson<{ key: string; checks: unknown }[]>(runCli(['status', '--json', '--project', project]));
    expect(status.find((s) => s.key === 'marts/orders')?.checks).toEqual({ total: 2, failed: 0, warned: 0, errored: 0 });
  });

  it('lineage shows the target as a check dependency, in text and JSON', () => {
    const text = runCli(['lineage', 'marts/orders', '--upstream', '--project', project]);
    expect(text.stdout).toContain('└── staging/customers (check)');
    const json = parseJson<{ upstream: unknown[]; edges: unknown[] }>(runCli(['lineage', 'staging/customers', '--json', '--project', project]));
    expect(json.edges).toEqual([{ upstream: 'staging/customers', downstream: 'marts/orders', via: 'check' }]);
    const list = parseJson<{ key: string }[]>(runCli(['list', '--select', '+marts/orders', '--json', '--project', project]));
    expect(list.map((a) => a.key)).toEqual(['staging/customers', 'marts/orders']);
  });
});
