/**
 * A small seeded pseudo-random number generator and the sampling helpers the landing
 * generator needs. Everything is derived from the seed, so output is reproducible.
 */

/** A source of uniform numbers in [0, 1) plus sampling helpers. */
export interface Rng {
  /** Next uniform number in [0, 1). */
  next(): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** One element of a non-empty array, with probability proportional to `weight(item)`. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T;
  /** Approximately normal sample (sum of uniforms) with the given mean and standard deviation. */
  normal(mean: number, sd: number): number;
}

/**
 * Creates a mulberry32 generator: a 32-bit state, fast, and good enough for test data.
 *
 * @example
 * const rng = createRng(42);
 * rng.int(1, 6); // a die roll, the same one every time for seed 42
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => at(items, Math.floor(next() * items.length)),
    weighted(items, weight) {
      const total = items.reduce((sum, item) => sum + weight(item), 0);
      let r = next() * total;
      for (const item of items) {
        r -= weight(item);
        if (r < 0) return item;
      }
      return at(items, items.length - 1);
    },
    normal(mean, sd) {
      // Irwin–Hall: the sum of 12 uniforms has variance 1.
      let sum = 0;
      for (let i = 0; i < 12; i++) sum += next();
      return mean + (sum - 6) * sd;
    },
  };
  return rng;
}

/**
 * Derives an independent seed from a base seed and a label (FNV-1a over the label), so each
 * day and location gets its own stream and changing one does not shift all the others.
 */
export function deriveSeed(seed: number, label: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`cannot sample from an empty list (index ${index})`);
  return item;
}
