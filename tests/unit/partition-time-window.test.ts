import { describe, expect, it } from 'vitest';
import { PartitionKeyError, PartitionsDefinitionError, TimeWindowPartitions, daily, hourly, monthly, weekly } from '../../core/model/partitions/index.ts';

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);
const LATER = at('2030-01-01T00:00:00Z');

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected a throw');
}

function days(definition: TimeWindowPartitions, key: string): number {
  const { start, end } = definition.window(key);
  return (end.getTime() - start.getTime()) / DAY;
}

describe('TimeWindowPartitions: options', () => {
  it('builds through the constructor and the factories alike', () => {
    const built = new TimeWindowPartitions({ cadence: 'daily', start: '2024-01-01', timezone: 'Europe/Berlin' });
    expect(String(built)).toBe(String(daily({ start: '2024-01-01', timezone: 'Europe/Berlin' })));
    expect(built.type).toBe('time_window');
    expect(built.cadence).toBe('daily');
    expect(hourly({ start: '2024-01-01' }).cadence).toBe('hourly');
    expect(weekly({ start: '2024-01-01' }).cadence).toBe('weekly');
    expect(monthly({ start: '2024-01-01' }).cadence).toBe('monthly');
  });

  it('defaults to UTC and end offset 0', () => {
    const definition = daily({ start: '2024-01-01' });
    expect(definition.timezone).toBe('UTC');
    expect(definition.endOffset).toBe(0);
    expect(definition.end).toBeUndefined();
  });

  it('is frozen', () => {
    expect(Object.isFrozen(daily({ start: '2024-01-01' }))).toBe(true);
  });

  it('rejects an unknown time zone', () => {
    const error = errorOf(() => daily({ start: '2024-01-01', timezone: 'Mars/Olympus_Mons' }));
    expect(error).toBeInstanceOf(PartitionsDefinitionError);
    expect(error.message).toBe('daily partitions: unknown time zone "Mars/Olympus_Mons" (expected an IANA name such as UTC or Europe/Berlin)');
  });

  it('rejects malformed start and end dates', () => {
    expect(() => daily({ start: '2024-1-1' })).toThrow('daily partitions: start "2024-1-1" is not a valid date (expected YYYY-MM-DD)');
    expect(() => daily({ start: '2024-02-30' })).toThrow(/start "2024-02-30" is not a valid date/);
    expect(() => daily({ start: '2024-01-01-13:00' })).toThrow(/start "2024-01-01-13:00" is not a valid date \(expected YYYY-MM-DD\)/);
    expect(() => daily({ start: '2024-01-01', end: 'tomorrow' })).toThrow(/end "tomorrow" is not a valid date/);
    expect(() => hourly({ start: '2024-01-01-24:00' })).toThrow(/expected YYYY-MM-DD or YYYY-MM-DD-HH:mm/);
    expect(() => hourly({ start: '2024-01-01-12:60' })).toThrow(PartitionsDefinitionError);
  });

  it('accepts a time of day for hourly start and end', () => {
    const definition = hourly({ start: '2024-03-01-13:00', end: '2024-03-01-16:00' });
    expect(definition.keys(LATER)).toEqual(['2024-03-01-13:00', '2024-03-01-14:00', '2024-03-01-15:00']);
  });

  it('starts hourly partitions at the first whole hour on or after start', () => {
    expect(hourly({ start: '2024-03-01-13:30' }).keys(at('2024-03-01T16:00:00Z'))).toEqual(['2024-03-01-14:00', '2024-03-01-15:00']);
  });

  it('rejects an end on or before start', () => {
    expect(() => daily({ start: '2024-01-01', end: '2024-01-01' })).toThrow('daily partitions: end 2024-01-01 must be after start 2024-01-01');
    expect(() => daily({ start: '2024-01-02', end: '2024-01-01' })).toThrow(/end 2024-01-01 must be after start 2024-01-02/);
    expect(() => hourly({ start: '2024-01-01-10:00', end: '2024-01-01-09:00' })).toThrow(/must be after start/);
  });

  it('rejects a range holding no whole window', () => {
    expect(() => monthly({ start: '2024-01-15', end: '2024-02-10' })).toThrow('monthly partitions from 2024-01-15 to 2024-02-10 contain no complete month');
  });

  it('rejects a non-integer end offset', () => {
    expect(() => daily({ start: '2024-01-01', endOffset: 1.5 })).toThrow('daily partitions: end_offset must be an integer, got 1.5');
    expect(() => daily({ start: '2024-01-01', endOffset: Number.NaN })).toThrow(/end_offset must be an integer/);
  });

  it('prints a stable text form', () => {
    expect(String(daily({ start: '2024-01-01', timezone: 'Europe/Berlin' }))).toBe('daily(start=2024-01-01, timezone=Europe/Berlin)');
    expect(String(hourly({ start: '2024-01-01', end: '2024-02-01', endOffset: -1 }))).toBe(
      'hourly(start=2024-01-01, timezone=UTC, end=2024-02-01, end_offset=-1)',
    );
    expect(String(weekly({ start: '2024-01-01', endOffset: 1 }))).toBe('weekly(start=2024-01-01, timezone=UTC, end_offset=1)');
    expect(String(daily({ start: '2024-01-01', timezone: 'europe/berlin' }))).toBe('daily(start=2024-01-01, timezone=Europe/Berlin)');
  });
});

describe('TimeWindowPartitions: keys(now)', () => {
  const definition = daily({ start: '2024-01-01' });

  it('lists complete windows only', () => {
    expect(definition.keys(at('2024-01-03T12:00:00Z'))).toEqual(['2024-01-01', '2024-01-02']);
    expect(definition.keys(at('2024-01-03T00:00:00Z'))).toEqual(['2024-01-01', '2024-01-02']);
    expect(definition.keys(at('2024-01-02T23:59:59.999Z'))).toEqual(['2024-01-01']);
  });

  it('is empty before the first window completes', () => {
    expect(definition.keys(at('2023-06-01T00:00:00Z'))).toEqual([]);
    expect(definition.keys(at('2024-01-01T12:00:00Z'))).toEqual([]);
  });

  it('adds the current window with end offset 1', () => {
    const ahead = daily({ start: '2024-01-01', endOffset: 1 });
    expect(ahead.keys(at('2024-01-03T12:00:00Z'))).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    expect(ahead.keys(at('2024-01-01T00:00:00Z'))).toEqual(['2024-01-01']);
  });

  it('drops the last complete window with end offset -1', () => {
    const behind = daily({ start: '2024-01-01', endOffset: -1 });
    expect(behind.keys(at('2024-01-03T12:00:00Z'))).toEqual(['2024-01-01']);
    expect(behind.keys(at('2024-01-02T12:00:00Z'))).toEqual([]);
    expect(behind.has('2024-01-02', at('2024-01-03T12:00:00Z'))).toBe(false);
  });

  it('stops at end, which is exclusive', () => {
    const bounded = daily({ start: '2024-01-01', end: '2024-01-05' });
    expect(bounded.keys(LATER)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
    expect(bounded.keys(at('2024-01-03T12:00:00Z'))).toEqual(['2024-01-01', '2024-01-02']);
    const ahead = daily({ start: '2024-01-01', end: '2024-01-05', endOffset: 3 });
    expect(ahead.keys(at('2024-01-03T12:00:00Z'))).toEqual(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
  });

  it('keeps only whole weeks and months before end', () => {
    expect(weekly({ start: '2024-01-01', end: '2024-01-20' }).keys(LATER)).toEqual(['2024-01-01', '2024-01-08']);
    expect(monthly({ start: '2024-01-01', end: '2024-03-15' }).keys(LATER)).toEqual(['2024-01-01', '2024-02-01']);
  });

  it('counts 10 years of partitions exactly', () => {
    const now = at('2025-01-01T00:00:00Z');
    expect(daily({ start: '2015-01-01' }).keys(now)).toHaveLength(3653);
    const utcHours = hourly({ start: '2015-01-01' }).keys(now);
    expect(utcHours).toHaveLength(3653 * 24);
    expect(utcHours[0]).toBe('2015-01-01-00:00');
    expect(utcHours[utcHours.length - 1]).toBe('2024-12-31-23:00');
    // Berlin: 10 skipped spring-forward hours, and 2025-01-01 00:00 local (23:00Z) is complete at now.
    const berlinHours = hourly({ start: '2015-01-01', timezone: 'Europe/Berlin' }).keys(now);
    expect(berlinHours).toHaveLength(3653 * 24 - 10 + 1);
    expect(new Set(berlinHours).size).toBe(berlinHours.length);
    expect([...berlinHours].sort()).toEqual(berlinHours);
    expect(weekly({ start: '2015-01-01' }).keys(now)).toHaveLength(521);
    expect(monthly({ start: '2015-01-01' }).keys(now)).toHaveLength(120);
  });
});

describe('TimeWindowPartitions: windows', () => {
  it('makes UTC daily windows of 24 hours', () => {
    const definition = daily({ start: '2024-01-01' });
    expect(definition.window('2024-03-10')).toEqual({ start: at('2024-03-10T00:00:00Z'), end: at('2024-03-11T00:00:00Z') });
    expect(definition.localWindow('2024-03-01')).toEqual({ start: '2024-03-01 00:00:00', end: '2024-03-02 00:00:00' });
  });

  it('makes hourly keys and windows', () => {
    const definition = hourly({ start: '2024-01-01' });
    expect(definition.window('2024-03-01-13:00')).toEqual({ start: at('2024-03-01T13:00:00Z'), end: at('2024-03-01T14:00:00Z') });
    expect(definition.localWindow('2024-03-01-23:00')).toEqual({ start: '2024-03-01 23:00:00', end: '2024-03-02 00:00:00' });
  });

  it('aligns weeks to Monday', () => {
    const definition = weekly({ start: '2024-01-03' });
    expect(definition.keys(at('2024-02-01T00:00:00Z'))).toEqual(['2024-01-08', '2024-01-15', '2024-01-22']);
    expect(definition.window('2024-01-08')).toEqual({ start: at('2024-01-08T00:00:00Z'), end: at('2024-01-15T00:00:00Z') });
    expect(definition.localWindow('2024-12-30')).toEqual({ start: '2024-12-30 00:00:00', end: '2025-01-06 00:00:00' });
    expect(weekly({ start: '2024-01-01' }).keys(at('2024-01-08T00:00:00Z'))).toEqual(['2024-01-01']);
    expect(definition.keyAt(at('2024-01-14T23:59:59Z'))).toBe('2024-01-08');
  });

  it('rejects a weekly key that is not a Monday', () => {
    expect(() => weekly({ start: '2024-01-01' }).window('2024-01-09')).toThrow(
      'partition "2024-01-09" is not a valid weekly partition key (expected YYYY-MM-DD, a Monday)',
    );
  });

  it('gives months their lengths, February of a leap year included', () => {
    const definition = monthly({ start: '2023-01-01' });
    expect(days(definition, '2024-01-01')).toBe(31);
    expect(days(definition, '2024-02-01')).toBe(29);
    expect(days(definition, '2023-02-01')).toBe(28);
    expect(days(definition, '2024-04-01')).toBe(30);
    expect(definition.localWindow('2024-12-01')).toEqual({ start: '2024-12-01 00:00:00', end: '2025-01-01 00:00:00' });
  });

  it('starts months on the first 1st on or after start', () => {
    const definition = monthly({ start: '2024-01-15' });
    expect(definition.keys(at('2024-06-01T00:00:00Z'))).toEqual(['2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01']);
    expect(() => definition.window('2024-02-15')).toThrow('partition "2024-02-15" is not a valid monthly partition key (expected YYYY-MM-01)');
  });

  it('follows the time zone for monthly windows', () => {
    const definition = monthly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(definition.window('2024-03-01')).toEqual({ start: at('2024-03-01T05:00:00Z'), end: at('2024-04-01T04:00:00Z') });
  });
});

describe('TimeWindowPartitions: validateKey and has', () => {
  const definition = daily({ start: '2024-01-01', end: '2024-02-01' });
  const now = at('2024-01-05T12:00:00Z');

  it('accepts a complete key', () => {
    expect(() => definition.validateKey('2024-01-04', now)).not.toThrow();
    expect(definition.has('2024-01-04', now)).toBe(true);
  });

  it('names a malformed key and the expected format', () => {
    const error = errorOf(() => definition.validateKey('2024-02-30', now));
    expect(error).toBeInstanceOf(PartitionKeyError);
    expect(error.message).toBe('partition "2024-02-30" is not a valid daily partition key (expected YYYY-MM-DD)');
    expect((error as PartitionKeyError).code).toBe('partition_invalid');
    expect((error as PartitionKeyError).context.partition).toBe('2024-02-30');
    expect(() => hourly({ start: '2024-01-01' }).validateKey('2024-03-01-13:30', now)).toThrow(
      'partition "2024-03-01-13:30" is not a valid hourly partition key (expected YYYY-MM-DD-HH:00)',
    );
  });

  it('names the first partition for a key before it', () => {
    expect(() => definition.validateKey('2023-12-31', now)).toThrow('partition "2023-12-31" is before the first partition 2024-01-01');
  });

  it('names the last partition for a key after end', () => {
    expect(() => definition.validateKey('2024-02-01', LATER)).toThrow('partition "2024-02-01" is after the last partition 2024-01-31');
  });

  it('names now for a key that is not complete yet', () => {
    expect(() => definition.validateKey('2024-01-05', now)).toThrow('partition "2024-01-05" is not complete yet at 2024-01-05T12:00:00.000Z');
  });

  it('answers has() without throwing', () => {
    for (const key of ['2024-01-05', '2023-12-31', '2024-02-01', 'nonsense', '2024-13-01', '']) {
      expect(definition.has(key, now)).toBe(false);
    }
  });

  it('rejects an invalid now', () => {
    expect(() => definition.keys(new Date('not a date'))).toThrow('now must be a valid Date');
  });
});

describe('TimeWindowPartitions: keysBetween', () => {
  const definition = daily({ start: '2024-01-01' });
  const now = at('2024-01-10T00:00:00Z');

  it('lists keys inclusively', () => {
    expect(definition.keysBetween('2024-01-03', '2024-01-05', now)).toEqual(['2024-01-03', '2024-01-04', '2024-01-05']);
    expect(definition.keysBetween('2024-01-03', '2024-01-03', now)).toEqual(['2024-01-03']);
  });

  it('keeps to keys that exist at now', () => {
    expect(definition.keysBetween('2023-12-30', '2024-01-02', now)).toEqual(['2024-01-01', '2024-01-02']);
    expect(definition.keysBetween('2024-01-08', '2024-01-20', now)).toEqual(['2024-01-08', '2024-01-09']);
  });

  it('throws on a reversed range, naming both ends', () => {
    expect(() => definition.keysBetween('2024-01-05', '2024-01-03', now)).toThrow(
      'partition range 2024-01-05..2024-01-03 is reversed: "2024-01-05" comes after "2024-01-03"',
    );
  });

  it('throws on a malformed end', () => {
    expect(() => definition.keysBetween('2024-01-01', '2024-1-3', now)).toThrow(/"2024-1-3" is not a valid daily partition key/);
  });

  it('lists hourly keys across days', () => {
    expect(hourly({ start: '2024-01-01' }).keysBetween('2024-01-01-22:00', '2024-01-02-01:00', now)).toEqual([
      '2024-01-01-22:00',
      '2024-01-01-23:00',
      '2024-01-02-00:00',
      '2024-01-02-01:00',
    ]);
  });
});

describe('TimeWindowPartitions: keyAt, offset, windowsOverlapping', () => {
  it('round-trips keyAt over every window bound, across DST changes', () => {
    for (const timezone of ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe']) {
      const definition = hourly({ start: '2024-03-01', end: '2024-12-01', timezone });
      for (const key of definition.keys(LATER)) {
        const { start, end } = definition.window(key);
        expect(definition.keyAt(start)).toBe(key);
        expect(definition.keyAt(new Date(end.getTime() - 1))).toBe(key);
      }
    }
  });

  it('round-trips offset and agrees with the key order', () => {
    const definition = hourly({ start: '2024-03-01', end: '2024-12-01', timezone: 'America/New_York' });
    const keys = definition.keys(LATER);
    for (let i = 0; i < keys.length - 30; i += 7) {
      const key = keys[i] as string;
      expect(definition.offset(key, 1)).toBe(keys[i + 1]);
      expect(definition.offset(key, 30)).toBe(keys[i + 30]);
      expect(definition.offset(definition.offset(key, 30), -30)).toBe(key);
      expect(definition.offset(key, 0)).toBe(key);
    }
  });

  it('offsets daily, weekly and monthly keys', () => {
    expect(daily({ start: '2024-01-01' }).offset('2024-02-28', 2)).toBe('2024-03-01');
    expect(weekly({ start: '2024-01-01' }).offset('2024-12-30', 1)).toBe('2025-01-06');
    expect(monthly({ start: '2024-01-01' }).offset('2024-11-01', 3)).toBe('2025-02-01');
    expect(monthly({ start: '2024-01-01' }).offset('2025-02-01', -13)).toBe('2024-01-01');
  });

  it('refuses to offset outside start..end', () => {
    const definition = daily({ start: '2024-01-01', end: '2024-02-01' });
    expect(() => definition.offset('2024-01-02', -2)).toThrow('partition "2024-01-02" offset by -2 is before the first partition 2024-01-01');
    expect(() => definition.offset('2024-01-30', 2)).toThrow('partition "2024-01-30" offset by 2 is after the last partition 2024-01-31');
    expect(() => definition.offset('2024-01-30', 0.5)).toThrow(/must be an integer/);
  });

  it('refuses keyAt outside start..end', () => {
    const definition = daily({ start: '2024-01-01', end: '2024-02-01' });
    expect(() => definition.keyAt(at('2023-12-31T23:59:59Z'))).toThrow('instant 2023-12-31T23:59:59.000Z is before the first partition 2024-01-01');
    expect(() => definition.keyAt(at('2024-02-01T00:00:00Z'))).toThrow(/is after the last partition 2024-01-31/);
    expect(definition.keyAt(at('2024-01-31T23:59:59Z'))).toBe('2024-01-31');
  });

  it('finds the windows overlapping a span', () => {
    const definition = daily({ start: '2024-01-01' });
    const now = at('2024-02-01T00:00:00Z');
    expect(definition.windowsOverlapping(at('2024-01-02T12:00:00Z'), at('2024-01-04T00:00:00Z'), now)).toEqual(['2024-01-02', '2024-01-03']);
    expect(definition.windowsOverlapping(at('2024-01-02T00:00:00Z'), at('2024-01-02T00:00:01Z'), now)).toEqual(['2024-01-02']);
    expect(definition.windowsOverlapping(at('2024-01-03T00:00:00Z'), at('2024-01-03T00:00:00Z'), now)).toEqual([]);
    expect(definition.windowsOverlapping(at('2023-12-01T00:00:00Z'), at('2024-01-02T00:00:00Z'), now)).toEqual(['2024-01-01']);
    expect(definition.windowsOverlapping(at('2024-01-30T00:00:00Z'), at('2024-03-01T00:00:00Z'), now)).toEqual(['2024-01-30', '2024-01-31']);
  });

  it('shifts a window by whole windows, reaching before start', () => {
    const definition = daily({ start: '2024-01-01' });
    expect(definition.shiftedWindow('2024-01-02', -6, 0)).toEqual({ start: at('2023-12-27T00:00:00Z'), end: at('2024-01-03T00:00:00Z') });
    expect(definition.shiftedWindow('2024-01-10', -1, -1)).toEqual({ start: at('2024-01-09T00:00:00Z'), end: at('2024-01-10T00:00:00Z') });
  });
});
