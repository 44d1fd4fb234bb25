/**
 * Checks that read other assets, loaded from SQL files and run on a fresh warehouse at the
 * default concurrency (4): the assets a `relationships` or `custom_sql` check reads are built
 * first, are in `+sel` and lineage as check dependencies, and do not make the checked asset
 * stale; `{{ this }}` in a SQL header's custom_sql check loads and runs; a check that cannot
 * run is an error outcome with DuckDB's message, and a blocking one fails the step.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { selectAssets } from '../../core/model/selection/index.ts';
import { computeStaleness } from '../../core/model/staleness/compute-staleness.ts';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

/** The check target is slow to build, so a check that did not wait for it would run first. */
const CUSTOMERS = 'select i as customer_id, i % 7 as region from range(1, 300001) as t(i) order by hash(i)\n';
const ORDERS = `-- check: relationships(customer_id, staging/customers.customer_id)
-- check: custom_sql(orders_of_known_customers): select o.* from {{ this }} as o anti join staging.customers as c using (customer_id)
-- check: custom_sql(no_negative_totals, severity=warn): select * from {{ this }} where total < 0
select i as order_id, i * 3 as customer_id, 10.0 as total from range(1, 1001) as t(i)
`;

describe('checks that read other assets', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace(
      'strata-check-deps-',
      { name: 'check-deps' },
      {
        'defs/staging/customers.sql': CUSTOMERS,
        'defs/marts/orders.sql': ORDERS,
      },
    );
  });

  afterEach(() => workspace.close());

  it('builds the check target first on a fresh warehouse at concurrency 4, and the checks pass', async () => {
    const project = await loadProject(workspace.dir);
    expect(project.config.concurrency).toBe(4);
    expect(project.graph.parents('marts/orders')).toEqual([]);
    expect(project.graph.checkParents('marts/orders')).toEqual(['staging/customers']);
    const result = await workspace.run(project);
    expect(result.status, result.error).toBe('success');
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['staging/customers', 'success'],
      ['marts/orders', 'success'],
    ]);
    const results = await workspace.storage.latestCheckResults(['marts/orders']);
    expect(results.map((r) => [r.checkName, r.passed, r.violations, r.error ?? null])).toEqual([
      ['no_negative_totals', true, 0, null],
      ['orders_of_known_customers', true, 0, null],
      ['relationships(customer_id, staging/customers.customer_id)', true, 0, null],
    ]);
    // {{ this }} became the asset's table.
    expect(results.find((r) => r.checkName === 'no_negative_totals')?.sql).toContain('"marts"."orders"');
  });

  it('puts check targets in +sel and in the recorded lineage as check edges', async () => {
    const project = await loadProject(workspace.dir);
    expect(selectAssets(project.graph, '+marts/orders').keys).toEqual(['staging/customers', 'marts/orders']);
    await workspace.run(project);
    expect(await workspace.storage.lineage(project.definitionVersion)).toEqual([{ upstream: 'staging/customers', downstream: 'marts/orders', via: 'check' }]);
  });

  it('does not count a check dependency for staleness', async () => {
    const project = await loadProject(workspace.dir);
    await workspace.run(project);
    await workspace.run(project, ['staging/customers']);
    const report = await computeStaleness({ project, storage: workspace.storage, keys: ['marts/orders'] });
    expect(report.stale.filter((s) => s.key === 'marts/orders')).toEqual([]);
  });

  it("gives a check that cannot run an error outcome with DuckDB's message; a blocking one fails the step, nothing published", async () => {
    const project = await loadProject(workspace.dir);
    // The check target is not in the selection and was never built.
    const result = await workspace.run(project, ['marts/orders']);
    expect(result.status).toBe('failed');
    const step = result.steps.find((s) => s.key === 'marts/orders');
    expect(step?.error).toMatch(
      /^blocking checks failed, nothing published: relationships\(customer_id, staging\/customers\.customer_id\): could not run: Catalog Error: Table with name "?staging\.customers"? does not exist/,
    );
    const results = await workspace.storage.latestCheckResults(['marts/orders']);
    const relationship = results.find((r) => r.checkName.startsWith('relationships'));
    expect(relationship).toMatchObject({ passed: false, violations: 0, sample: [] });
    expect(relationship?.error).toMatch(/^Catalog Error: /);
    const events = await workspace.storage.listEvents(result.runId);
    expect(events.find((e) => e.type === 'check_result' && e.data?.check === 'orders_of_known_customers')).toMatchObject({
      level: 'error',
      message: expect.stringMatching(/^check orders_of_known_customers: could not run: Catalog Error/),
      data: { status: 'error', violations: 0, error: expect.stringMatching(/^Catalog Error/) },
    });
    const session = workspace.warehouse.session('marts/orders');
    const tables = await session.all<{ n: number }>("select count(*) as n from information_schema.tables where table_schema = 'marts'");
    await session.rollback();
    expect(Number(tables[0]?.n)).toBe(0);
  });
});

describe('a check-dependency cycle', () => {
  it('is a definition error naming both assets and the check, not a crash', async () => {
    const workspace = await openTempWorkspace(
      'strata-check-cycle-',
      { name: 'check-cycle' },
      {
        'defs/marts/a.sql': '-- check: relationships(id, marts/b.id)\nselect 1 as id\n',
        'defs/marts/b.sql': 'select id from marts.a\n',
      },
    );
    try {
      const error = await loadProject(workspace.dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DefinitionErrors);
      expect((error as DefinitionErrors).message).toContain(
        'dependency cycle: marts/a (defs/marts/a.sql) -> marts/b (defs/marts/b.sql) -(check relationships(id, marts/b.id))-> marts/a',
      );
    } finally {
      await workspace.close();
    }
  });
});
