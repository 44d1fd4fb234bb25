import { describe, expect, it } from 'vitest';
import { daily, hourly, weekly } from '../../core/model/partitions/index.ts';
import type { TimeWindowPartitions } from '../../core/model/partitions/index.ts';

const HOUR = 3_600_000;
const LATER = new Date('2030-01-01T00:00:00Z');

function hours(definition: TimeWindowPartitions, key: string): number {
  const { start, end } = definition.window(key);
  return (end.getTime() - start.getTime()) / HOUR;
}

/** The hourly keys of one local day, and checks that their windows tile the daily window. */
function hourlyKeysOfDay(timezone: string, day: string): readonly string[] {
  const hours = hourly({ start: '2024-01-01', timezone });
  const keys = hours.keysBetween(`${day}-00:00`, `${day}-23:00`, LATER);
  const dayWindow = daily({ start: '2024-01-01', timezone }).window(day);
  expect(new Set(keys).size).toBe(keys.length);
  expect(hours.window(keys[0] as string).start).toEqual(dayWindow.start);
  expect(hours.window(keys[keys.length - 1] as string).end).toEqual(dayWindow.end);
  for (let i = 1; i < keys.length; i++) {
    expect(hours.window(keys[i] as string).start).toEqual(hours.window(keys[i - 1] as string).end);
  }
  return keys;
}

describe('daily windows across daylight-saving changes', () => {
  const newYork = daily({ start: '2024-01-01', timezone: 'America/New_York' });
  const berlin = daily({ start: '2024-01-01', timezone: 'Europe/Berlin' });

  it('is 23 hours on spring-forward days', () => {
    expect(hours(newYork, '2024-03-10')).toBe(23);
    expect(hours(berlin, '2024-03-31')).toBe(23);
  });

  it('is 25 hours on fall-back days', () => {
    expect(hours(newYork, '2024-11-03')).toBe(25);
    expect(hours(berlin, '2024-10-27')).toBe(25);
  });

  it('is 24 hours around them', () => {
    for (const key of ['2024-03-09', '2024-03-11', '2024-11-02', '2024-11-04']) expect(hours(newYork, key)).toBe(24);
    for (const key of ['2024-03-30', '2024-04-01', '2024-10-26', '2024-10-28']) expect(hours(berlin, key)).toBe(24);
  });

  it('runs from local midnight to local midnight as UTC instants', () => {
    expect(newYork.window('2024-03-10')).toEqual({
      start: new Date('2024-03-10T05:00:00Z'),
      end: new Date('2024-03-11T04:00:00Z'),
    });
    expect(newYork.window('2024-11-03')).toEqual({
      start: new Date('2024-11-03T04:00:00Z'),
      end: new Date('2024-11-04T05:00:00Z'),
    });
    expect(berlin.window('2024-03-31')).toEqual({
      start: new Date('2024-03-30T23:00:00Z'),
      end: new Date('2024-03-31T22:00:00Z'),
    });
    expect(berlin.window('2024-10-27')).toEqual({
      start: new Date('2024-10-26T22:00:00Z'),
      end: new Date('2024-10-27T23:00:00Z'),
    });
  });

  it('keeps local wall-clock bounds at midnight', () => {
    expect(berlin.localWindow('2024-03-31')).toEqual({ start: '2024-03-31 00:00:00', end: '2024-04-01 00:00:00' });
    expect(newYork.localWindow('2024-11-03')).toEqual({ start: '2024-11-03 00:00:00', end: '2024-11-04 00:00:00' });
  });

  it('counts a day complete only at local midnight', () => {
    expect(berlin.keys(new Date('2024-01-01T22:59:59Z'))).toEqual([]);
    expect(berlin.keys(new Date('2024-01-01T23:00:00Z'))).toEqual(['2024-01-01']);
    expect(newYork.keys(new Date('2024-01-02T04:59:59Z'))).toEqual([]);
    expect(newYork.keys(new Date('2024-01-02T05:00:00Z'))).toEqual(['2024-01-01']);
  });

  it('makes a weekly window holding a spring-forward Sunday 167 hours long', () => {
    const weeks = weekly({ start: '2024-01-01', timezone: 'Europe/Berlin' });
    expect(hours(weeks, '2024-03-25')).toBe(167);
    expect(hours(weeks, '2024-10-21')).toBe(169);
    expect(hours(weeks, '2024-04-01')).toBe(168);
  });
});

describe('hourly keys across daylight-saving changes', () => {
  it('has 23 keys on a spring-forward day in New York, with no 02:00', () => {
    const keys = hourlyKeysOfDay('America/New_York', '2024-03-10');
    expect(keys).toHaveLength(23);
    expect(keys).not.toContain('2024-03-10-02:00');
    expect(keys.slice(0, 4)).toEqual(['2024-03-10-00:00', '2024-03-10-01:00', '2024-03-10-03:00', '2024-03-10-04:00']);
  });

  it('has 23 keys on a spring-forward day in Berlin, with no 02:00', () => {
    const keys = hourlyKeysOfDay('Europe/Berlin', '2024-03-31');
    expect(keys).toHaveLength(23);
    expect(keys).not.toContain('2024-03-31-02:00');
  });

  it('has 24 keys on a fall-back day in New York; the repeated 01:00 spans two hours', () => {
    const keys = hourlyKeysOfDay('America/New_York', '2024-11-03');
    expect(keys).toHaveLength(24);
    const hours = hourly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(hours.window('2024-11-03-01:00')).toEqual({
      start: new Date('2024-11-03T05:00:00Z'),
      end: new Date('2024-11-03T07:00:00Z'),
    });
    expect(hours.window('2024-11-03-02:00')).toEqual({
      start: new Date('2024-11-03T07:00:00Z'),
      end: new Date('2024-11-03T08:00:00Z'),
    });
    const twoHourKeys = keys.filter((key) => {
      const { start, end } = hours.window(key);
      return end.getTime() - start.getTime() === 2 * HOUR;
    });
    expect(twoHourKeys).toEqual(['2024-11-03-01:00']);
  });

  it('has 24 keys on a fall-back day in Berlin; the repeated 02:00 spans two hours', () => {
    const keys = hourlyKeysOfDay('Europe/Berlin', '2024-10-27');
    expect(keys).toHaveLength(24);
    const hours = hourly({ start: '2024-01-01', timezone: 'Europe/Berlin' });
    expect(hours.window('2024-10-27-02:00')).toEqual({
      start: new Date('2024-10-27T00:00:00Z'),
      end: new Date('2024-10-27T02:00:00Z'),
    });
    expect(hours.localWindow('2024-10-27-02:00')).toEqual({ start: '2024-10-27 02:00:00', end: '2024-10-27 03:00:00' });
  });

  it('has 24 one-hour keys on an ordinary day', () => {
    const keys = hourlyKeysOfDay('America/New_York', '2024-06-01');
    expect(keys).toHaveLength(24);
  });

  it('maps both passes of the repeated hour to the same key', () => {
    const hours = hourly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(hours.keyAt(new Date('2024-11-03T05:30:00Z'))).toBe('2024-11-03-01:00');
    expect(hours.keyAt(new Date('2024-11-03T06:30:00Z'))).toBe('2024-11-03-01:00');
    expect(hours.keyAt(new Date('2024-11-03T07:00:00Z'))).toBe('2024-11-03-02:00');
  });

  it('jumps over the skipped hour', () => {
    const hours = hourly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(hours.keyAt(new Date('2024-03-10T06:59:59Z'))).toBe('2024-03-10-01:00');
    expect(hours.keyAt(new Date('2024-03-10T07:00:00Z'))).toBe('2024-03-10-03:00');
    expect(hours.offset('2024-03-10-01:00', 1)).toBe('2024-03-10-03:00');
    expect(hours.offset('2024-03-10-03:00', -1)).toBe('2024-03-10-01:00');
    expect(hours.localWindow('2024-03-10-01:00')).toEqual({ start: '2024-03-10 01:00:00', end: '2024-03-10 03:00:00' });
  });

  it('rejects the skipped hour as a key', () => {
    const hours = hourly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(hours.has('2024-03-10-02:00', LATER)).toBe(false);
    expect(() => hours.validateKey('2024-03-10-02:00', LATER)).toThrow(
      'partition "2024-03-10-02:00" does not exist: clocks in America/New_York skip that hour',
    );
    expect(() => hours.window('2024-03-10-02:00')).toThrow(/skip that hour/);
  });

  it('counts the repeated hour complete only after its second pass', () => {
    const hours = hourly({ start: '2024-11-03', timezone: 'America/New_York' });
    expect(hours.keys(new Date('2024-11-03T06:59:59Z'))).toEqual(['2024-11-03-00:00']);
    expect(hours.keys(new Date('2024-11-03T07:00:00Z'))).toEqual(['2024-11-03-00:00', '2024-11-03-01:00']);
  });
});

describe('other zones', () => {
  it('follows half-hour offsets (Asia/Kolkata)', () => {
    const days = daily({ start: '2024-01-01', timezone: 'Asia/Kolkata' });
    expect(days.window('2024-01-01')).toEqual({
      start: new Date('2023-12-31T18:30:00Z'),
      end: new Date('2024-01-01T18:30:00Z'),
    });
  });

  it('has no key for a day the clocks skip entirely (Pacific/Apia, 2011-12-30)', () => {
    const days = daily({ start: '2011-12-28', timezone: 'Pacific/Apia' });
    expect(days.keys(new Date('2012-01-03T00:00:00Z'))).toEqual(['2011-12-28', '2011-12-29', '2011-12-31', '2012-01-01', '2012-01-02']);
    expect(days.offset('2011-12-29', 1)).toBe('2011-12-31');
  });
});
