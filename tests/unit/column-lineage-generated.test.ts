/**
 * Generated cases for column lineage: random chains of CTEs over a random table (joined with a
 * second one or not), each a
 * projection of kept, renamed, computed, constant and aggregated columns (with positional group
 * by), `*`, and filters. The generator knows each column's upstream columns by construction; the
 * trace of DuckDB's parse tree must agree, and DuckDB must bind every generated query with
 * exactly the column names the generator expects.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSqlTree } from '../../core/engine/project/sql-dependencies.ts';
import { traceColumnLineage } from '../../core/model/lineage/column-lineage-trace.ts';
import { strongerKind, type DirectKind } from '../../core/model/lineage/column-lineage.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let aggregates: Set<string>;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run('CREATE SCHEMA raw');
  const reader = await connection.runAndReadAll("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'");
  aggregates = new Set(reader.getRows().map((r) => String(r[0])));
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

type Item =
  | { readonly t: 'col'; readonly a: number; readonly rename: boolean }
  | { readonly t: 'expr'; readonly a: number; readonly b: number }
  | { readonly t: 'agg'; readonly a: number; readonly fn: 'sum' | 'max' | 'count' }
  | { readonly t: 'const' }
  | { readonly t: 'star' };

const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.record({ t: fc.constant('col' as const), a: fc.nat(), rename: fc.boolean() }),
  fc.record({ t: fc.constant('expr' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ t: fc.constant('agg' as const), a: fc.nat(), fn: fc.constantFrom('sum' as const, 'max' as const, 'count' as const) }),
  fc.constant({ t: 'const' as const }),
  fc.constant({ t: 'star' as const }),
);
const stepArb = fc.record({ items: fc.array(itemArb, { minLength: 1, maxLength: 5 }), filter: fc.option(fc.nat(), { nil: undefined }) });
const planArb = fc.record({
  width: fc.integer({ min: 1, max: 5 }),
  /** Columns of a second table joined in the first step (0: no join). */
  joined: fc.integer({ min: 0, max: 3 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 5 }),
});

/** A column as the generator knows it: its name and its base-table columns with their kind. */
interface Known {
  readonly name: string;
  readonly sources: ReadonlyMap<string, DirectKind>;
}

function lifted(sources: ReadonlyMap<string, DirectKind>, kind: DirectKind): Map<string, DirectKind> {
  return new Map([...sources].map(([column, k]) => [column, strongerKind(k, kind)]));
}

/** The query of a plan and what its lineage must be. */
function build(plan: {
  readonly width: number;
  readonly joined: number;
  readonly steps: readonly { readonly items: readonly Item[]; readonly filter: number | undefined }[];
}) {
  const base = (table: string, prefix: string, width: number): Known[] =>
    Array.from({ length: width }, (_, i) => ({ name: `${prefix}${i}`, sources: new Map([[`${table}.${prefix}${i}`, 'identity' as DirectKind]]) }));
  let input: Known[] = [...base('t0', 'c', plan.width), ...base('t1', 'd', plan.joined)];
  const indirect = new Set<string>();
  const ctes: string[] = [];
  let from = 'raw.t0';
  if (plan.joined > 0) {
    from = 'raw.t0 join raw.t1 on c0 = d0';
    indirect.add('t0.c0:join').add('t1.d0:join');
  }
  plan.steps.forEach((step, s) => {
    const hasAggregate = step.items.some((item) => item.t === 'agg');
    const output: Known[] = [];
    const select: string[] = [];
    const groupBy: number[] = [];
    const pick = (n: number) => input[n % input.length] as Known;
    const fresh = (i: number) => `s${s}_${i}`;
    const taken = (name: string) => output.some((o) => o.name === name);
    step.items.forEach((item, i) => {
      if (item.t === 'star' && !hasAggregate && !input.some((c) => taken(c.name))) {
        select.push('*');
        output.push(...input);
        return;
      }
      if (item.t === 'agg') {
        const column = pick(item.a);
        select.push(`${item.fn}(${column.name}) as ${fresh(i)}`);
        output.push({ name: fresh(i), sources: lifted(column.sources, 'aggregation') });
        return;
      }
      if (item.t === 'expr') {
        const [a, b] = [pick(item.a), pick(item.b)];
        select.push(`${a.name} + ${b.name} as ${fresh(i)}`);
        const sources = lifted(a.sources, 'transformation');
        for (const [column, kind] of lifted(b.sources, 'transformation')) sources.set(column, strongerKind(sources.get(column) ?? kind, kind));
        output.push({ name: fresh(i), sources });
      } else if (item.t === 'col' || item.t === 'star') {
        const column = pick(item.t === 'col' ? item.a : i);
        const name = (item.t === 'col' && item.rename) || taken(column.name) ? fresh(i) : column.name;
        select.push(name === column.name ? column.name : `${column.name} as ${name}`);
        output.push({ name, sources: column.sources });
      } else {
        select.push(`42 as ${fresh(i)}`);
        output.push({ name: fresh(i), sources: new Map() });
      }
      if (hasAggregate) groupBy.push(output.length);
      if (hasAggregate) for (const column of (output.at(-1) as Known).sources.keys()) indirect.add(`${column}:group_by`);
    });
    let where = '';
    if (step.filter !== undefined) {
      const column = pick(step.filter);
      where = ` where ${column.name} is not null`;
      for (const c of column.sources.keys()) indirect.add(`${c}:filter`);
    }
    const group = groupBy.length > 0 ? ` group by ${groupBy.join(', ')}` : '';
    ctes.push(`q${s} as (select ${select.join(', ')} from ${from}${where}${group})`);
    from = `q${s}`;
    input = output;
  });
  const sql = `with ${ctes.join(',\n')}\nselect * from ${from}`;
  const expected = input.map((c) =>
    `${c.name} <- ${[...c.sources]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([column, kind]) => `raw/${column}:${kind}`)
      .join(', ')}`.trimEnd(),
  );
  return { sql, expected, indirect: [...indirect].map((i) => `raw/${i}`).sort() };
}

describe('column lineage of generated queries', () => {
  it('agrees with what the generator knows by construction, and DuckDB binds the same column names', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const { sql, expected, indirect } = build(plan);
        const columns = Array.from({ length: plan.width }, (_, i) => `c${i}`);
        const joinedColumns = Array.from({ length: Math.max(1, plan.joined) }, (_, i) => `d${i}`);
        await connection.run(`CREATE OR REPLACE TABLE raw.t0 (${columns.map((c) => `${c} INTEGER`).join(', ')})`);
        await connection.run(`CREATE OR REPLACE TABLE raw.t1 (${joinedColumns.map((c) => `${c} INTEGER`).join(', ')})`);
        const described = (await connection.runAndReadAll(`DESCRIBE ${sql}`)).getRows().map((r) => String(r[0]));
        const parsed = await parseSqlTree(connection, sql);
        if (!parsed.ok) throw new Error(parsed.message);
        const lineage = traceColumnLineage('marts/out', parsed.tree, {
          aggregates,
          table: (ref) =>
            ref.schema !== 'raw'
              ? undefined
              : ref.table === 't0'
                ? { asset: 'raw/t0', columns }
                : ref.table === 't1'
                  ? { asset: 'raw/t1', columns: joinedColumns }
                  : undefined,
        });
        const traced = lineage.columns?.map((c) => `${c.name} <- ${c.sources.map((s) => `${s.asset}.${s.column}:${s.kind}`).join(', ')}`.trimEnd());
        expect(described).toEqual(expected.map((e) => e.split(' <-')[0]));
        expect(traced).toEqual(expected);
        expect(lineage.indirect.map((s) => `${s.asset}.${s.column}:${s.kind}`)).toEqual(indirect);
        expect(lineage.unknown).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });
});
