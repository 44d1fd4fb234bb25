/**
 * Data-quality checks on real DuckDB tables: DuckDB's messages for checks that cannot run (every
 * built-in check passing and failing is in the warehouse contract, warehouse-contract-checks.ts);
 * then through the executor: write-audit-publish (a blocking failure leaves the previous table
 * byte-for-byte and skips downstream), warn-level failures recorded, the row-count anomaly check
 * against stored history, failing-row samples stored.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acceptedRange, customSql, notNull, rowCountAnomaly, unique, type CheckSpec } from '../../core/model/definitions/check-spec.ts';
import { runChecks } from '../../core/engine/execution/check-runner.ts';
import { buildSpec, makeDefinition, type AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { createOrders, wholeTable } from './warehouse-contract-checks.ts';

describe("checks on a DuckDB table (DuckDB's own messages; the rest is in the warehouse contract)", () => {
  let warehouse: DuckDBWarehouse;

  beforeAll(async () => {
    warehouse = await DuckDBWarehouse.open(':memory:');
    await warehouse.ensureSchemas(['staging']);
    await createOrders(warehouse);
  });

  afterAll(() => warehouse.close());

  it('unique groups by the key and keeps groups of more than one row', async () => {
    const session = warehouse.session('staging/orders');
    const [run] = await runChecks([unique('order_id')], wholeTable(session));
    await session.rollback();
    expect(run?.results[0]?.sql).toMatch(/HAVING count\(\*\) > 1/);
  });

  it("a check on a column that does not exist is an error outcome with DuckDB's message, not a violation", async () => {
    const session = warehouse.session('staging/orders');
    const [run] = await runChecks([notNull('no_such_column')], wholeTable(session));
    await session.rollback();
    expect(run?.results[0]).toMatchObject({ passed: false, violations: 0, sample: [] });
    expect(run?.results[0]?.error).toMatch(/^Binder Error: .*no_such_column/);
  });

  it.each([
    ['a table that does not exist', 'select * from staging.no_such_table', /^Catalog Error: Table with name no_such_table does not exist/],
    ['a binder error', 'select * from {{ this }} where no_such_column > 0', /^Binder Error: .*no_such_column/],
  ])("a custom SQL check reading %s is an error outcome with DuckDB's message and 0 violations", async (_name, sql, message) => {
    const session = warehouse.session('staging/orders');
    const runs = await runChecks([customSql('broken', sql), notNull('order_id')], wholeTable(session));
    await session.rollback();
    expect(runs[0]?.results[0]).toMatchObject({ passed: false, violations: 0, sample: [] });
    expect(runs[0]?.results[0]?.error).toMatch(message);
    // The session is still usable: the next check ran.
    expect(runs[1]?.results[0]).toMatchObject({ passed: true });
    expect(runs[1]?.results[0]).not.toHaveProperty('error');
  });

  it('a check whose error aborts the transaction stops the checks after it', async () => {
    const session = warehouse.session('staging/orders');
    const runs = await runChecks(
      [customSql('bad_cast', "select * from {{ this }} where cast('x' || order_id as int) > 0"), notNull('order_id')],
      wholeTable(session),
    );
    await session.rollback();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ abortedTransaction: true });
    expect(runs[0]?.results[0]?.error).toMatch(/^Conversion Error/);
  });
});

describe('checks in runs', () => {
  let workspace: TempWorkspace;
  /** Rows the raw asset writes; tests change it between runs. */
  let rawRows = '(1, 10.0), (2, 20.0)';

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-checks-', { name: 'checks-test' });
    rawRows = '(1, 10.0), (2, 20.0)';
  });

  afterEach(() => workspace.close());

  function sql(key: string, text: string, deps: string[], checks: CheckSpec[] = []): AssetDefinition {
    return makeDefinition(buildSpec(key, { deps, tags: {}, owners: [], checks }, 'sql'), { type: 'sql', sql: text, materialization: 'table' });
  }

  function project(checks: CheckSpec[]): Project {
    return buildProject(workspace.config, [
      makeDefinition(buildSpec('raw/payments', { deps: [], tags: {}, owners: [], checks }, 'typescript'), {
        type: 'typescript',
        materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable(`select * from (values ${rawRows}) as t(payment_id, amount)`) }),
      }),
      sql('marts/total', 'select sum(amount) as total from raw.payments', ['raw/payments']),
    ]);
  }

  async function checksum(): Promise<string> {
    const session = workspace.warehouse.session('raw/payments');
    const [row] = await session.all<{ c: string }>("select count(*) || ':' || coalesce(sum(hash(payment_id, amount)), 0) as c from raw.payments");
    await session.rollback();
    return String(row?.c);
  }

  it('a blocking failure publishes nothing: the previous table stays byte for byte, downstream is skipped', async () => {
    const checks = [unique('payment_id'), acceptedRange('amount', { min: 0 })];
    expect((await workspace.run(project(checks))).status).toBe('success');
    const before = await checksum();
    rawRows = '(1, 10.0), (1, -3.0), (3, 5.0)';
    const result = await workspace.run(project(checks));
    expect(result.status).toBe('failed');
    const raw = result.steps.find((s) => s.key === 'raw/payments');
    expect(raw?.status).toBe('failed');
    expect(raw?.error).toMatch(/blocking checks failed, nothing published: unique\(payment_id\): 1 violation .*accepted_range\(amount, min=0\): 1 violation/);
    expect(result.steps.find((s) => s.key === 'marts/total')?.status).toBe('skipped');
    expect(await checksum()).toBe(before);
    const stored = await workspace.storage.latestCheckResults(['raw/payments']);
    expect(stored.map((r) => [r.checkName, r.passed, r.violations])).toEqual([
      ['accepted_range(amount, min=0)', false, 1],
      ['unique(payment_id)', false, 1],
    ]);
    expect(stored.find((r) => r.checkName === 'accepted_range(amount, min=0)')?.sample).toEqual([{ payment_id: 1, amount: -3 }]);
    expect(stored[0]?.runId).toBe(result.runId);
  });

  it("a blocking failure puts each check's result in the run's event log, the failed one at error level", async () => {
    rawRows = '(1, 10.0), (1, -3.0)';
    const result = await workspace.run(project([unique('payment_id'), acceptedRange('amount', { min: 0 }, { severity: 'warn' }), notNull('amount')]));
    expect(result.status).toBe('failed');
    const events = (await workspace.storage.listEvents(result.runId)).filter((e) => e.assetKey === 'raw/payments');
    const checks = events.filter((e) => e.type === 'check_result');
    expect(checks.map((e) => [e.level, e.data?.check, e.data?.passed, e.data?.violations])).toEqual([
      ['error', 'unique(payment_id)', false, 1],
      ['warn', 'accepted_range(amount, min=0)', false, 1],
      ['info', 'not_null(amount)', true, 0],
    ]);
    expect(checks[0]?.message).toMatch(/^check unique\(payment_id\): 1 violation \(payment_id=1, duplicates=2\)$/);
    // Logged before the step's failure, in the same transaction.
    expect(events.map((e) => e.type).slice(-4)).toEqual(['check_result', 'check_result', 'check_result', 'step_failure']);
  });

  it('a warn-level failure is recorded and shown but publishes the data', async () => {
    rawRows = '(1, -1.0)';
    const result = await workspace.run(project([acceptedRange('amount', { min: 0 }, { severity: 'warn' })]));
    expect(result.status).toBe('success');
    expect(await checksum()).toMatch(/^1:/);
    const [stored] = await workspace.storage.latestCheckResults(['raw/payments']);
    expect(stored).toMatchObject({ passed: false, severity: 'warn', violations: 1 });
    const events = await workspace.storage.listEvents(result.runId);
    expect(events.find((e) => e.type === 'check_result')).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/accepted_range\(amount, min=0\): 1 violation/),
    });
  });

  it('a non-blocking error-level check does not stop the run', async () => {
    rawRows = '(1, -1.0)';
    const result = await workspace.run(project([acceptedRange('amount', { min: 0 }, { blocking: false })]));
    expect(result.status).toBe('success');
    expect((await workspace.storage.latestCheckResults(['raw/payments']))[0]).toMatchObject({ passed: false, severity: 'error' });
  });

  it('row_count_anomaly compares a partition with the stored counts of the ones before it', async () => {
    const days = daily({ start: '2025-01-01', end: '2025-01-08', timezone: 'UTC' });
    const now = new Date('2025-02-01T00:00:00Z');
    const counts: Record<string, number> = { '2025-01-01': 100, '2025-01-02': 104, '2025-01-03': 96, '2025-01-04': 101, '2025-01-05': 99, '2025-01-06': 12 };
    const daily_ = makeDefinition(
      buildSpec(
        'raw/events',
        { deps: [], tags: {}, owners: [], partitions: days, partitionColumn: 'day', checks: [rowCountAnomaly({ lookback: 5, maxPercent: 30 })] },
        'typescript',
      ),
      {
        type: 'typescript',
        materialize: async (ctx) => {
          const day = ctx.partition?.key ?? '';
          return { rowCount: await ctx.warehouse.replacePartitions(`select DATE '${day}' as day, range as n from range(${counts[day] ?? 0})`) };
        },
      },
    );
    const p = buildProject(workspace.config, [daily_]);
    for (const day of Object.keys(counts)) {
      const plan = buildPlan(p.graph, p.graph.keys, { now, partitions: { key: day } });
      const result = await workspace.run(p, p.graph.keys, { now, plan });
      expect(result.status, day).toBe(day === '2025-01-06' ? 'failed' : 'success');
    }
    const results = await workspace.storage.latestCheckResults(['raw/events']);
    const bad = results.find((r) => r.partition === '2025-01-06');
    expect(bad).toMatchObject({ passed: false, violations: 1 });
    expect(bad?.sample[0]).toMatchObject({ row_count: 12, mean: 100, history: 5 });
    expect(results.find((r) => r.partition === '2025-01-02')).toMatchObject({ passed: true });
    // The failed day was never published.
    const session = workspace.warehouse.session('raw/events');
    const [row] = await session.all<{ n: number }>(`select count(*) as n from raw.events where day = DATE '2025-01-06'`);
    await session.rollback();
    expect(Number(row?.n)).toBe(0);
  });
});
