import { describe, expect, it } from 'vitest';
import { daily, formatRanges, toRanges } from '../../core/model/partitions/index.ts';

describe('toRanges', () => {
  it('finds maximal runs of member keys', () => {
    expect(toRanges(['a', 'b', 'c', 'd', 'e'], new Set(['a', 'b', 'd']))).toEqual([
      { from: 'a', to: 'b', count: 2 },
      { from: 'd', to: 'd', count: 1 },
    ]);
  });

  it('handles none, all, and runs at both ends', () => {
    expect(toRanges(['a', 'b'], new Set())).toEqual([]);
    expect(toRanges([], new Set(['a']))).toEqual([]);
    expect(toRanges(['a', 'b', 'c'], new Set(['a', 'b', 'c']))).toEqual([{ from: 'a', to: 'c', count: 3 }]);
    expect(toRanges(['a', 'b', 'c', 'd'], new Set(['a', 'd']))).toEqual([
      { from: 'a', to: 'a', count: 1 },
      { from: 'd', to: 'd', count: 1 },
    ]);
  });

  it('ignores members that are not among the keys', () => {
    expect(toRanges(['a', 'b'], new Set(['b', 'z']))).toEqual([{ from: 'b', to: 'b', count: 1 }]);
  });

  it('follows the order given, not sorting', () => {
    expect(toRanges(['c', 'a', 'b'], new Set(['c', 'a']))).toEqual([{ from: 'c', to: 'a', count: 2 }]);
  });

  it('summarises a year of daily partitions', () => {
    const keys = daily({ start: '2024-01-01' }).keys(new Date('2025-01-01T00:00:00Z'));
    const members = new Set(keys.filter((key) => key.startsWith('2024-01') || key === '2024-03-05'));
    expect(toRanges(keys, members)).toEqual([
      { from: '2024-01-01', to: '2024-01-31', count: 31 },
      { from: '2024-03-05', to: '2024-03-05', count: 1 },
    ]);
  });
});

describe('formatRanges', () => {
  const ranges = [
    { from: '2024-01-01', to: '2024-01-31', count: 31 },
    { from: '2024-03-05', to: '2024-03-05', count: 1 },
    { from: '2024-04-01', to: '2024-04-02', count: 2 },
    { from: '2024-05-01', to: '2024-05-01', count: 1 },
    { from: '2024-06-01', to: '2024-06-01', count: 1 },
  ];

  it('prints runs and single keys', () => {
    expect(formatRanges(ranges.slice(0, 2))).toBe('2024-01-01..2024-01-31 (31), 2024-03-05 (1)');
  });

  it('elides ranges past max', () => {
    expect(formatRanges(ranges, 2)).toBe('2024-01-01..2024-01-31 (31), 2024-03-05 (1), … and 3 more ranges');
    expect(formatRanges(ranges, 4)).toBe('2024-01-01..2024-01-31 (31), 2024-03-05 (1), 2024-04-01..2024-04-02 (2), 2024-05-01 (1), … and 1 more range');
  });

  it('shows five ranges by default', () => {
    expect(formatRanges(ranges)).not.toContain('more');
    expect(formatRanges([...ranges, { from: 'x', to: 'x', count: 1 }])).toMatch(/, … and 1 more range$/);
  });

  it('says none for no ranges', () => {
    expect(formatRanges([])).toBe('none');
  });
});
