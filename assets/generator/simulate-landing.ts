/**
 * Pure simulation of a whole landing zone: the files for every day of a run, produced one day
 * at a time from the seed. Same options, same bytes.
 */
import { addDays, dayOfWeek, isIsoDate } from './dates.ts';
import { checkFaultSpecs, faultsByDate } from './fault-spec.ts';
import { applyFaults } from './landing-faults.ts';
import { dailyFiles, referenceFiles } from './landing-files.ts';
import { createRng, deriveSeed } from './prng.ts';
import { LOCATIONS, MENU_ITEMS } from './reference-data.ts';
import { simulateOrders } from './simulate-orders.ts';
import { buildRoster, simulateShifts } from './simulate-shifts.ts';
import type { FaultSpec } from './fault-spec.ts';
import type { LandingFile } from './landing-files.ts';
import type { Rng } from './prng.ts';
import type { MenuItem } from './reference-data.ts';
import type { Order } from './simulate-orders.ts';

/** What to generate. */
export interface GenerateOptions {
  /** First business day, `YYYY-MM-DD` (default `2025-01-01`). */
  startDate?: string;
  /** Number of business days (default 365). */
  days?: number;
  /** PRNG seed (default 42). */
  seed?: number;
  /**
   * Bad data to inject into the files of some of the generated days (default none: the clean
   * output). Parse the CLI's text form with `parseFaultSpecs`.
   *
   * @example
   * { faults: [{ date: '2025-03-14', kind: 'negative_amounts' }] }
   */
  faults?: readonly FaultSpec[];
}

/** {@link GenerateOptions} with defaults filled in and validated (`faults` only when given). */
export type ResolvedGenerateOptions = Required<Omit<GenerateOptions, 'faults'>> & Pick<GenerateOptions, 'faults'>;

/** Default options: the whole of 2025, seed 42. */
export const DEFAULT_GENERATE_OPTIONS: ResolvedGenerateOptions = Object.freeze({ startDate: '2025-01-01', days: 365, seed: 42 });

/** Sunday … Saturday demand multipliers: quiet Mondays, busy Fridays and Saturdays. */
const WEEKDAY_BUSYNESS = [1.1, 0.78, 0.84, 0.9, 1.0, 1.3, 1.4] as const;
/** Longest run accepted: ten years of daily files. */
const MAX_DAYS = 3660;
/** Seasonal swing of demand: quiet in winter, busiest in early summer (± this share). */
const SEASONAL_SWING = 0.12;
/** Day of the year (0-based) when demand peaks. */
const SEASONAL_PEAK_DAY = 172;
const DAY_MS = 86_400_000;

/** Fills defaults and checks the options, throwing a `RangeError` that names the bad one. */
export function resolveGenerateOptions(options: GenerateOptions = {}): ResolvedGenerateOptions {
  const resolved = { ...DEFAULT_GENERATE_OPTIONS, ...stripUndefined(options) };
  const { startDate, days, seed } = resolved;
  if (!isIsoDate(startDate)) throw new RangeError(`startDate must be a date written YYYY-MM-DD, got "${startDate}"`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RangeError(`days must be an integer from 1 to ${MAX_DAYS}, got ${days}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (resolved.faults !== undefined) {
    return { ...resolved, faults: checkFaultSpecs(resolved.faults, { first: startDate, last: addDays(startDate, days - 1) }) };
  }
  return resolved;
}

/**
 * Yields every landing file of a run: the two reference snapshots, then four files per day,
 * with `faults` injected into the files of their days.
 *
 * @example
 * for (const file of simulateLanding({ days: 2 })) console.log(file.name, file.rows);
 */
export function* simulateLanding(options: GenerateOptions = {}): Generator<LandingFile> {
  const { startDate, days, seed, faults = [] } = resolveGenerateOptions(options);
  const faultKinds = faultsByDate(faults);
  yield* referenceFiles(createRng(deriveSeed(seed, 'reference')));

  const rosters = new Map(LOCATIONS.map((l) => [l.id, buildRoster(createRng(deriveSeed(seed, `roster:${l.id}`)), l)]));
  const trends = menuTrends(createRng(deriveSeed(seed, 'trends')));

  let resent: Order[] = [];
  for (let dayIndex = 0; dayIndex < days; dayIndex++) {
    const date = addDays(startDate, dayIndex);
    const popularity = new Map(MENU_ITEMS.map((m) => [m.id, trendedPopularity(m, trends.get(m.id), date)]));
    const season = seasonalBusyness(date);
    const orders: Order[] = [];
    const shifts = [];
    for (const location of LOCATIONS) {
      const rng = createRng(deriveSeed(seed, `${date}:${location.id}`));
      const roster = rosters.get(location.id) ?? [];
      const busyness = (WEEKDAY_BUSYNESS[dayOfWeek(date)] ?? 1) * season * rng.normal(1, 0.08);
      const servers = roster.filter((e) => e.role.title === 'Server' || e.role.title === 'Bartender');
      orders.push(...simulateOrders(rng, location, date, servers, { busyness, popularity }));
      shifts.push(...simulateShifts(rng, location, roster, date, busyness));
    }
    const files = dailyFiles(createRng(deriveSeed(seed, `files:${date}`)), { date, orders, resent, shifts });
    const kinds = faultKinds.get(date);
    // Faults draw from their own streams: the clean days' bytes do not depend on them.
    yield* kinds ? applyFaults(files, date, kinds, seed).files : files;
    resent = orders.filter((o) => o.closesLate);
  }
}

/**
 * How a menu item's popularity moves: a slow wave with its own amplitude, period (five to
 * seventeen weeks) and phase, so over a year every item has rising and falling stretches.
 */
interface MenuTrend {
  readonly amplitude: number;
  readonly periodDays: number;
  readonly phase: number;
}

function menuTrends(rng: Rng): Map<string, MenuTrend> {
  return new Map(
    MENU_ITEMS.map((m) => [m.id, { amplitude: Math.min(0.8, Math.abs(rng.normal(0, 0.35))), periodDays: rng.int(35, 120), phase: rng.next() * 2 * Math.PI }]),
  );
}

/**
 * An item's popularity on `date`. It depends on the date, not on where the run starts, so a
 * day's files are the same whatever range is generated, except on the range's first day,
 * which has no re-sent orders from the day before.
 */
function trendedPopularity(item: MenuItem, trend: MenuTrend | undefined, date: string): number {
  if (!trend) return item.popularity;
  const day = Date.parse(`${date}T00:00:00Z`) / DAY_MS;
  return Math.max(0.05, item.popularity * (1 + trend.amplitude * Math.sin((2 * Math.PI * day) / trend.periodDays + trend.phase)));
}

/** Demand multiplier of the season: 1 - swing around New Year, 1 + swing at the peak in June. */
function seasonalBusyness(date: string): number {
  const year = date.slice(0, 4);
  const dayOfYear = (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${year}-01-01T00:00:00Z`)) / DAY_MS;
  return 1 + SEASONAL_SWING * Math.cos((2 * Math.PI * (dayOfYear - SEASONAL_PEAK_DAY)) / 365);
}

function stripUndefined(options: GenerateOptions): GenerateOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
