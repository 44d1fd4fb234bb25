import { describe, expect, it } from 'vitest';
import {
  PartitionMappingError,
  allPartitions,
  daily,
  defaultMapping,
  hourly,
  identity,
  monthly,
  parseMapping,
  readsSameKey,
  staticMapping,
  staticPartitions,
  timeWindow,
  weekly,
} from '../../core/model/partitions/index.ts';

const at = (iso: string) => new Date(iso);
const days = daily({ start: '2024-01-01' });
const months = monthly({ start: '2024-01-01' });
const regions = staticPartitions(['eu', 'us', 'apac']);
const now = at('2024-03-15T00:00:00Z');

/** `count` consecutive daily keys from `first` (UTC). */
function dayRange(first: string, count: number): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

describe('identity', () => {
  it('reads the same key upstream', () => {
    expect(identity().type).toBe('identity');
    expect(identity().upstreamKeys('2024-01-02', days, days, now)).toEqual(['2024-01-02']);
    expect(identity().upstreamKeys('us', regions, regions, now)).toEqual(['us']);
  });

  it('reads nothing when upstream lacks the key at now', () => {
    const laterDays = daily({ start: '2024-02-01' });
    expect(identity().upstreamKeys('2024-01-02', days, laterDays, now)).toEqual([]);
    expect(identity().upstreamKeys('2024-03-15', days, days, now)).toEqual([]);
    expect(identity().upstreamKeys('mars', regions, regions, now)).toEqual([]);
  });

  it('reads [null] from an unpartitioned upstream', () => {
    expect(identity().upstreamKeys(null, undefined, undefined, now)).toEqual([null]);
    expect(identity().upstreamKeys('2024-01-02', days, undefined, now)).toEqual([null]);
  });

  it('cannot map an unpartitioned downstream to a partitioned upstream', () => {
    expect(() => identity().upstreamKeys(null, undefined, days, now)).toThrow(
      'identity cannot map an unpartitioned downstream asset to the partitioned upstream daily(start=2024-01-01, timezone=UTC) (use all)',
    );
  });
});

describe('timeWindow', () => {
  const rolling = timeWindow({ startOffset: -6, endOffset: 0 });
  const yesterday = timeWindow({ startOffset: -1, endOffset: -1 });

  it('reads the same window by default', () => {
    expect(timeWindow().upstreamKeys('2024-01-10', days, days, now)).toEqual(['2024-01-10']);
    expect(String(timeWindow())).toBe('window(0, 0)');
    expect(timeWindow().type).toBe('time_window');
  });

  it('reads 7 days for a rolling 7-day window', () => {
    expect(rolling.upstreamKeys('2024-01-10', days, days, now)).toEqual(dayRange('2024-01-04', 7));
    expect(rolling.upstreamKeys('2024-03-14', days, days, now)).toEqual(dayRange('2024-03-08', 7));
    expect(String(rolling)).toBe('window(-6, 0)');
  });

  it('reads fewer days at the start of the range', () => {
    expect(rolling.upstreamKeys('2024-01-01', days, days, now)).toEqual(['2024-01-01']);
    expect(rolling.upstreamKeys('2024-01-03', days, days, now)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
  });

  it('reads only upstream days complete at now', () => {
    expect(rolling.upstreamKeys('2024-01-10', days, days, at('2024-01-08T12:00:00Z'))).toEqual(dayRange('2024-01-04', 4));
  });

  it('reads the day before for yesterday', () => {
    expect(yesterday.upstreamKeys('2024-01-10', days, days, now)).toEqual(['2024-01-09']);
    expect(yesterday.upstreamKeys('2024-03-01', days, days, now)).toEqual(['2024-02-29']);
    expect(yesterday.upstreamKeys('2024-01-01', days, days, now)).toEqual([]);
    expect(String(yesterday)).toBe('window(-1, -1)');
  });

  it('rolls every day of a month up into the month', () => {
    const january = timeWindow().upstreamKeys('2024-01-01', months, days, now);
    expect(january).toEqual(dayRange('2024-01-01', 31));
    const february = timeWindow().upstreamKeys('2024-02-01', months, days, now);
    expect(february).toHaveLength(29);
    expect(february[0]).toBe('2024-02-01');
    expect(february[28]).toBe('2024-02-29');
  });

  it('reads the month a day belongs to, once the month is complete', () => {
    expect(timeWindow().upstreamKeys('2024-02-10', days, months, now)).toEqual(['2024-02-01']);
    expect(timeWindow().upstreamKeys('2024-03-10', days, months, now)).toEqual([]);
    expect(timeWindow({ startOffset: -1, endOffset: -1 }).upstreamKeys('2024-03-01', months, months, now)).toEqual(['2024-02-01']);
  });

  it('reads the days of a week, and the hours of a DST day', () => {
    const weeks = weekly({ start: '2024-01-01' });
    expect(timeWindow().upstreamKeys('2024-01-08', weeks, days, now)).toEqual(dayRange('2024-01-08', 7));
    const nyDays = daily({ start: '2024-01-01', timezone: 'America/New_York' });
    const nyHours = hourly({ start: '2024-01-01', timezone: 'America/New_York' });
    expect(timeWindow().upstreamKeys('2024-03-10', nyDays, nyHours, now)).toHaveLength(23);
    expect(timeWindow().upstreamKeys('2024-03-10-03:00', nyHours, nyDays, now)).toEqual(['2024-03-10']);
  });

  it('reads every upstream window that overlaps, across time zones', () => {
    const berlinDays = daily({ start: '2024-01-01', timezone: 'Europe/Berlin' });
    // Berlin's 2024-01-10 is 2024-01-09T23:00Z..2024-01-10T23:00Z.
    expect(timeWindow().upstreamKeys('2024-01-10', berlinDays, days, now)).toEqual(['2024-01-09', '2024-01-10']);
  });

  it('reads [null] from an unpartitioned upstream', () => {
    expect(rolling.upstreamKeys('2024-01-10', days, undefined, now)).toEqual([null]);
  });

  it('refuses static partitions on either side', () => {
    expect(() => timeWindow().upstreamKeys('eu', regions, days, now)).toThrow(
      'window(0, 0) needs time-window partitions on both sides, but downstream is static(eu, us, apac) and upstream is daily(start=2024-01-01, timezone=UTC)',
    );
    expect(() => rolling.upstreamKeys('2024-01-10', days, regions, now)).toThrow(PartitionMappingError);
    expect(() => rolling.upstreamKeys(null, undefined, days, now)).toThrow(/downstream is unpartitioned/);
  });

  it('refuses a downstream key outside the downstream definition', () => {
    expect(() => rolling.upstreamKeys('2023-12-31', days, days, now)).toThrow(/is before the first partition 2024-01-01/);
  });

  it('validates its offsets', () => {
    expect(() => timeWindow({ startOffset: 1, endOffset: 0 })).toThrow('window(1, 0) is empty: the start offset must not be greater than the end offset');
    expect(() => timeWindow({ startOffset: 0.5 })).toThrow(/must be integers/);
    expect(timeWindow({ startOffset: -3 })).toMatchObject({ startOffset: -3, endOffset: 0 });
  });
});

describe('allPartitions', () => {
  it('reads every upstream key at now', () => {
    expect(allPartitions().type).toBe('all');
    expect(allPartitions().upstreamKeys('2024-01-01', days, months, now)).toEqual(['2024-01-01', '2024-02-01']);
    expect(allPartitions().upstreamKeys(null, undefined, regions, now)).toEqual(['eu', 'us', 'apac']);
    expect(allPartitions().upstreamKeys('eu', regions, days, at('2024-01-03T00:00:00Z'))).toEqual(['2024-01-01', '2024-01-02']);
  });

  it('reads [null] from an unpartitioned upstream', () => {
    expect(allPartitions().upstreamKeys('2024-01-01', days, undefined, now)).toEqual([null]);
    expect(String(allPartitions())).toBe('all');
  });
});

describe('staticMapping', () => {
  const groups = staticPartitions(['emea', 'amer']);
  const countries = staticPartitions(['de', 'fr', 'us', 'ca']);
  const mapping = staticMapping({ emea: ['de', 'fr', 'uk'], amer: ['us', 'ca'] });

  it('reads the listed upstream keys that exist', () => {
    expect(mapping.type).toBe('static');
    expect(mapping.upstreamKeys('emea', groups, countries, now)).toEqual(['de', 'fr']);
    expect(mapping.upstreamKeys('amer', groups, countries, now)).toEqual(['us', 'ca']);
    expect(mapping.upstreamKeys('amer', groups, undefined, now)).toEqual([null]);
  });

  it('names a downstream key it has no entry for', () => {
    expect(() => mapping.upstreamKeys('apac', groups, countries, now)).toThrow(
      'static(amer -> us, ca; emea -> de, fr, uk) has no entry for downstream partition "apac"',
    );
    expect(() => mapping.upstreamKeys('toString', groups, countries, now)).toThrow(/no entry for downstream partition "toString"/);
  });

  it('prints sorted and does not share the caller map', () => {
    const map = { b: ['x'], a: ['y', 'z'] };
    const copied = staticMapping(map);
    map.b.push('w');
    expect(String(copied)).toBe('static(a -> y, z; b -> x)');
  });

  it('rejects a malformed map', () => {
    expect(() => staticMapping({ a: 'x' } as unknown as Record<string, string[]>)).toThrow('static partition mapping: "a" must map to a list of upstream keys');
  });
});

describe('defaultMapping', () => {
  it('maps time windows to time windows with window(0, 0)', () => {
    const mapping = defaultMapping(months, days);
    expect(mapping.type).toBe('time_window');
    expect(String(mapping)).toBe('window(0, 0)');
  });

  it('maps equal static keys with identity, in any order', () => {
    expect(defaultMapping(regions, staticPartitions(['apac', 'eu', 'us'])).type).toBe('identity');
  });

  it('reads everything for differing static keys and for static/time mixes', () => {
    expect(defaultMapping(regions, staticPartitions(['eu', 'us'])).type).toBe('all');
    expect(defaultMapping(regions, days).type).toBe('all');
    expect(defaultMapping(days, regions).type).toBe('all');
  });

  it('reads [null] from an unpartitioned upstream', () => {
    expect(defaultMapping(days, undefined).upstreamKeys('2024-01-01', days, undefined, now)).toEqual([null]);
    expect(defaultMapping(undefined, undefined).upstreamKeys(null, undefined, undefined, now)).toEqual([null]);
  });

  it('reads every upstream key into an unpartitioned downstream', () => {
    const mapping = defaultMapping(undefined, months);
    expect(mapping.type).toBe('all');
    expect(mapping.upstreamKeys(null, undefined, months, now)).toEqual(['2024-01-01', '2024-02-01']);
  });
});

describe('readsSameKey', () => {
  const berlinDays = daily({ start: '2024-01-01', timezone: 'Europe/Berlin' });
  const laterDays = daily({ start: '2024-02-01', end: '2024-03-01' });
  const cases = [
    ['window(0, 0) between daily windows of one time zone (other bounds)', timeWindow(), days, laterDays, true],
    ['identity between static keys', identity(), regions, regions, true],
    ['window(-1, 0)', timeWindow({ startOffset: -1 }), days, days, false],
    ['window(0, 0) from daily to monthly', timeWindow(), days, months, false],
    ['window(0, 0) between time zones', timeWindow(), days, berlinDays, false],
    ['an unpartitioned upstream', allPartitions(), days, undefined, false],
  ] as const;

  it.each(cases)('%s: %s', (_name, mapping, downstream, upstream, expected) => {
    expect(readsSameKey(mapping, downstream, upstream)).toBe(expected);
  });

  it('agrees with upstreamKeys wherever it says true', () => {
    for (const [, mapping, downstream, upstream, same] of cases) {
      if (!same) continue;
      for (const key of downstream.keys(now)) {
        const read = mapping.upstreamKeys(key, downstream, upstream, now);
        expect(read, `${mapping} ${key}`).toEqual(upstream.has(key, now) ? [key] : []);
      }
    }
  });
});

describe('parseMapping', () => {
  it('reads identity and all', () => {
    expect(parseMapping('identity').type).toBe('identity');
    expect(parseMapping(' all ').type).toBe('all');
  });

  it('reads window(start, end) and window(offset)', () => {
    expect(parseMapping('window(-6, 0)')).toMatchObject({ type: 'time_window', startOffset: -6, endOffset: 0 });
    expect(parseMapping('window( -6 ,0 )')).toMatchObject({ startOffset: -6, endOffset: 0 });
    expect(parseMapping('window(-1)')).toMatchObject({ startOffset: -1, endOffset: -1 });
    expect(parseMapping('window(+1, 2)')).toMatchObject({ startOffset: 1, endOffset: 2 });
  });

  it('prints back to text it reads', () => {
    for (const text of ['identity', 'all', 'window(-6, 0)', 'window(0, 0)', 'window(-1, -1)']) {
      expect(String(parseMapping(text))).toBe(text);
    }
    expect(String(parseMapping('window(-1)'))).toBe('window(-1, -1)');
  });

  it('rejects anything else', () => {
    for (const text of ['', 'Identity', 'window()', 'window(-1.5)', 'window(1, 2, 3)', 'window(a)', 'rolling(7)', 'all partitions']) {
      expect(() => parseMapping(text)).toThrow(PartitionMappingError);
    }
    expect(() => parseMapping('latest')).toThrow(
      'unknown partition mapping "latest" (expected identity, all, window(start, end) such as window(-6, 0), or window(offset) such as window(-1))',
    );
    expect(() => parseMapping('window(1, 0)')).toThrow(/window\(1, 0\) is empty/);
  });
});
