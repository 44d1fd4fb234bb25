/**
 * Compact descriptions of sets of partition keys: maximal runs of consecutive keys, printed as
 * `2024-01-01..2024-01-31 (31)`.
 */

/** A run of consecutive keys, `from` and `to` inclusive. */
export interface PartitionRange {
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

/**
 * The maximal runs of consecutive `orderedKeys` that are in `members`, in order.
 *
 * @example
 * toRanges(['a', 'b', 'c', 'd'], new Set(['a', 'b', 'd']));
 * // [{ from: 'a', to: 'b', count: 2 }, { from: 'd', to: 'd', count: 1 }]
 */
export function toRanges(orderedKeys: readonly string[], members: ReadonlySet<string>): PartitionRange[] {
  const ranges: PartitionRange[] = [];
  let from: string | undefined;
  let to = '';
  let count = 0;
  for (const key of orderedKeys) {
    if (members.has(key)) {
      if (from === undefined) from = key;
      to = key;
      count++;
    } else if (from !== undefined) {
      ranges.push(Object.freeze({ from, to, count }));
      from = undefined;
      count = 0;
    }
  }
  if (from !== undefined) ranges.push(Object.freeze({ from, to, count }));
  return ranges;
}

/**
 * The first `max` ranges as text, then how many more there are; `none` when there are none.
 *
 * @example
 * formatRanges(ranges, 2); // '2024-01-01..2024-01-31 (31), 2024-03-05 (1), … and 3 more ranges'
 */
export function formatRanges(ranges: readonly PartitionRange[], max = 5): string {
  if (ranges.length === 0) return 'none';
  const shown = ranges
    .slice(0, Math.max(0, max))
    .map((range) => (range.from === range.to ? `${range.from} (${range.count})` : `${range.from}..${range.to} (${range.count})`));
  const hidden = ranges.length - shown.length;
  if (hidden > 0) shown.push(`… and ${hidden} more range${hidden === 1 ? '' : 's'}`);
  return shown.join(', ');
}
