/**
 * Partitions split an asset into independently materialized slices: time windows (hourly,
 * daily, weekly, monthly) or a static list of keys. A definition says which keys exist; a
 * mapping (./partition-mapping.ts) says which upstream keys a downstream key reads.
 */

/** A half-open time window `[start, end)` as UTC instants. */
export interface PartitionWindow {
  readonly start: Date;
  readonly end: Date;
}

/** Which keys exist, and what window each covers. Implementations are immutable. */
export interface PartitionsDefinition {
  readonly type: 'time_window' | 'static';
  /** Every key that exists at `now`, in order (oldest first for time windows). */
  keys(now: Date): readonly string[];
  /** True when `key` is well formed and exists at `now`. */
  has(key: string, now: Date): boolean;
  /** Throws a clear Error naming the key when it is malformed or outside the definition at `now`. */
  validateKey(key: string, now: Date): void;
  /** The time window of a key (time-window partitions), `undefined` for static partitions. */
  window(key: string): PartitionWindow | undefined;
  /**
   * The window's bounds as local wall-clock timestamps in the definition's time zone, formatted
   * `YYYY-MM-DD HH:mm:ss` (what SQL templates bind), `undefined` for static partitions.
   */
  localWindow(key: string): { readonly start: string; readonly end: string } | undefined;
  /** Keys from `from` to `to` inclusive that exist at `now`, in order. */
  keysBetween(from: string, to: string, now: Date): readonly string[];
  /** A stable text form, e.g. `daily(start=2025-01-01, timezone=UTC)`; equal definitions print equally. */
  toString(): string;
}
