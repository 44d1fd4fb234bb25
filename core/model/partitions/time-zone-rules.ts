/**
 * UTC offsets of one IANA time zone, read from `Intl.DateTimeFormat` and memoised as offset
 * segments so that converting between instants and wall-clock time is plain arithmetic.
 *
 * A "wall" value is a local wall-clock time encoded as milliseconds since 1970-01-01T00:00
 * *as if it were UTC* (so `new Date(wall).toISOString()` prints the local time).
 */

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets are memoised in blocks of this length... */
const BLOCK_MS = 64 * DAY_MS;
/** ...found by sampling at this step (two transitions closer than this would be missed). */
const SAMPLE_MS = 4 * DAY_MS;
/** Real offsets lie within -12h..+14h; this bound is a safe margin around them. */
const MAX_OFFSET_MS = 15 * HOUR_MS;
const FIXED_UTC = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Etc/Zulu']);

/** `[from, to)` in UTC milliseconds, during which the zone's offset is `offset` milliseconds. */
interface OffsetSegment {
  readonly from: number;
  readonly to: number;
  readonly offset: number;
}

const rulesByZone = new Map<string, TimeZoneRules>();

/**
 * The offsets of one time zone. Get one with {@link TimeZoneRules.for}; instances are shared
 * and only memoise (the answers never change).
 *
 * @example
 * const berlin = TimeZoneRules.for('Europe/Berlin');
 * new Date(berlin.firstInstantAtWall(Date.UTC(2024, 2, 31))).toISOString(); // '2024-03-30T23:00:00.000Z'
 */
export class TimeZoneRules {
  private readonly formatter: Intl.DateTimeFormat | undefined;
  private readonly blocks = new Map<number, readonly OffsetSegment[]>();

  private constructor(
    /** The zone's name as the caller should print it. */
    readonly timeZone: string,
    formatter: Intl.DateTimeFormat | undefined,
  ) {
    this.formatter = formatter;
  }

  /**
   * The rules of `timeZone` (an IANA name such as `Europe/Berlin`, or `UTC`); throws a
   * `RangeError` when Intl does not know the zone.
   */
  static for(timeZone: string): TimeZoneRules {
    const known = rulesByZone.get(timeZone);
    if (known) return known;
    if (timeZone === 'UTC') {
      // What Intl resolves `UTC` to, without the formatter (the first one loads ICU's data, ~50 ms).
      const utc = new TimeZoneRules('UTC', undefined);
      rulesByZone.set(timeZone, utc);
      return utc;
    }
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    const resolved = formatter.resolvedOptions().timeZone;
    // Keep the caller's spelling unless only the case differs (ICU prefers legacy names such as Asia/Calcutta).
    const name = resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
    const rules = new TimeZoneRules(name, FIXED_UTC.has(resolved) ? undefined : formatter);
    rulesByZone.set(timeZone, rules);
    return rules;
  }

  /** True when `timeZone` is a zone Intl knows. */
  static isValid(timeZone: string): boolean {
    try {
      TimeZoneRules.for(timeZone);
      return true;
    } catch {
      return false;
    }
  }

  /** The zone's offset from UTC at `instant` (ms since the epoch), in milliseconds. */
  offsetAt(instant: number): number {
    return this.segmentAt(instant).offset;
  }

  /** The wall-clock time at `instant`. */
  wallAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The earliest instant at which the wall clock reads `wall` or later: the instant itself
   * when `wall` occurs once, the first of the two when it occurs twice (fall-back), and the
   * moment of the jump when it is skipped (spring-forward).
   */
  firstInstantAtWall(wall: number): number {
    if (!this.formatter) return wall;
    let segment = this.segmentAt(wall - MAX_OFFSET_MS);
    for (;;) {
      const candidate = wall - segment.offset;
      if (candidate < segment.to) return Math.max(segment.from, candidate);
      segment = this.segmentAt(segment.to);
    }
  }

  private segmentAt(instant: number): OffsetSegment {
    const segments = this.blockSegments(Math.floor(instant / BLOCK_MS));
    for (const segment of segments) if (instant < segment.to) return segment;
    return segments[segments.length - 1] as OffsetSegment;
  }

  private blockSegments(block: number): readonly OffsetSegment[] {
    const known = this.blocks.get(block);
    if (known) return known;
    const from = block * BLOCK_MS;
    const to = from + BLOCK_MS;
    const segments: OffsetSegment[] = [];
    if (!this.formatter) {
      segments.push({ from, to, offset: 0 });
    } else {
      let segmentStart = from;
      let offset = this.intlOffset(from);
      let previous = from;
      for (let sample = Math.min(from + SAMPLE_MS, to - SECOND_MS); ; sample = Math.min(sample + SAMPLE_MS, to - SECOND_MS)) {
        const sampled = this.intlOffset(sample);
        while (sampled !== offset) {
          const change = this.firstChange(previous, sample, offset);
          segments.push({ from: segmentStart, to: change, offset });
          segmentStart = change;
          previous = change;
          offset = this.intlOffset(change);
        }
        previous = sample;
        if (sample === to - SECOND_MS) break;
      }
      segments.push({ from: segmentStart, to, offset });
    }
    const frozen = Object.freeze(segments.map((s) => Object.freeze(s)));
    this.blocks.set(block, frozen);
    return frozen;
  }

  /** The first whole second in `(low, high]` whose offset differs from `offset` (the one at `low`). */
  private firstChange(low: number, high: number, offset: number): number {
    let lo = low;
    let hi = high;
    while (hi - lo > SECOND_MS) {
      const mid = lo + Math.floor((hi - lo) / (2 * SECOND_MS)) * SECOND_MS;
      if (this.intlOffset(mid) === offset) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** The offset at a whole second, asked of Intl. */
  private intlOffset(instant: number): number {
    const fields: Record<string, number> = {};
    for (const part of (this.formatter as Intl.DateTimeFormat).formatToParts(instant)) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const wall = wallFromFields(fields.year ?? 0, fields.month ?? 1, fields.day ?? 1, fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0);
    return wall - instant;
  }
}

/** A wall value from calendar fields (month 1-12), correct for every year including 0-99. */
function wallFromFields(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}
