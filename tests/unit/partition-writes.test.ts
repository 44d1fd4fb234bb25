import { describe, expect, it } from 'vitest';
import { assignBuckets, boundLiteral, countRowsSql, scopeFilter, type PartitionScope } from '../../resources/partition-writes.ts';

const days: PartitionScope = {
  column: 'day',
  complete: false,
  partitions: [
    { key: '2025-01-01', start: '2025-01-01 00:00:00', end: '2025-01-02 00:00:00' },
    { key: '2025-01-02', start: '2025-01-02 00:00:00', end: '2025-01-03 00:00:00' },
    { key: '2025-01-03', start: '2025-01-03 00:00:00', end: '2025-01-04 00:00:00' },
  ],
};

describe('partition write SQL', () => {
  it('filters a DATE column with DATE literals and other columns with TIMESTAMP literals', () => {
    expect(scopeFilter(days, '"day"', 'DATE')).toBe(`"day" >= DATE '2025-01-01' AND "day" < DATE '2025-01-04'`);
    expect(scopeFilter(days, '"day"', 'TIMESTAMP')).toBe(`"day" >= TIMESTAMP '2025-01-01 00:00:00' AND "day" < TIMESTAMP '2025-01-04 00:00:00'`);
    expect(boundLiteral('2025-01-01 13:00:00', 'DATE')).toBe(`TIMESTAMP '2025-01-01 13:00:00'`);
  });

  it('filters static partitions by key', () => {
    const regions: PartitionScope = { column: 'region', complete: false, partitions: [{ key: 'eu' }, { key: "o'k" }] };
    expect(scopeFilter(regions, '"region"', 'VARCHAR')).toBe(`"region"::VARCHAR IN ('eu', 'o''k')`);
  });

  it('counts one window directly and a range by day buckets', () => {
    const one = { ...days, partitions: days.partitions.slice(0, 1) };
    expect(countRowsSql(one, 't', '"day"', 'DATE')).toContain(`SELECT '2025-01-01' AS k, count(*)`);
    expect(countRowsSql(days, 't', '"day"', 'DATE')).toContain(`date_trunc('day', "day")`);
    const hours = {
      ...days,
      partitions: [
        { key: 'a', start: '2025-01-01 01:00:00', end: '2025-01-01 02:00:00' },
        { key: 'b', start: '2025-01-01 02:00:00', end: '2025-01-01 03:00:00' },
      ],
    };
    expect(countRowsSql(hours, 't', '"ts"', 'TIMESTAMP')).toContain(`date_trunc('hour', "ts")`);
  });

  it('assigns each bucket to the window that starts at or before it, zero for empty windows', () => {
    const counts = assignBuckets(days, [
      { k: '2025-01-01 00:00:00', n: 5 },
      { k: '2025-01-03 00:00:00', n: 7 },
    ]);
    expect(Object.fromEntries(counts)).toEqual({ '2025-01-01': 5, '2025-01-02': 0, '2025-01-03': 7 });
    const twoHour: PartitionScope = {
      column: 'ts',
      complete: false,
      partitions: [
        { key: '2024-11-03-00:00', start: '2024-11-03 00:00:00', end: '2024-11-03 01:00:00' },
        { key: '2024-11-03-01:00', start: '2024-11-03 01:00:00', end: '2024-11-03 03:00:00' },
      ],
    };
    expect(
      Object.fromEntries(
        assignBuckets(twoHour, [
          { k: '2024-11-03 01:00:00', n: 2 },
          { k: '2024-11-03 02:00:00', n: 3 },
        ]),
      ),
    ).toEqual({
      '2024-11-03-00:00': 0,
      '2024-11-03-01:00': 5,
    });
  });
});
