/**
 * Freshness miss episodes: an asset with a freshness policy is found overdue, stays overdue for
 * a while, then is fresh again. The daemon raises `freshness_miss` once per episode: it opens
 * the episode with the event that raised it, atomically and only when none is open for the
 * asset, so a second daemon or a restarted one does not raise it again; it ends the episode
 * when the asset is fresh again, so the next miss opens a new one.
 *
 * The episode row keeps its `freshness_miss` event whole: such events belong to no run (the
 * `events` table's `run_id` references `runs`), so this table is their event log.
 */

import type { EventRecord, Page } from './storage.ts';

/** One miss episode of one asset. */
export interface FreshnessEpisode {
  /** Assigned by storage, increasing. */
  readonly id: number;
  readonly assetKey: string;
  /** The `freshness_miss` event that opened it (its `id` is the episode's). */
  readonly event: EventRecord;
  /** When it began: the event's timestamp. */
  readonly startedAt: number;
  /** When the asset was seen fresh again; `null` while it is open. */
  readonly endedAt: number | null;
}

/** Freshness miss episodes. */
export interface FreshnessEpisodeStore {
  /**
   * Opens an episode for `event.assetKey` with `event` (a `freshness_miss` event) unless one is
   * open for that asset; returns the opened episode, or `undefined` when one was already open
   * (checked and written atomically, across processes).
   */
  openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined>;
  /** Ends the open episodes of `keys` at `now`; returns the keys whose episode it ended, sorted. */
  endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]>;
  /** The open episodes (optionally only of `keys`), by asset key. */
  openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]>;
  /** The episodes of one asset, newest first. */
  freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]>;
}
