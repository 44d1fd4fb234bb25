/**
 * Comparing asset keys: the stable order every listing uses, and the nearest known keys to a
 * mistyped one (for "did you mean").
 */

/** Orders keys by their text, the tie-break used everywhere output must be stable. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Up to three known keys closest to `key` by edit distance (for "did you mean"). */
export function closestKeys(key: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(key.length / 3));
  return [...known]
    .map((candidate) => ({ candidate, distance: editDistance(key, candidate) }))
    .filter((c) => c.distance <= limit || c.candidate.endsWith(`/${key}`))
    .sort((a, b) => a.distance - b.distance || compareKeys(a.candidate, b.candidate))
    .slice(0, max)
    .map((c) => c.candidate);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
