import { describe, expect, it } from 'vitest';
import { acceptedRange, notNull, rowCountAnomaly, schema, unique } from '../../core/model/definitions/check-spec.ts';
import { parseCheckText } from '../../core/model/definitions/check-text.ts';
import { anomalyVerdict } from '../../core/model/definitions/row-count-anomaly.ts';
import { parseSqlAssetFile } from '../../core/model/definitions/sql-asset-file.ts';

describe('checks as a SQL header writes them', () => {
  it.each([
    ['not_null(order_id)', { type: 'not_null', column: 'order_id', name: 'not_null(order_id)', severity: 'error', blocking: true }],
    ['unique(order_id, line)', { type: 'unique', columns: ['order_id', 'line'] }],
    ["accepted_values(status, 'open', 'it''s', 3, true)", { type: 'accepted_values', values: ['open', "it's", 3, true] }],
    ['accepted_range(amount, min=0, max=1000) severity=warn', { type: 'accepted_range', min: 0, max: 1000, severity: 'warn', blocking: false }],
    ['relationships(order_id, staging/orders.order_id)', { type: 'relationships', column: 'order_id', to: 'staging/orders', field: 'order_id' }],
    ['row_count(min=1) blocking=false', { type: 'row_count', min: 1, blocking: false, severity: 'error' }],
    ['freshness(closed_at, 36h)', { type: 'freshness', column: 'closed_at', maxAgeMs: 36 * 3_600_000 }],
    ['freshness(closed_at, 2d) name=fresh', { type: 'freshness', maxAgeMs: 2 * 86_400_000, name: 'fresh' }],
    ['schema(order_id VARCHAR, total DECIMAL(10,2))', { type: 'schema', columns: { order_id: 'VARCHAR', total: 'DECIMAL(10,2)' } }],
    ['row_count_anomaly(lookback=14, max_percent=50)', { type: 'row_count_anomaly', lookback: 14, maxPercent: 50 }],
    ['not_empty_string(name)', { type: 'not_empty_string', column: 'name' }],
  ])('%s', (text, expected) => {
    expect(parseCheckText(text)).toMatchObject(expected);
  });

  it.each([
    ['nul(order_id)', /unknown check "nul"/],
    ['not_null', /expected name\(arguments\)/],
    ['not_null(order-id)', /"order-id" is not a column name/],
    ['not_null(a, b)', /not_null takes 1 column argument, got 2/],
    ['accepted_range(amount)', /give min, max or both/],
    ['accepted_range(amount, min=5, max=1)', /min 5 is above max 1/],
    ['relationships(order_id, orders)', /must be asset\.column/],
    ['freshness(closed_at, soon)', /"soon" is not a duration/],
    ['row_count_anomaly(lookback=1, max_percent=5)', /lookback must be a whole number of at least 2/],
    ['row_count_anomaly(lookback=7)', /give max_std_devs or max_percent/],
    ['not_null(a) severity=fatal', /"severity=fatal" is not an option/],
    ['accepted_values(status, open)', /open is not a value/],
  ])('rejects %s', (text, message) => {
    expect(() => parseCheckText(text)).toThrow(message);
  });

  it('collects bad check lines of a SQL file as definition errors naming the file, with duplicate names refused', () => {
    const text = '-- check: not_null(id)\n-- check: not_null(id)\n-- check: nonsense(x)\nselect 1 as id';
    const result = parseSqlAssetFile('staging/t.sql', text, 'defs/staging/t.sql');
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => `${e.context.file}: ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/defs\/staging\/t\.sql: .*unknown check "nonsense"/),
        expect.stringMatching(/two checks are named "not_null\(id\)"/),
      ]),
    );
  });

  it('builds frozen checks whose default names are their text form', () => {
    const check = unique(['a', 'b']);
    expect(check.name).toBe('unique(a, b)');
    expect(Object.isFrozen(check)).toBe(true);
    expect(acceptedRange('x', { min: 0 }, { severity: 'warn', blocking: true })).toMatchObject({ severity: 'warn', blocking: true });
    expect(notNull('x', { name: 'x present' }).name).toBe('x present');
  });

  it('schema against the previous materialization: the same check from a header and from TypeScript, bad options refused', () => {
    expect(parseCheckText('schema(previous)')).toEqual(schema({ against: 'previous' }));
    expect(parseCheckText('schema(previous, allow_added=false) severity=warn')).toEqual(
      schema({ against: 'previous', allowAdded: false }, { severity: 'warn' }),
    );
    expect(schema({ against: 'previous' })).toMatchObject({ type: 'schema_change', allowAdded: true, name: 'schema(previous)', blocking: true });
    expect(schema({ order_id: 'VARCHAR' })).toMatchObject({ type: 'schema', columns: { order_id: 'VARCHAR' } });
    expect(() => parseCheckText('schema(previous, order_id VARCHAR)')).toThrow(/schema\(previous\) takes no columns/);
    expect(() => parseCheckText('schema(previous, strict=true)')).toThrow(/takes allow_added=true\|false, not strict/);
    expect(() => schema({ against: 'latest' } as never)).toThrow(/against must be 'previous', not "latest"/);
    expect(() => schema({ against: 'previous', allowAdded: 'no' } as never)).toThrow(/allowAdded must be true or false/);
  });
});

describe('row-count anomaly verdicts', () => {
  const percent = rowCountAnomaly({ lookback: 5, maxPercent: 30 });
  const stdDevs = rowCountAnomaly({ lookback: 5, maxStdDevs: 3 });
  it('flags a count far from the trailing mean, and passes without enough history', () => {
    expect(anomalyVerdict(percent, 60, [100, 100, 100]).anomalous).toBe(true);
    expect(anomalyVerdict(percent, 80, [100, 100, 100]).anomalous).toBe(false);
    expect(anomalyVerdict(percent, 1, [100]).anomalous).toBe(false);
    expect(anomalyVerdict(stdDevs, 130, [100, 110, 90, 100]).anomalous).toBe(true);
    expect(anomalyVerdict(stdDevs, 115, [100, 110, 90, 100]).anomalous).toBe(false);
    expect(anomalyVerdict(stdDevs, 101, [100, 100]).anomalous).toBe(true);
    expect(anomalyVerdict(percent, 60, [100, 100, 100]).detail).toMatchObject({ row_count: 60, mean: 100, change_percent: -40 });
  });
});
