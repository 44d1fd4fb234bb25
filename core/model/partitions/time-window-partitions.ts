import { UsageError } from '../errors.ts';
import { PartitionKeyError, PartitionsDefinitionError } from './partition-errors.ts';
import type { PartitionWindow, PartitionsDefinition } from './partitions-definition.ts';
import { CADENCES, calendarOf, formatWall, parseBoundary } from './time-window-cadence.ts';
import type { Cadence, CadenceCalendar } from './time-window-cadence.ts';
import { TimeZoneRules } from './time-zone-rules.ts';

export type { Cadence } from './time-window-cadence.ts';

/** Options of {@link TimeWindowPartitions}. */
export interface TimeWindowPartitionsOptions {
  readonly cadence: Cadence;
  /** The first window starts on the first hour/day/Monday/1st-of-month on or after this: `YYYY-MM-DD` (hourly also `YYYY-MM-DD-HH:mm`). */
  readonly start: string;
  /** Exclusive: the last window ends at or before this (same formats as `start`). */
  readonly end?: string;
  /** IANA time zone the windows follow, default `UTC`. */
  readonly timezone?: string;
  /** How many windows past the last complete one exist (negative: fewer), default 0. */
  readonly endOffset?: number;
}

/** Options of the {@link hourly}, {@link daily}, {@link weekly} and {@link monthly} factories. */
export type TimeWindowFactoryOptions = Omit<TimeWindowPartitionsOptions, 'cadence'>;

const UNIT: Readonly<Record<Cadence, string>> = { hourly: 'hour', daily: 'day', weekly: 'week', monthly: 'month' };

/**
 * Consecutive hourly, daily, weekly (from Monday) or monthly windows in a time zone. A window
 * is `[local start, next local start)` as UTC instants, so daily windows are 23 or 25 hours
 * long on daylight-saving days. Hourly keys are the local hours that exist: a skipped hour has
 * no key, and a repeated hour is one key whose window is two hours long. Keys exist once their
 * window is complete (shifted by `endOffset` windows), up to `end`.
 *
 * @example
 * const days = daily({ start: '2024-01-01', timezone: 'Europe/Berlin' });
 * days.keys(new Date('2024-01-03T12:00:00Z')); // ['2024-01-01', '2024-01-02']
 * days.localWindow('2024-01-01'); // { start: '2024-01-01 00:00:00', end: '2024-01-02 00:00:00' }
 */
export class TimeWindowPartitions implements PartitionsDefinition {
  readonly type = 'time_window';
  readonly cadence: Cadence;
  readonly start: string;
  readonly end: string | undefined;
  readonly timezone: string;
  readonly endOffset: number;
  private readonly calendar: CadenceCalendar;
  private readonly zone: TimeZoneRules;
  /** The first slot that is a key. */
  private readonly firstSlot: number;
  /** Slots from here on end after `end` (`Infinity` without an end). */
  private readonly endSlot: number;

  constructor(options: TimeWindowPartitionsOptions) {
    const { cadence, start, end, timezone = 'UTC', endOffset = 0 } = options;
    if (!CADENCES.includes(cadence)) {
      throw new PartitionsDefinitionError(`unknown partition cadence "${String(cadence)}" (expected ${CADENCES.join(', ')})`);
    }
    const zone = zoneRules(cadence, timezone);
    const formats = cadence === 'hourly' ? 'YYYY-MM-DD or YYYY-MM-DD-HH:mm' : 'YYYY-MM-DD';
    const startWall = parseBoundary(start, cadence);
    if (startWall === undefined) {
      throw new PartitionsDefinitionError(`${cadence} partitions: start "${start}" is not a valid date (expected ${formats})`);
    }
    const endWall = end === undefined ? undefined : parseBoundary(end, cadence);
    if (end !== undefined && endWall === undefined) {
      throw new PartitionsDefinitionError(`${cadence} partitions: end "${end}" is not a valid date (expected ${formats})`);
    }
    if (endWall !== undefined && endWall <= startWall) {
      throw new PartitionsDefinitionError(`${cadence} partitions: end ${end} must be after start ${start}`);
    }
    if (!Number.isInteger(endOffset)) {
      throw new PartitionsDefinitionError(`${cadence} partitions: end_offset must be an integer, got ${String(endOffset)}`);
    }
    this.cadence = cadence;
    this.start = start;
    this.end = end;
    this.timezone = zone.timeZone;
    this.endOffset = endOffset;
    this.calendar = calendarOf(cadence);
    this.zone = zone;
    const startSlot = this.calendar.slotOfWall(startWall);
    let firstSlot = this.calendar.slotWall(startSlot) < startWall ? startSlot + 1 : startSlot;
    while (!this.exists(firstSlot)) firstSlot++;
    this.firstSlot = firstSlot;
    this.endSlot = endWall === undefined ? Infinity : this.calendar.slotOfWall(endWall);
    if (this.endSlot <= this.firstSlot) {
      throw new PartitionsDefinitionError(`${cadence} partitions from ${start} to ${end} contain no complete ${UNIT[cadence]}`);
    }
    Object.freeze(this);
  }

  /** The last {@link keys} answer (frozen), by its last slot: planning asks once per asset, with one clock. */
  #keys: { readonly lastSlot: number; readonly keys: readonly string[] } | undefined;

  /** Keys of the windows complete at `now` (plus `endOffset` more), never past `end`, oldest first. */
  keys(now: Date): readonly string[] {
    const lastSlot = this.lastSlotAt(now);
    if (this.#keys?.lastSlot !== lastSlot) this.#keys = { lastSlot, keys: this.keysInSlots(this.firstSlot, lastSlot) };
    return this.#keys.keys;
  }

  has(key: string, now: Date): boolean {
    const slot = this.calendar.parseKey(key);
    return slot !== undefined && slot >= this.firstSlot && slot < this.lastSlotAt(now) && this.exists(slot);
  }

  validateKey(key: string, now: Date): void {
    const slot = this.slotOfKey(key);
    if (slot >= this.lastSlotAt(now)) {
      const shifted = this.endOffset === 0 ? '' : ` (end_offset=${this.endOffset})`;
      throw new PartitionKeyError(`partition "${key}" is not complete yet at ${now.toISOString()}${shifted}`, key);
    }
  }

  /** The UTC window of `key`; throws when the key is malformed or outside `start`..`end`. */
  window(key: string): PartitionWindow {
    const slot = this.slotOfKey(key);
    return Object.freeze({ start: new Date(this.slotStart(slot)), end: new Date(this.slotStart(slot + 1)) });
  }

  /** The local wall-clock bounds of `key`: its own start and the next key's start. */
  localWindow(key: string): { readonly start: string; readonly end: string } {
    const slot = this.slotOfKey(key);
    const next = this.step(slot, 1, false);
    return Object.freeze({ start: formatWall(this.calendar.slotWall(slot)), end: formatWall(this.calendar.slotWall(next)) });
  }

  /** Keys from `from` to `to` inclusive that exist at `now`; either end may lie outside the definition. */
  keysBetween(from: string, to: string, now: Date): readonly string[] {
    const fromSlot = this.parseKeyOrThrow(from);
    const toSlot = this.parseKeyOrThrow(to);
    if (fromSlot > toSlot) {
      throw new PartitionKeyError(`partition range ${from}..${to} is reversed: "${from}" comes after "${to}"`, from);
    }
    return this.keysInSlots(Math.max(fromSlot, this.firstSlot), Math.min(toSlot + 1, this.lastSlotAt(now)));
  }

  /**
   * The key of the window containing `instant` (complete or not); throws when the instant is
   * before the first window or after the last.
   */
  keyAt(instant: Date): string {
    const slot = this.slotContaining(instantOf(instant, 'instant'));
    if (slot < this.firstSlot) {
      throw new PartitionKeyError(`instant ${instant.toISOString()} is before the first partition ${this.calendar.keyOf(this.firstSlot)}`);
    }
    if (slot >= this.endSlot) {
      throw new PartitionKeyError(`instant ${instant.toISOString()} is after the last partition ${this.lastKey()}`);
    }
    return this.calendar.keyOf(slot);
  }

  /**
   * The key `n` windows after `key` (before it when `n` is negative); throws when that falls
   * outside `start`..`end`. Completeness at a `now` is not checked.
   *
   * @example
   * hourly({ start: '2024-01-01', timezone: 'America/New_York' }).offset('2024-03-10-01:00', 1); // '2024-03-10-03:00'
   */
  offset(key: string, n: number): string {
    if (!Number.isInteger(n)) throw new UsageError(`partition offset must be an integer, got ${n}`, 'n');
    const slot = this.step(this.slotOfKey(key), n, true);
    if (slot < this.firstSlot) {
      throw new PartitionKeyError(`partition "${key}" offset by ${n} is before the first partition ${this.calendar.keyOf(this.firstSlot)}`, key);
    }
    if (slot >= this.endSlot) {
      throw new PartitionKeyError(`partition "${key}" offset by ${n} is after the last partition ${this.lastKey()}`, key);
    }
    return this.calendar.keyOf(slot);
  }

  /** Keys that exist at `now` whose windows overlap `[start, end)`, in order. */
  windowsOverlapping(start: Date, end: Date, now: Date): readonly string[] {
    const from = instantOf(start, 'start');
    const to = instantOf(end, 'end');
    if (to <= from) return Object.freeze([]);
    const first = Math.max(this.firstSlot, this.slotContaining(from));
    return this.keysInSlots(first, Math.min(this.lastSlotAt(now), this.slotContaining(to - 1) + 1));
  }

  /**
   * From the start of the window `startOffset` windows from `key` to the end of the window
   * `endOffset` windows from `key` — not limited to `start`..`end`, so a rolling window of the
   * first partition reaches back before it. `key` itself must be a key of this definition.
   *
   * @example
   * daily({ start: '2024-01-01' }).shiftedWindow('2024-01-10', -6, 0); // 2024-01-04T00:00Z .. 2024-01-11T00:00Z
   */
  shiftedWindow(key: string, startOffset: number, endOffset: number): PartitionWindow {
    const slot = this.slotOfKey(key);
    const startSlot = this.step(slot, startOffset, false);
    const endSlot = this.step(slot, endOffset, false);
    return Object.freeze({ start: new Date(this.slotStart(startSlot)), end: new Date(this.slotStart(endSlot + 1)) });
  }

  /** `daily(start=2024-01-01, timezone=Europe/Berlin)`, plus `, end=…` and `, end_offset=…` when set. */
  /** JSON shows the stable text form, not internal fields. */
  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    const end = this.end === undefined ? '' : `, end=${this.end}`;
    const endOffset = this.endOffset === 0 ? '' : `, end_offset=${this.endOffset}`;
    return `${this.cadence}(start=${this.start}, timezone=${this.timezone}${end}${endOffset})`;
  }

  /** The first instant of `slot`'s window. */
  private slotStart(slot: number): number {
    return this.zone.firstInstantAtWall(this.calendar.slotWall(slot));
  }

  /** False for a slot the clocks skip entirely (an hour at spring-forward). */
  private exists(slot: number): boolean {
    return this.slotStart(slot) < this.slotStart(slot + 1);
  }

  /** The slot whose window contains `instant`. */
  private slotContaining(instant: number): number {
    let slot = this.calendar.slotOfWall(this.zone.wallAt(instant));
    while (this.slotStart(slot + 1) <= instant) slot++;
    while (this.slotStart(slot) > instant) slot--;
    return slot;
  }

  /** The existing slot `n` existing slots from `slot`; when `bounded`, stops once outside firstSlot..endSlot. */
  private step(slot: number, n: number, bounded: boolean): number {
    let current = slot;
    for (let left = n; left > 0 && !(bounded && current >= this.endSlot); ) {
      current++;
      if (this.exists(current)) left--;
    }
    for (let left = n; left < 0 && !(bounded && current < this.firstSlot); ) {
      current--;
      if (this.exists(current)) left++;
    }
    return current;
  }

  /** The last {@link lastSlotAt} answer: staleness asks it once per partition, with one clock. */
  #lastSlot: { readonly at: number; readonly slot: number } | undefined;

  /** Slots before the returned one (from firstSlot) are the keys at `now`. */
  private lastSlotAt(now: Date): number {
    // A bad clock (not a Date, or NaN) never matches: computeLastSlotAt reports it.
    const at = now instanceof Date ? now.getTime() : Number.NaN;
    if (this.#lastSlot?.at === at) return this.#lastSlot.slot;
    const slot = this.computeLastSlotAt(now);
    this.#lastSlot = { at, slot };
    return slot;
  }

  private computeLastSlotAt(now: Date): number {
    let slot = Math.max(this.slotContaining(instantOf(now, 'now')), this.firstSlot);
    for (let left = this.endOffset; left > 0 && slot < this.endSlot; slot++) {
      if (this.exists(slot)) left--;
    }
    for (let left = this.endOffset; left < 0 && slot > this.firstSlot; ) {
      slot--;
      if (this.exists(slot)) left++;
    }
    return Math.min(slot, this.endSlot);
  }

  private keysInSlots(from: number, to: number): readonly string[] {
    const keys: string[] = [];
    let start = this.slotStart(from);
    for (let slot = from; slot < to; slot++) {
      const next = this.slotStart(slot + 1);
      if (next > start) keys.push(this.calendar.keyOf(slot));
      start = next;
    }
    return Object.freeze(keys);
  }

  private lastKey(): string {
    let slot = this.endSlot - 1;
    while (!this.exists(slot)) slot--;
    return this.calendar.keyOf(slot);
  }

  private parseKeyOrThrow(key: string): number {
    const slot = this.calendar.parseKey(key);
    if (slot === undefined) {
      throw new PartitionKeyError(`partition "${key}" is not a valid ${this.cadence} partition key (expected ${this.calendar.keyFormat})`, key);
    }
    return slot;
  }

  /** The slot of `key`, which must be well formed, inside start..end and not skipped by the clocks. */
  private slotOfKey(key: string): number {
    const slot = this.parseKeyOrThrow(key);
    if (slot < this.firstSlot) {
      throw new PartitionKeyError(`partition "${key}" is before the first partition ${this.calendar.keyOf(this.firstSlot)}`, key);
    }
    if (slot >= this.endSlot) {
      throw new PartitionKeyError(`partition "${key}" is after the last partition ${this.lastKey()}`, key);
    }
    if (!this.exists(slot)) {
      throw new PartitionKeyError(`partition "${key}" does not exist: clocks in ${this.timezone} skip that ${UNIT[this.cadence]}`, key);
    }
    return slot;
  }
}

/** Hourly partitions: keys `YYYY-MM-DD-HH:00`, one per local hour that exists. */
export function hourly(options: TimeWindowFactoryOptions): TimeWindowPartitions {
  return new TimeWindowPartitions({ ...options, cadence: 'hourly' });
}

/** Daily partitions: keys `YYYY-MM-DD`, local midnight to local midnight. */
export function daily(options: TimeWindowFactoryOptions): TimeWindowPartitions {
  return new TimeWindowPartitions({ ...options, cadence: 'daily' });
}

/** Weekly partitions from Monday: keys are the Monday, `YYYY-MM-DD`. */
export function weekly(options: TimeWindowFactoryOptions): TimeWindowPartitions {
  return new TimeWindowPartitions({ ...options, cadence: 'weekly' });
}

/** Monthly partitions: keys are the 1st, `YYYY-MM-01`. */
export function monthly(options: TimeWindowFactoryOptions): TimeWindowPartitions {
  return new TimeWindowPartitions({ ...options, cadence: 'monthly' });
}

function zoneRules(cadence: Cadence, timezone: string): TimeZoneRules {
  try {
    return TimeZoneRules.for(timezone);
  } catch (error) {
    throw new PartitionsDefinitionError(`${cadence} partitions: unknown time zone "${String(timezone)}" (expected an IANA name such as UTC or Europe/Berlin)`, {
      cause: error,
    });
  }
}

/** Milliseconds of a valid Date; a UsageError naming `name` otherwise. */
function instantOf(date: Date, name: string): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new UsageError(`${name} must be a valid Date`, name);
  return time;
}
