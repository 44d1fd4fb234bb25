/**
 * The web UI's display formatters (ui/static/js/format.js), imported as the browser does: counts,
 * compact axis counts, local dates and clock times, durations (the CLI's formatter), "ago" texts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../core/model/format/duration-text.js';
import { ago, clockTime, count, dateTime, duration, runDuration, shortCount, shortId } from '../../ui/static/js/format.js';

describe('count', () => {
  it('groups thousands, and shows an en dash for no value', () => {
    expect(count(0)).toBe('0');
    expect(count(1234)).toBe('1,234');
    expect(count(-9876543)).toBe('-9,876,543');
    expect(count(null)).toBe('–');
    expect(count(undefined)).toBe('–');
  });
});

describe('shortCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [12.6, '13'],
    [1000, '1.0k'],
    [9_949, '9.9k'],
    [12_345, '12k'],
    [999_999, '1.0M'],
    [999_950_000, '1.0B'],
    [9_999, '10.0k'],
    [1_500_000, '1.5M'],
    [2_000_000_000, '2.0B'],
    [-4_200, '-4.2k'],
  ])('%d is %s', (n, text) => {
    expect(shortCount(n)).toBe(text);
  });

  it('reads back as the count, to within the rounding of the digits it shows', () => {
    const units: Record<string, number> = { '': 1, k: 1e3, M: 1e6, B: 1e9 };
    fc.assert(
      fc.property(fc.integer({ min: -999_999_999_999, max: 999_999_999_999 }), (n) => {
        const [, digits, unit] = /^(-?\d+(?:\.\d)?)([kMB]?)$/.exec(shortCount(n)) ?? [];
        if (digits === undefined || unit === undefined) return false;
        const step = (digits.includes('.') ? 0.1 : 1) * units[unit]!;
        return Math.abs(Number(digits) * units[unit]! - n) <= step / 2 + 1e-6 * Math.abs(n);
      }),
    );
  });

  it('shows an en dash for no value', () => {
    expect(shortCount(null)).toBe('–');
  });
});

describe('dates and times, in local time', () => {
  it('dateTime is YYYY-MM-DD HH:mm:ss with zero padding', () => {
    expect(dateTime(new Date(2025, 2, 1, 4, 5, 9).getTime())).toBe('2025-03-01 04:05:09');
    expect(dateTime(new Date(1999, 11, 31, 23, 59, 59, 999).getTime())).toBe('1999-12-31 23:59:59');
    expect(dateTime(null)).toBe('–');
  });

  it('clockTime is HH:mm:ss.mmm', () => {
    expect(clockTime(new Date(2025, 0, 1, 14, 5, 9, 7).getTime())).toBe('14:05:09.007');
    expect(clockTime(new Date(2025, 0, 1, 0, 0, 0, 0).getTime())).toBe('00:00:00.000');
  });

  it('dateTime reads back as the same local second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const [date, time] = dateTime(ms).split(' ');
        const [y, mo, d] = date!.split('-').map(Number);
        const [h, mi, s] = time!.split(':').map(Number);
        return new Date(y!, mo! - 1, d, h, mi, s).getTime() === Math.floor(ms / 1000) * 1000 || isAmbiguousLocal(ms);
      }),
    );
  });
});

/** A local wall-clock time that happens twice (the repeated hour when clocks go back). */
function isAmbiguousLocal(ms: number): boolean {
  return new Date(ms).getTimezoneOffset() !== new Date(ms - 3_600_000).getTimezoneOffset();
}

describe('duration', () => {
  it('is the CLI formatter for finite values', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e10, noNaN: true }), (ms) => duration(ms) === formatDuration(ms)));
    expect(duration(850)).toBe('850ms');
    expect(duration(65_000)).toBe('1m05s');
    expect(duration(7_380_000)).toBe('2h03m');
  });

  it('shows an en dash for no value or a value that is not finite', () => {
    for (const ms of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) expect(duration(ms)).toBe('–');
  });
});

describe('ago', () => {
  const now = 1_750_000_000_000;
  it.each([
    [0, '0 s ago'],
    [59_499, '59 s ago'],
    [60_000, '1 min ago'],
    [3_599_000, '59 min ago'],
    [3_600_000, '1 h ago'],
    [86_399_000, '23 h ago'],
    [86_400_000, '1 d ago'],
    [10 * 86_400_000, '10 d ago'],
  ])('%d ms before now is %s', (before, text) => {
    expect(ago(now - before, now)).toBe(text);
  });

  it('a time in the future is 0 s ago; none is never', () => {
    expect(ago(now + 5_000, now)).toBe('0 s ago');
    expect(ago(null, now)).toBe('never');
  });
});

describe('runDuration and shortId', () => {
  it('a run lasts from its start to its end, or to now while it runs; an unstarted run has none', () => {
    expect(runDuration({ startedAt: 1_000, endedAt: 4_500 }, 9_000)).toBe(3_500);
    expect(runDuration({ startedAt: 1_000, endedAt: null }, 9_000)).toBe(8_000);
    expect(runDuration({ startedAt: null }, 9_000)).toBeNull();
  });

  it('a short id is the first 8 characters', () => {
    expect(shortId('0f3c9a2e-1b7d-4c61-9e55-2a0f6b8d4e11')).toBe('0f3c9a2e');
    expect(shortId('abc')).toBe('abc');
    expect(shortId(null)).toBe('');
  });
});
