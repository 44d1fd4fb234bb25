/**
 * The schema diff against an oracle: on random pairs of schemas (shared, dropped, added and
 * retyped columns, in any order), applying diff(a, b) to a gives b's columns and types, and the
 * diff is empty exactly when a and b have the same columns with the same types.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applySchemaDiff,
  isEmptyDiff,
  recordedSchema,
  schemaChangeLevel,
  schemaChangeText,
  schemaDiff,
  type TableSchema,
} from '../../core/model/schema/table-schema.ts';

const TYPES = ['INTEGER', 'BIGINT', 'VARCHAR', 'DOUBLE', 'DECIMAL(10,2)', 'DATE'] as const;

const schemaArbitrary: fc.Arbitrary<TableSchema> = fc
  .uniqueArray(fc.constantFrom('id', 'amount', 'name', 'legacy_code', 'discount_pct', 'Customer', 'a b'), { maxLength: 7 })
  .chain((names) => fc.tuple(...names.map((name) => fc.constantFrom(...TYPES).map((type) => ({ name, type })))));

/** Columns and types, order left out: a move is not a change. */
const asMap = (schema: TableSchema) => new Map(schema.map((c) => [c.name, c.type]));

describe('schema diff', () => {
  it('applying diff(a, b) to a gives b, and the diff is empty exactly when nothing changed', () => {
    fc.assert(
      fc.property(schemaArbitrary, schemaArbitrary, (a, b) => {
        const diff = schemaDiff(a, b);
        expect(asMap(applySchemaDiff(a, diff))).toEqual(asMap(b));
        const same = a.length === b.length && a.every((c) => asMap(b).get(c.name) === c.type);
        expect(isEmptyDiff(diff)).toBe(same);
      }),
      { numRuns: 500 },
    );
  });

  it('b with a shuffled is no change, and every change is listed once', () => {
    fc.assert(
      fc.property(schemaArbitrary, (a) => {
        expect(isEmptyDiff(schemaDiff(a, [...a].reverse()))).toBe(true);
        const diff = schemaDiff(a, []);
        expect(diff.removed.map((c) => c.name)).toEqual(a.map((c) => c.name));
      }),
    );
  });

  it('says the change in one line, at warn when columns were removed or retyped', () => {
    const before = [
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(10,2)' },
      { name: 'legacy_code', type: 'VARCHAR' },
    ];
    const after = [
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DOUBLE' },
      { name: 'discount_pct', type: 'DOUBLE' },
    ];
    const diff = schemaDiff(before, after);
    expect(schemaChangeText(diff)).toBe('+discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE');
    expect(schemaChangeLevel(diff)).toBe('warn');
    expect(schemaChangeLevel(schemaDiff(before, [...before, { name: 'x', type: 'DATE' }]))).toBe('info');
  });

  it('reads a recorded schema back only when it is well formed', () => {
    expect(recordedSchema({ schema: [{ name: 'id', type: 'INTEGER' }] })).toEqual([{ name: 'id', type: 'INTEGER' }]);
    expect(recordedSchema({ schema: [{ name: 'id' }] })).toBeUndefined();
    expect(recordedSchema({})).toBeUndefined();
  });
});
