/**
 * The example's partitions, defined once for the TypeScript assets. The SQL assets spell the
 * same definitions in their headers (`partitioned_by: daily(start=2025-01-01, end=2026-01-01,
 * timezone=UTC)`); a definition prints as that text, so both can be compared.
 *
 * One fixed year, 2025. The windows are UTC days, because the data is dated by the local
 * business date of each restaurant (`business_date`, the landing file's date): a "day" here is
 * a calendar date, not an instant, and UTC is the zone without daylight-saving shifts.
 */
import { daily, monthly } from 'strata';
import type { AssetContext } from 'strata';

/** The first day of the example's data. */
export const FIRST_DAY = '2025-01-01';

/** The first day after it (exclusive end of the partitions). */
export const END_DAY = '2026-01-01';

/** One partition per business day of 2025: keys `2025-01-01` … `2025-12-31`. */
export const DAILY = daily({ start: FIRST_DAY, end: END_DAY, timezone: 'UTC' });

/** One partition per month of 2025: keys `2025-01-01` … `2025-12-01`. */
export const MONTHLY = monthly({ start: FIRST_DAY, end: END_DAY, timezone: 'UTC' });

/** The window a step of a time-partitioned asset writes: local wall-clock bounds, end exclusive. */
export interface StepWindow {
  /** The partition key, or `first..last` for a range step. */
  readonly key: string;
  /** `YYYY-MM-DD HH:mm:ss`, e.g. `2025-03-01 00:00:00`. */
  readonly start: string;
  /** `YYYY-MM-DD HH:mm:ss`, the start of the first partition after the step. */
  readonly end: string;
}

/**
 * The window of the step `ctx` runs, for TypeScript assets on {@link DAILY} or {@link MONTHLY}
 * partitions; bind `start` and `end` as `$1::timestamp` and `$2::timestamp`.
 *
 * @example
 * const { start, end } = stepWindow(ctx);
 * await ctx.warehouse.replacePartitions('select … where business_date >= $1::timestamp and business_date < $2::timestamp', [start, end]);
 */
export function stepWindow(ctx: AssetContext): StepWindow {
  const partition = ctx.partition;
  if (partition?.start === undefined || partition.end === undefined) {
    throw new Error(`${ctx.key} is partitioned by time and must run for partitions with a window`);
  }
  return { key: partition.key, start: partition.start, end: partition.end };
}
