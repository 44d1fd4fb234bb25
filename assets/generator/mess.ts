/**
 * The kinds of mess real POS exports carry, applied on purpose so the staging layer has
 * something to clean: inconsistent case and padding, blanks for nulls, doubled lines.
 */
import type { Rng } from './prng.ts';

/**
 * With probability `rate`, returns `value` in a different case or with stray spaces, the way
 * hand-typed or differently configured terminals send it.
 */
export function scuff(rng: Rng, value: string, rate: number): string {
  if (!rng.chance(rate)) return value;
  switch (rng.int(0, 4)) {
    case 0:
      return value.toUpperCase();
    case 1:
      return value.toLowerCase();
    case 2:
      return ` ${value}`;
    case 3:
      return `${value}  `;
    default:
      return ` ${value.toUpperCase()} `;
  }
}

/** Formats cents as a decimal amount (`1250` → `12.50`); zero becomes a blank when `blankZero`. */
export function money(cents: number, blankZero = false): string {
  if (blankZero && cents === 0) return '';
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Returns `rows` with a few rows (probability `rate` each) repeated right after themselves,
 * as happens when an export job retries a page.
 */
export function withDuplicateLines<T>(rng: Rng, rows: readonly T[], rate: number): T[] {
  const out: T[] = [];
  for (const row of rows) {
    out.push(row);
    if (rng.chance(rate)) out.push(row);
  }
  return out;
}
