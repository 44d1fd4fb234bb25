import type { CheckSpec } from './check-spec.ts';

/** Whether a row count is anomalous against earlier counts, and the figures that say why. */
export interface AnomalyVerdict {
  readonly anomalous: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Fewer earlier counts than this and the check passes: there is no trend to compare with. */
export const MIN_HISTORY = 2;

/**
 * Compares `count` with the mean of `previous`: anomalous when it is more than `maxStdDevs`
 * standard deviations away (a standard deviation of 0 allows no change) or, with `maxPercent`,
 * more than that percentage away from the mean.
 *
 * @example
 * anomalyVerdict(check, 12, [100, 104, 97]).anomalous // true: far below a mean of 100.3
 */
export function anomalyVerdict(check: Extract<CheckSpec, { type: 'row_count_anomaly' }>, count: number, previous: readonly number[]): AnomalyVerdict {
  if (previous.length < MIN_HISTORY) return { anomalous: false, detail: { row_count: count, history: previous.length } };
  const mean = previous.reduce((sum, n) => sum + n, 0) / previous.length;
  const stdDev = Math.sqrt(previous.reduce((sum, n) => sum + (n - mean) ** 2, 0) / previous.length);
  const deviation = Math.abs(count - mean);
  const tooManyStdDevs = check.maxStdDevs !== undefined && deviation > check.maxStdDevs * stdDev;
  const tooManyPercent = check.maxPercent !== undefined && (mean === 0 ? count !== 0 : (deviation / mean) * 100 > check.maxPercent);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    anomalous: tooManyStdDevs || tooManyPercent,
    detail: {
      row_count: count,
      mean: round(mean),
      std_dev: round(stdDev),
      history: previous.length,
      change_percent: mean === 0 ? null : round(((count - mean) / mean) * 100),
    },
  };
}
