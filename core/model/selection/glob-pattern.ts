/**
 * Wildcard patterns used by selection values: `*` matches any run of characters, including
 * `/`, so `marts/*` matches every key under `marts/` and `*orders` matches `raw/orders`.
 */

/** True when `pattern` contains a `*` wildcard. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * A predicate that tests values against `pattern` (exact comparison when it has no `*`).
 *
 * @example
 * globMatcher('marts/*')('marts/fct_sales'); // true
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  if (!hasWildcard(pattern)) return (value) => value === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}
