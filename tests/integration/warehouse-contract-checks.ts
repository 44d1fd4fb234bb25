/**
 * The warehouse contract, check queries: every built-in check passing and failing, per
 * partition, as the engine's check runner runs them with the warehouse's {@link CheckQueries}.
 * Part of {@link warehouseContract}.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  acceptedRange,
  acceptedValues,
  customSql,
  freshness,
  notEmptyString,
  notNull,
  relationships,
  rowCount,
  schema,
  unique,
  type CheckSpec,
} from '../../core/model/definitions/check-spec.ts';
import { runChecks, type CheckRun, type CheckTarget } from '../../core/engine/execution/check-runner.ts';
import { describeFailure } from '../../core/engine/execution/step-checks.ts';
import type { StepSession, Warehouse } from '../../resources/warehouse.ts';
import type { WarehouseFixture } from './warehouse-contract.ts';

const NO_HISTORY = { partitionKeys: [], rowCounts: new Map(), previousCounts: [] };

/** Checks staging/orders as one unpartitioned table. */
export function wholeTable(session: StepSession): CheckTarget {
  return {
    key: 'staging/orders',
    table: session.tableOf('staging/orders'),
    session,
    tableOf: (key) => session.tableOf(key),
    partitions: [null],
    history: NO_HISTORY,
    runId: null,
    now: new Date(),
  };
}

/** Creates staging.orders (four rows over two days, with a NULL, a blank, a duplicate key and a negative total) and staging.customers. */
export async function createOrders(warehouse: Warehouse): Promise<void> {
  await warehouse.run(`CREATE TABLE staging.orders AS SELECT * FROM (VALUES
    (1, 'open',   10.5, 'ana',  CAST('2025-03-14 10:00:00' AS TIMESTAMP), CAST('2025-03-14' AS DATE)),
    (2, 'closed', 20.0, 'bob',  CAST('2025-03-14 11:00:00' AS TIMESTAMP), CAST('2025-03-14' AS DATE)),
    (2, 'closed', -5.0, '  ',   CAST('2025-03-15 09:00:00' AS TIMESTAMP), CAST('2025-03-15' AS DATE)),
    (4, 'lost',   7.0,  NULL,   CAST('2025-03-15 12:00:00' AS TIMESTAMP), CAST('2025-03-15' AS DATE))
  ) AS t(order_id, status, total, customer, closed_at, business_date)`);
  await warehouse.run("CREATE TABLE staging.customers AS SELECT * FROM (VALUES ('ana'), ('bob')) AS t(name)");
}

export function warehouseChecksContract(warehouse: () => Warehouse, fixture: WarehouseFixture): void {
  describe('check queries', () => {
    beforeEach(() => createOrders(warehouse()));

    /** Runs one check on staging/orders, per partition over both days; returns violations by partition. */
    async function violations(check: CheckSpec, now = new Date('2025-03-16T00:00:00Z')): Promise<Record<string, number>> {
      const session = warehouse().session('staging/orders');
      const target: CheckTarget = {
        key: 'staging/orders',
        table: session.tableOf('staging/orders'),
        session,
        tableOf: (key) => session.tableOf(key),
        scope: {
          column: 'business_date',
          complete: false,
          partitions: [
            { key: '2025-03-14', start: '2025-03-14 00:00:00', end: '2025-03-15 00:00:00' },
            { key: '2025-03-15', start: '2025-03-15 00:00:00', end: '2025-03-16 00:00:00' },
          ],
        },
        partitions: ['2025-03-14', '2025-03-15'],
        history: NO_HISTORY,
        runId: null,
        now,
      };
      const [run] = await runChecks([check], target);
      await session.rollback();
      expect(run?.results.every((r) => r.error === undefined)).toBe(true);
      return Object.fromEntries((run?.results ?? []).map((r) => [r.partition, r.violations]));
    }

    it.each([
      ['not_null', notNull('customer'), { '2025-03-14': 0, '2025-03-15': 1 }],
      ['not_null, passing', notNull('order_id'), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['not_empty_string', notEmptyString('customer'), { '2025-03-14': 0, '2025-03-15': 1 }],
      ['unique within a partition', unique('order_id'), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['unique compound', unique(['order_id', 'status']), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['accepted_values', acceptedValues('status', ['open', 'closed']), { '2025-03-14': 0, '2025-03-15': 1 }],
      ['accepted_values, passing', acceptedValues('status', ['open', 'closed', 'lost']), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['accepted_range', acceptedRange('total', { min: 0 }), { '2025-03-14': 0, '2025-03-15': 1 }],
      ['accepted_range, passing', acceptedRange('total', { min: -10, max: 100 }), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['relationships', relationships('customer', { to: 'staging/customers', field: 'name' }), { '2025-03-14': 0, '2025-03-15': 1 }],
      ['row_count', rowCount({ min: 2, max: 2 }), { '2025-03-14': 0, '2025-03-15': 0 }],
      ['row_count failing', rowCount({ min: 3 }), { '2025-03-14': 1, '2025-03-15': 1 }],
      ['custom_sql', customSql('no_negative_totals', 'select * from {{ this }} where total < 0'), { '2025-03-14': 1, '2025-03-15': 1 }],
      ['custom_sql, passing', customSql('no_huge_totals', 'select * from {{ this }} where total > 1000'), { '2025-03-14': 0, '2025-03-15': 0 }],
    ] as const)('%s', async (_name, check, expected) => {
      expect(await violations(check)).toEqual(expected);
    });

    it('schema compares column types by the warehouse’s names, case-insensitively', async () => {
      const { integer, text } = fixture.typeNames;
      expect(await violations(schema({ order_id: integer.toLowerCase(), status: text }))).toEqual({ '2025-03-14': 0, '2025-03-15': 0 });
      expect(await violations(schema({ order_id: text, missing: integer }))).toEqual({ '2025-03-14': 2, '2025-03-15': 2 });
    });

    it('unique counts duplicated keys across one partition', async () => {
      const session = warehouse().session('staging/orders');
      const [run] = await runChecks([unique('order_id')], wholeTable(session));
      await session.rollback();
      expect(run?.results[0]).toMatchObject({ passed: false, violations: 1, sample: [{ order_id: 2, duplicates: 2 }] });
    });

    it('freshness compares the newest timestamp with the clock', async () => {
      expect(await violations(freshness('closed_at', '1d'), new Date('2025-03-16T00:00:00Z'))).toEqual({ '2025-03-14': 0, '2025-03-15': 0 });
      expect(await violations(freshness('closed_at', '2h'), new Date('2025-03-16T00:00:00Z'))).toEqual({ '2025-03-14': 1, '2025-03-15': 1 });
    });

    it('on a wide table the failing-row sample keeps the checked column and the partition column (they come first)', async () => {
      const session = warehouse().session('marts/events');
      const filler = Array.from({ length: 38 }, (_, i) => `${i} AS c${String(i).padStart(2, '0')}`).join(', ');
      await session.replaceTable(
        `SELECT CAST('2025-03-14' AS DATE) AS day, ${filler}, CASE WHEN x = 1 THEN NULL ELSE x END AS amount FROM ${fixture.series(3)} AS s`,
      );
      const target: CheckTarget = {
        ...wholeTable(session),
        key: 'marts/events',
        table: session.tableOf('marts/events'),
        scope: { column: 'day', complete: false, partitions: [{ key: '2025-03-14', start: '2025-03-14 00:00:00', end: '2025-03-15 00:00:00' }] },
        partitions: ['2025-03-14'],
      };
      const [run] = await runChecks([notNull('amount')], target);
      await session.rollback();
      const sample = run?.results[0]?.sample ?? [];
      expect(sample).toHaveLength(1);
      expect(Object.keys(sample[0] ?? {})).toEqual(['amount', 'day', ...Array.from({ length: 10 }, (_, i) => `c0${i}`)]);
      expect(sample[0]).toMatchObject({ amount: null });
      expect(describeFailure(run as CheckRun)).toMatch(/^not_null\(amount\): 1 violation in 2025-03-14 \(amount=null, day=2025-03-14, c00=0, c01=1\)$/);
    });

    it('a check on a column that does not exist is an error outcome, not a violation; the next check runs unless the error aborted the transaction', async () => {
      const session = warehouse().session('staging/orders');
      const runs = await runChecks([notNull('no_such_column'), notNull('order_id')], wholeTable(session));
      await session.rollback();
      expect(runs[0]?.results[0]).toMatchObject({ passed: false, violations: 0, sample: [] });
      expect(runs[0]?.results[0]?.error).toMatch(/no_such_column/);
      if (runs.length === 2) expect(runs[1]?.results[0]).toMatchObject({ passed: true });
      else expect(runs[0]).toMatchObject({ abortedTransaction: true });
    });
  });
}
