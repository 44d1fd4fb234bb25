/**
 * Pure simulation of a whole landing zone: the files for every day of a run, produced one day
 * at a time from the seed. Same options, same bytes.
 */
import { addDays, dayOfWeek, isIsoDate } from './dates.ts';
import { dailyFiles, referenceFiles } from './landing-files.ts';
import { createRng, deriveSeed } from './prng.ts';
import { LOCATIONS, MENU_ITEMS } from './reference-data.ts';
import { simulateOrders } from './simulate-orders.ts';
import { buildRoster, simulateShifts } from './simulate-shifts.ts';
import type { LandingFile } from './landing-files.ts';
import type { Order } from './simulate-orders.ts';

/** What to generate. */
export interface GenerateOptions {
  /** First business day, `YYYY-MM-DD` (default `2026-01-01`). */
  startDate?: string;
  /** Number of business days (default 28). */
  days?: number;
  /** PRNG seed (default 42). */
  seed?: number;
}

/** {@link GenerateOptions} with defaults filled in and validated. */
export type ResolvedGenerateOptions = Required<GenerateOptions>;

/** Default options: four weeks of January 2026, seed 42. */
export const DEFAULT_GENERATE_OPTIONS: ResolvedGenerateOptions = Object.freeze({ startDate: '2026-01-01', days: 28, seed: 42 });

/** Sunday … Saturday demand multipliers: quiet Mondays, busy Fridays and Saturdays. */
const WEEKDAY_BUSYNESS = [1.1, 0.78, 0.84, 0.9, 1.0, 1.3, 1.4] as const;
/** Longest run accepted: ten years of daily files. */
const MAX_DAYS = 3660;
/** Menu popularity drifts over this many days, whatever the length of the run. */
const TREND_HORIZON_DAYS = 28;

/** Fills defaults and checks the options, throwing a `RangeError` that names the bad one. */
export function resolveGenerateOptions(options: GenerateOptions = {}): ResolvedGenerateOptions {
  const resolved = { ...DEFAULT_GENERATE_OPTIONS, ...stripUndefined(options) };
  const { startDate, days, seed } = resolved;
  if (!isIsoDate(startDate)) throw new RangeError(`startDate must be a date written YYYY-MM-DD, got "${startDate}"`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RangeError(`days must be an integer from 1 to ${MAX_DAYS}, got ${days}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return resolved;
}

/**
 * Yields every landing file of a run: the two reference snapshots, then four files per day.
 *
 * @example
 * for (const file of simulateLanding({ days: 2 })) console.log(file.name, file.rows);
 */
export function* simulateLanding(options: GenerateOptions = {}): Generator<LandingFile> {
  const { startDate, days, seed } = resolveGenerateOptions(options);
  yield* referenceFiles(createRng(deriveSeed(seed, 'reference')));

  const rosters = new Map(LOCATIONS.map((l) => [l.id, buildRoster(createRng(deriveSeed(seed, `roster:${l.id}`)), l)]));
  const trendRng = createRng(deriveSeed(seed, 'trends'));
  const drift = new Map(MENU_ITEMS.map((m) => [m.id, Math.min(0.9, Math.max(-0.7, trendRng.normal(0, 0.35)))]));

  let resent: Order[] = [];
  for (let dayIndex = 0; dayIndex < days; dayIndex++) {
    const date = addDays(startDate, dayIndex);
    const progress = dayIndex / TREND_HORIZON_DAYS;
    const popularity = new Map(MENU_ITEMS.map((m) => [m.id, Math.max(0.05, m.popularity * (1 + (drift.get(m.id) ?? 0) * progress))]));
    const orders: Order[] = [];
    const shifts = [];
    for (const location of LOCATIONS) {
      const rng = createRng(deriveSeed(seed, `${date}:${location.id}`));
      const roster = rosters.get(location.id) ?? [];
      const busyness = (WEEKDAY_BUSYNESS[dayOfWeek(date)] ?? 1) * rng.normal(1, 0.08);
      const servers = roster.filter((e) => e.role.title === 'Server' || e.role.title === 'Bartender');
      orders.push(...simulateOrders(rng, location, date, servers, { busyness, popularity }));
      shifts.push(...simulateShifts(rng, location, roster, date, busyness));
    }
    yield* dailyFiles(createRng(deriveSeed(seed, `files:${date}`)), { date, orders, resent, shifts });
    resent = orders.filter((o) => o.closesLate);
  }
}

function stripUndefined(options: GenerateOptions): GenerateOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
