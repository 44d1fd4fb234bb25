/**
 * The partition mappings: identity, time window (rolling and shifted windows, roll-ups across
 * cadences), all partitions and an explicit static map; the default choice for a pair of
 * definitions; and the text form SQL headers use.
 */
import { PartitionMappingError } from './partition-errors.ts';
import type { PartitionMapping } from './partition-mapping.ts';
import type { PartitionsDefinition } from './partitions-definition.ts';
import { TimeWindowPartitions } from './time-window-partitions.ts';

/** What a mapping returns when the upstream asset is unpartitioned. */
const UNPARTITIONED: readonly (string | null)[] = Object.freeze([null]);

/**
 * Each downstream key reads the upstream partition with the same key (none when upstream
 * lacks it at `now`).
 */
export class IdentityMapping implements PartitionMapping {
  readonly type = 'identity';

  constructor() {
    Object.freeze(this);
  }

  upstreamKeys(
    downstreamKey: string | null,
    _downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    now: Date,
  ): readonly (string | null)[] {
    if (!upstream) return UNPARTITIONED;
    const key = partitionedDownstreamKey(this, downstreamKey, upstream);
    return upstream.has(key, now) ? Object.freeze([key]) : Object.freeze([]);
  }

  toString(): string {
    return 'identity';
  }
}

/**
 * Each downstream key reads every upstream partition whose window overlaps the downstream
 * window shifted by whole *downstream* windows: its start by `startOffset`, its end by
 * `endOffset`. `window(-6, 0)` on daily partitions is a 7-day rolling window, `window(-1, -1)`
 * is yesterday, and `window(0, 0)` between a monthly downstream and a daily upstream reads
 * every day of the month. Both sides must be time-window partitions.
 *
 * @example
 * timeWindow({ startOffset: -6 }).upstreamKeys('2024-01-10', days, days, now);
 * // ['2024-01-04', …, '2024-01-10']
 */
export class TimeWindowMapping implements PartitionMapping {
  readonly type = 'time_window';
  readonly startOffset: number;
  readonly endOffset: number;

  /** Throws when an offset is not an integer or `startOffset > endOffset`. */
  constructor(startOffset = 0, endOffset = 0) {
    if (!Number.isInteger(startOffset) || !Number.isInteger(endOffset)) {
      throw new PartitionMappingError(`window offsets must be integers, got window(${startOffset}, ${endOffset})`);
    }
    if (startOffset > endOffset) {
      throw new PartitionMappingError(`window(${startOffset}, ${endOffset}) is empty: the start offset must not be greater than the end offset`);
    }
    this.startOffset = startOffset;
    this.endOffset = endOffset;
    Object.freeze(this);
  }

  upstreamKeys(
    downstreamKey: string | null,
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    now: Date,
  ): readonly (string | null)[] {
    if (!upstream) return UNPARTITIONED;
    if (!(downstream instanceof TimeWindowPartitions) || !(upstream instanceof TimeWindowPartitions)) {
      throw new PartitionMappingError(
        `${this} needs time-window partitions on both sides, but downstream is ${downstream ? String(downstream) : 'unpartitioned'} and upstream is ${upstream}`,
      );
    }
    const key = partitionedDownstreamKey(this, downstreamKey, upstream);
    const window = downstream.shiftedWindow(key, this.startOffset, this.endOffset);
    return upstream.windowsOverlapping(window.start, window.end, now);
  }

  /** `window(-6, 0)`. */
  toString(): string {
    return `window(${this.startOffset}, ${this.endOffset})`;
  }
}

/** Each downstream key (or the unpartitioned downstream) reads every upstream key at `now`. */
export class AllPartitionsMapping implements PartitionMapping {
  readonly type = 'all';

  constructor() {
    Object.freeze(this);
  }

  upstreamKeys(
    _downstreamKey: string | null,
    _downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    now: Date,
  ): readonly (string | null)[] {
    return upstream ? upstream.keys(now) : UNPARTITIONED;
  }

  toString(): string {
    return 'all';
  }
}

/**
 * An explicit map from each downstream key to the upstream keys it reads (those that exist
 * at `now`). A downstream key missing from the map is an error; map it to `[]` to read nothing.
 *
 * @example
 * staticMapping({ emea: ['de', 'fr'], amer: ['us'] }).upstreamKeys('emea', regions, countries, now); // ['de', 'fr']
 */
export class StaticMapping implements PartitionMapping {
  readonly type = 'static';
  readonly map: Readonly<Record<string, readonly string[]>>;

  constructor(map: Readonly<Record<string, readonly string[]>>) {
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new PartitionMappingError('a static partition mapping needs an object of downstream key → upstream keys');
    }
    const copy: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
    for (const downstreamKey of Object.keys(map).sort()) {
      const upstreamKeys = map[downstreamKey];
      if (!Array.isArray(upstreamKeys) || upstreamKeys.some((key) => typeof key !== 'string')) {
        throw new PartitionMappingError(`static partition mapping: "${downstreamKey}" must map to a list of upstream keys`, downstreamKey);
      }
      copy[downstreamKey] = Object.freeze([...upstreamKeys]);
    }
    this.map = Object.freeze(copy);
    Object.freeze(this);
  }

  upstreamKeys(
    downstreamKey: string | null,
    _downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    now: Date,
  ): readonly (string | null)[] {
    if (!upstream) return UNPARTITIONED;
    const key = partitionedDownstreamKey(this, downstreamKey, upstream);
    const mapped = Object.hasOwn(this.map, key) ? this.map[key] : undefined;
    if (!mapped) throw new PartitionMappingError(`${this} has no entry for downstream partition "${key}"`, key);
    return Object.freeze(mapped.filter((upstreamKey) => upstream.has(upstreamKey, now)));
  }

  /** `static(a -> x, y; b -> z)`, downstream keys sorted. */
  toString(): string {
    const entries = Object.entries(this.map).map(([key, upstreamKeys]) => `${key} -> ${upstreamKeys.join(', ')}`);
    return `static(${entries.join('; ')})`;
  }
}

const IDENTITY = new IdentityMapping();
const ALL = new AllPartitionsMapping();

/** The same key upstream; see {@link IdentityMapping}. */
export function identity(): IdentityMapping {
  return IDENTITY;
}

/**
 * The downstream window shifted by whole downstream windows; see {@link TimeWindowMapping}.
 *
 * @example
 * timeWindow({ startOffset: -6, endOffset: 0 }); // 7-day rolling window of daily partitions
 * timeWindow({ startOffset: -1, endOffset: -1 }); // yesterday
 */
export function timeWindow(options: { readonly startOffset?: number; readonly endOffset?: number } = {}): TimeWindowMapping {
  return new TimeWindowMapping(options.startOffset ?? 0, options.endOffset ?? 0);
}

/** Every upstream key; see {@link AllPartitionsMapping}. */
export function allPartitions(): AllPartitionsMapping {
  return ALL;
}

/** An explicit downstream key → upstream keys map; see {@link StaticMapping}. */
export function staticMapping(map: Readonly<Record<string, readonly string[]>>): StaticMapping {
  return new StaticMapping(map);
}

/**
 * The mapping used when a dependency names none: time windows on both sides → `window(0, 0)`;
 * static partitions with the same keys → `identity`; anything else (either side
 * unpartitioned, static keys that differ, static and time mixed) → `all`, which reads
 * `[null]` from an unpartitioned upstream.
 */
export function defaultMapping(downstream: PartitionsDefinition | undefined, upstream: PartitionsDefinition | undefined): PartitionMapping {
  if (!downstream || !upstream) return ALL;
  if (downstream instanceof TimeWindowPartitions && upstream instanceof TimeWindowPartitions) return timeWindow();
  if (downstream.type === 'static' && upstream.type === 'static' && sameKeys(downstream, upstream)) return IDENTITY;
  return ALL;
}

/**
 * True when `mapping` reads, for each downstream key, the upstream partition with that very key
 * (when upstream has it at the clock) and nothing else: `identity`, or `window(0, 0)` between
 * time windows of one cadence and time zone. A caller that only looks the upstream keys up
 * among known partitions can then skip computing them (the planner does, for large plans).
 *
 * @example
 * readsSameKey(timeWindow(), hourly({ start: '2000-01-01' }), hourly({ start: '2010-01-01' })); // true
 */
export function readsSameKey(mapping: PartitionMapping, downstream: PartitionsDefinition | undefined, upstream: PartitionsDefinition | undefined): boolean {
  if (!downstream || !upstream) return false;
  if (mapping instanceof IdentityMapping) return true;
  return (
    mapping instanceof TimeWindowMapping &&
    mapping.startOffset === 0 &&
    mapping.endOffset === 0 &&
    downstream instanceof TimeWindowPartitions &&
    upstream instanceof TimeWindowPartitions &&
    downstream.cadence === upstream.cadence &&
    downstream.timezone === upstream.timezone
  );
}

const WINDOW = /^window\(\s*([+-]?\d+)\s*(?:,\s*([+-]?\d+)\s*)?\)$/;

/**
 * Reads the text form of a SQL header: `identity`, `all`, `window(-6, 0)`, or `window(-1)`
 * (the same as `window(-1, -1)`). Throws on anything else.
 *
 * @example
 * String(parseMapping('window(-1)')); // 'window(-1, -1)'
 */
export function parseMapping(text: string): PartitionMapping {
  const trimmed = text.trim();
  if (trimmed === 'identity') return IDENTITY;
  if (trimmed === 'all') return ALL;
  const window = WINDOW.exec(trimmed);
  if (window) {
    const start = Number(window[1]);
    return new TimeWindowMapping(start, window[2] === undefined ? start : Number(window[2]));
  }
  throw new PartitionMappingError(
    `unknown partition mapping "${text}" (expected identity, all, window(start, end) such as window(-6, 0), or window(offset) such as window(-1))`,
  );
}

/** The downstream key, which a mapping to a partitioned upstream needs. */
function partitionedDownstreamKey(mapping: PartitionMapping, key: string | null, upstream: PartitionsDefinition): string {
  if (key === null) {
    throw new PartitionMappingError(`${mapping} cannot map an unpartitioned downstream asset to the partitioned upstream ${upstream} (use all)`);
  }
  return key;
}

function sameKeys(a: PartitionsDefinition, b: PartitionsDefinition): boolean {
  // Static keys do not depend on the time; any instant will do.
  const epoch = new Date(0);
  const left = a.keys(epoch);
  const right = new Set(b.keys(epoch));
  return left.length === right.size && left.every((key) => right.has(key));
}
