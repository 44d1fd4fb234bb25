/**
 * Cron expressions with an IANA time zone, as schedules and `onCron()` automation use them:
 * validated once, then asked which ticks fall in a span of time. Pure: the clock comes in.
 * Parsing and daylight-saving handling are cron-parser's: a local time that does not exist
 * (02:30 on a spring-forward day) fires at the next one that does.
 */
import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';

let parser: typeof CronParser.CronExpressionParser | undefined;

/**
 * cron-parser, required on first use: a project without crons never loads it, and a plain
 * `require` skips the TypeScript loader hooks the CLI runs under (its modules and luxon's are
 * plain JavaScript), which keeps `assets list` fast.
 */
function cronParser(): typeof CronParser.CronExpressionParser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as typeof CronParser).CronExpressionParser;
  return parser;
}

/** What a cron expression may look like: 5 fields (minute first), 6 (seconds first), or an `@daily`-style alias. */
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

/**
 * Why `expression` (in `timezone`) cannot be used, or `undefined` when it can.
 *
 * @example
 * cronProblem('30 4 * * *', 'Europe/Paris'); // undefined
 * cronProblem('61 * * * *', 'UTC'); // 'cron "61 * * * *": Constraint error, got value 61 expected range 0-59'
 */
export function cronProblem(expression: string, timezone: string): string | undefined {
  const zone = timezoneProblem(timezone);
  if (zone) return zone;
  const text = expression.trim();
  // Most crons are plain: accepting those without cron-parser keeps `assets list` from loading it (and luxon).
  if (isPlainCron(text)) return undefined;
  const fields = text.split(/\s+/).length;
  if (!ALIASES.has(text) && fields !== 5 && fields !== 6) {
    return `cron "${expression}" must have 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or be @hourly, @daily, @weekly, @monthly or @yearly`;
  }
  try {
    cronParser()
      .parse(text, { tz: timezone, currentDate: new Date(0), strict: false })
      .next();
    return undefined;
  } catch (error) {
    return `cron "${expression}": ${(error as Error).message}`;
  }
}

/**
 * The values each field of a plain five-field cron may hold: minute, hour, day of month (up to
 * 28, which every month has, so the cron always has a next tick), month, day of week (0 is Sunday).
 */
const PLAIN_FIELD_RANGES: readonly (readonly [number, number])[] = [
  [0, 59],
  [0, 23],
  [1, 28],
  [1, 12],
  [0, 6],
];

/**
 * Whether `text` is a cron that cron-parser surely accepts, in any valid time zone: an alias, or
 * five fields separated by single spaces, each `*`, `*\/N` (N from 1 to the field's span) or an
 * increasing list of values in the field's range, without leading zeros (cron-parser rejects a
 * repeated value). Anything else goes to cron-parser.
 *
 * @example
 * isPlainCron('30 4 * * 1,3,5'); // true
 * isPlainCron('0 0 31 2 *'); // false: cron-parser decides (and rejects it)
 */
export function isPlainCron(text: string): boolean {
  if (ALIASES.has(text)) return true;
  const fields = text.split(' ');
  return fields.length === 5 && fields.every((field, i) => isPlainField(field, PLAIN_FIELD_RANGES[i] as readonly [number, number]));
}

function isPlainField(field: string, [min, max]: readonly [number, number]): boolean {
  if (field === '*') return true;
  const step = /^\*\/([1-9][0-9]?)$/.exec(field);
  if (step) return Number(step[1]) <= max - min;
  let previous = min - 1;
  for (const value of field.split(',')) {
    if (!/^(?:0|[1-9][0-9]?)$/.test(value) || Number(value) <= previous || Number(value) > max) return false;
    previous = Number(value);
  }
  return true;
}

/** The canonical IANA zone names Intl lists: checking one costs no `Intl.DateTimeFormat` (whose first one loads ICU's data, ~50 ms). */
let listedZones: ReadonlySet<string> | undefined;

/** Why `timezone` is not an IANA time zone, or `undefined` when it is one. */
export function timezoneProblem(timezone: string): string | undefined {
  listedZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  // Aliases (`UTC`, `US/Pacific`) are not listed: Intl.DateTimeFormat decides for them.
  if (listedZones.has(timezone)) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone "${timezone}" (use an IANA name such as "Europe/Paris" or "UTC")`;
  }
}

/**
 * The latest tick of `expression` at or before `at`, or `undefined` when there is none.
 *
 * @example
 * latestCronTick('30 4 * * *', 'UTC', new Date('2025-03-02T10:00:00Z')); // 2025-03-02T04:30:00Z
 */
export function latestCronTick(expression: string, timezone: string, at: Date): Date | undefined {
  const cron = cronParser().parse(expression.trim(), { tz: timezone, currentDate: new Date(at.getTime() + 1) });
  return cron.hasPrev() ? cron.prev().toDate() : undefined;
}

/** The first tick of `expression` after `after` (exclusive), or `undefined` when there is none. */
export function nextCronTick(expression: string, timezone: string, after: Date): Date | undefined {
  const cron = cronParser().parse(expression.trim(), { tz: timezone, currentDate: after });
  return cron.hasNext() ? cron.next().toDate() : undefined;
}

/** Most ticks {@link cronTicksBetween} walks before jumping to the latest (a seconds cron after a week of downtime). */
const MAX_WALK = 10_000;

/** Ticks of a cron in a span: the latest `limit` of them, oldest first, and how many there are. */
export interface CronTicks {
  /** How many ticks the span holds; a lower bound when `truncated`. */
  readonly count: number;
  /** The latest ticks, at most `limit`, oldest first; the last is the latest tick of the span. */
  readonly ticks: readonly Date[];
  /** True when the span held more than could be walked: `count` is a lower bound. */
  readonly truncated: boolean;
}

/**
 * Ticks of `expression` after `after` (exclusive) up to `upTo` (inclusive).
 *
 * @example
 * cronTicksBetween('0 * * * *', 'UTC', new Date('2025-01-01T00:00Z'), new Date('2025-01-01T03:00Z'));
 * // { count: 3, ticks: [01:00, 02:00, 03:00], truncated: false }
 */
export function cronTicksBetween(expression: string, timezone: string, after: Date, upTo: Date, limit = 100): CronTicks {
  if (upTo.getTime() <= after.getTime()) return { count: 0, ticks: [], truncated: false };
  const cron = cronParser().parse(expression.trim(), { tz: timezone, currentDate: after });
  const ticks: Date[] = [];
  let count = 0;
  while (cron.hasNext()) {
    const tick = cron.next().toDate();
    if (tick.getTime() > upTo.getTime()) break;
    count++;
    ticks.push(tick);
    if (ticks.length > limit) ticks.shift();
    if (count >= MAX_WALK) {
      const latest = latestCronTick(expression, timezone, upTo);
      if (latest !== undefined && latest.getTime() > tick.getTime()) {
        ticks.push(latest);
        if (ticks.length > limit) ticks.shift();
        return { count: count + 1, ticks, truncated: true };
      }
      return { count, ticks, truncated: false };
    }
  }
  return { count, ticks, truncated: false };
}
