/**
 * Durations as configuration writes them: a number of milliseconds, or text with a unit
 * (`500ms`, `2s`, `1.5m`, `1h`, `2d`). Used by retry policies, heartbeat settings and freshness checks.
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Milliseconds of `value`, or `undefined` when it is not a duration (a negative or non-finite
 * number, or text without a known unit).
 *
 * @example
 * parseDuration('2s'); // 2000
 * parseDuration(250);  // 250
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
}
