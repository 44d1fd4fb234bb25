/**
 * Calendar helpers on plain `YYYY-MM-DD` strings. They use UTC arithmetic only, never the
 * system clock or time zone, so generated files do not depend on where they are generated.
 */

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True when `value` is a real calendar date written as `YYYY-MM-DD`. */
export function isIsoDate(value: string): boolean {
  return ISO_DATE.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

/** The date `days` after `date` (negative goes back). */
export function addDays(date: string, days: number): string {
  if (days === 0) return date;
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Day of the week, 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** `2026-01-31` → `20260131`, the compact business-date format POS exports use. */
export function compactDate(date: string): string {
  return date.replaceAll('-', '');
}

/**
 * A local wall-clock timestamp `YYYY-MM-DD HH:MM:SS` for `hours` (decimal, may exceed 24)
 * after midnight of `date`.
 */
export function localTimestamp(date: string, hours: number): string {
  const totalSeconds = Math.round(hours * 3600);
  const day = addDays(date, Math.floor(totalSeconds / 86_400));
  const seconds = totalSeconds % 86_400;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  return `${day} ${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
