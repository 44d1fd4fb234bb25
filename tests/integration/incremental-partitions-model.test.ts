/**
 * Model-based test of partitioned incremental writes on real (in-memory) DuckDB: for random
 * sequences of batches, each written to a random window of three daily partitions (some with
 * `--full-refresh`, some with a row outside the window), the table equals what a brute-force
 * model computes, and so do `{{ is_incremental }}` and `{{ watermark }}` as each batch saw them,
 * and the rows inserted, updated and deleted each partition records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { incremental, type IncrementalStrategy } from '../../core/model/definitions/incremental-config.ts';
import { runIncrementalSql } from '../../core/engine/execution/incremental-step.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';

const DAYS = ['2025-01-01', '2025-01-02', '2025-01-03'] as const;
const END = '2025-01-04';
const LOWEST = -2147483648;

interface ModelRow {
  readonly id: number;
  readonly day: number;
  readonly v: number;
  /** The batch that wrote it: the watermark column. */
  readonly w: number;
  readonly inc: boolean;
  readonly seen: number;
}

interface Batch {
  readonly first: number;
  readonly last: number;
  readonly fullRefresh: boolean;
  /** Adds a row one day after the window (or before it, for the last day): the step must fail. */
  readonly outside: boolean;
  readonly rows: readonly { readonly id: number; readonly offset: number; readonly v: number }[];
}

const batchArbitrary = (unique: boolean): fc.Arbitrary<Batch> =>
  fc
    .record({
      a: fc.nat({ max: 2 }),
      b: fc.nat({ max: 2 }),
      fullRefresh: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      outside: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
      rows: unique
        ? fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 4 }), offset: fc.nat({ max: 2 }), v: fc.integer({ min: 0, max: 9 }) }), {
            selector: (r) => r.id,
            maxLength: 4,
          })
        : fc.array(fc.record({ id: fc.integer({ min: 1, max: 4 }), offset: fc.nat({ max: 2 }), v: fc.integer({ min: 0, max: 9 }) }), { maxLength: 4 }),
    })
    .map(({ a, b, fullRefresh, outside, rows }) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      return { first, last, fullRefresh, outside, rows: rows.map((r) => ({ ...r, offset: first + (r.offset % (last - first + 1)) })) };
    });

/**
 * Per partition of the batch's window, what the write did: `build inserted/updated/deleted`. The
 * rows a write removes from a partition are those of keys among the new rows (none for append); a
 * merge counts as updated as many as both removed and added there.
 */
function expectedCounts(rows: readonly ModelRow[] | undefined, batch: Batch, strategy: IncrementalStrategy): string[] {
  const ids = new Set(batch.rows.map((r) => r.id));
  const rebuild = rows === undefined || batch.fullRefresh;
  const out: string[] = [];
  for (let day = batch.first; day <= batch.last; day++) {
    const had = rebuild ? [] : rows.filter((r) => r.day === day);
    const added = batch.rows.filter((r) => r.offset === day).length;
    const removed = strategy === 'append' ? 0 : had.filter((r) => ids.has(r.id)).length;
    const updated = strategy === 'merge' ? Math.min(removed, added) : 0;
    out.push(`${DAYS[day]} ${had.length > 0 ? 'incremental' : 'full'} ${added - updated}/${updated}/${removed - updated}`);
  }
  return out;
}

/** The model after one successful batch (the `w`-th), and what the batch saw. */
function applyBatch(rows: readonly ModelRow[] | undefined, batch: Batch, strategy: IncrementalStrategy, w: number): ModelRow[] {
  const inWindow = (row: ModelRow) => row.day >= batch.first && row.day <= batch.last;
  const fromTable = rows !== undefined && !batch.fullRefresh;
  const windowRows = fromTable ? rows.filter(inWindow) : [];
  const inc = windowRows.length > 0;
  const seen = windowRows.length === 0 ? LOWEST : Math.max(...windowRows.map((r) => r.w));
  const incoming = batch.rows.map((r) => ({ id: r.id, day: r.offset, v: r.v, w, inc, seen }));
  const before = rows ?? [];
  if (!fromTable) return [...before.filter((r) => !inWindow(r)), ...incoming];
  const ids = new Set(incoming.map((r) => r.id));
  const kept = strategy === 'append' ? before : before.filter((r) => !(inWindow(r) && ids.has(r.id)));
  return [...kept, ...incoming];
}

function batchSql(batch: Batch, w: number): string {
  const rows = batch.rows.map((r) => ({ id: r.id, day: r.offset, v: r.v }));
  if (batch.outside) rows.push({ id: 1, day: batch.last < 2 ? batch.last + 1 : batch.first - 1, v: 0 });
  const day = (d: number) => (d < 0 ? "DATE '2024-12-31'" : `DATE '${DAYS[d] ?? END}'`);
  const values = rows.map((r) => `(${r.id}, ${day(r.day)}, ${r.v})`).join(', ');
  const source = values === '' ? "select 1 as id, DATE '2025-01-01' as day, 1 as v where false" : `select * from (values ${values}) t(id, day, v)`;
  return `select id::INTEGER as id, day, v::INTEGER as v, ${w}::INTEGER as w, {{ is_incremental }} as inc, {{ watermark }} as seen from (${source})`;
}

const render = (rows: readonly ModelRow[]) => rows.map((r) => `${r.id}|${DAYS[r.day]}|${r.v}|${r.w}|${r.inc}|${r.seen}`).sort();

describe('partitioned incremental writes against a brute-force model', () => {
  for (const strategy of ['merge', 'append', 'delete+insert'] as const) {
    it(`${strategy}: random batches over random windows leave the table the model computes`, async () => {
      const config = incremental({ ...(strategy === 'append' ? {} : { uniqueKey: 'id' }), strategy, watermark: 'w' });
      const warehouse = await DuckDBWarehouse.open(':memory:');
      await warehouse.ensureSchemas(['raw']);
      await fc
        .assert(
          fc.asyncProperty(fc.array(batchArbitrary(strategy === 'merge'), { minLength: 1, maxLength: 6 }), async (batches) => {
            await warehouse.query('DROP TABLE IF EXISTS raw.t');
            warehouse.checkedTables.clear();
            let model: ModelRow[] | undefined;
            for (const [index, batch] of batches.entries()) {
              const w = index + 1;
              const partitions = DAYS.slice(batch.first, batch.last + 1).map((key, i) => ({
                key,
                start: `${key} 00:00:00`,
                end: `${DAYS[batch.first + i + 1] ?? END} 00:00:00`,
              }));
              const session = warehouse.session('raw/t', { column: 'day', complete: batch.first === 0 && batch.last === 2, partitions });
              try {
                const result = await runIncrementalSql(session, { key: 'raw/t' }, batchSql(batch, w), config, {}, batch.fullRefresh);
                expect(batch.outside, 'a row outside the window was written').toBe(false);
                const counts = [...(session.partitionCounts ?? [])].map(([day, c]) => `${day} ${c.build} ${c.rowsInserted}/${c.rowsUpdated}/${c.rowsDeleted}`);
                expect(counts).toEqual(expectedCounts(model, batch, strategy));
                const totals = [...(session.partitionCounts?.values() ?? [])].reduce<number[]>(
                  (t, c) => [(t[0] ?? 0) + c.rowsInserted, (t[1] ?? 0) + c.rowsUpdated, (t[2] ?? 0) + c.rowsDeleted],
                  [0, 0, 0],
                );
                expect([result.metadata?.rowsInserted, result.metadata?.rowsUpdated, result.metadata?.rowsDeleted]).toEqual(totals);
                await session.commit();
                model = applyBatch(model, batch, strategy, w);
              } catch (error) {
                await session.rollback();
                if (!batch.outside) throw error;
                expect(String(error)).toContain('fall outside the partitions being written');
              }
              const table =
                model === undefined ? [] : await warehouse.query<Record<string, unknown>>('select id, day::varchar as day, v, w, inc, seen from raw.t');
              expect(table.map((r) => `${String(r.id)}|${String(r.day)}|${String(r.v)}|${String(r.w)}|${String(r.inc)}|${String(r.seen)}`).sort()).toEqual(
                render(model ?? []),
              );
            }
          }),
          { numRuns: 25 },
        )
        .finally(() => warehouse.close());
    }, 120_000);
  }
});
