/**
 * Groups items by a key, keeping their order within each group and the order in which keys
 * first appear.
 *
 * @example
 * groupBy(materializations, (m) => m.assetKey).get('raw/orders') // that asset's materializations
 */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
