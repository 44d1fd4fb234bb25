/**
 * Daemon ticks: one record per iteration of `assets daemon`, with every decision it took (what
 * it requested and why, what it skipped and why, the runs it queued, errors), and the daemon's
 * cursors (for instance the last cron tick each schedule evaluated), written with the tick so a
 * restarted daemon neither repeats nor loses a cron tick.
 */

import type { Page } from './storage.ts';

/** Lifecycle of a daemon tick. */
export type DaemonTickStatus = 'running' | 'success' | 'failed';

/** Assets partitions a decision is about: one asset, its partitions (`null`: unpartitioned). */
export interface TickTarget {
  readonly key: string;
  /** At most the first 20 partitions (see `count`); `null` for an unpartitioned asset. */
  readonly partitions: readonly string[] | null;
  /** How many partitions the decision covers (1 for an unpartitioned asset). */
  readonly count: number;
}

/** One decision of a tick. */
export interface TickDecision {
  /** Who asked: a schedule, an asset's automation condition, or the daemon itself (reaping, queueing). */
  readonly source: 'schedule' | 'automation' | 'daemon';
  /** The schedule's name, the asset's key, or what the daemon did (`reap`, `queue`). */
  readonly name: string;
  readonly action: 'requested' | 'skipped' | 'error';
  /** Why, in words: `upstream raw/orders@2025-03-01 updated`, `tick 2025-03-02 04:30 missed while down`. */
  readonly reason: string;
  readonly targets: readonly TickTarget[];
  /** The run that will carry out a request. */
  readonly runId?: string;
  /** For schedules: the cron tick (epoch ms) the decision is about. */
  readonly tickTime?: number;
}

/** One iteration of the daemon. */
export interface DaemonTickRecord {
  /** Assigned by storage, increasing. */
  readonly id: number;
  /** The daemon's clock at the tick (epoch ms). */
  readonly timestamp: number;
  readonly status: DaemonTickStatus;
  readonly decisions: readonly TickDecision[];
  /** Runs the tick queued, in order. */
  readonly runIds: readonly string[];
  readonly error: string | null;
  readonly endedAt: number | null;
}

/** A tick to record; storage assigns the id. */
export type NewDaemonTick = Omit<DaemonTickRecord, 'id'>;

/** Fields of a tick that change while it is evaluated. */
export type DaemonTickUpdate = Partial<Pick<DaemonTickRecord, 'status' | 'decisions' | 'runIds' | 'error' | 'endedAt'>>;

/** Daemon ticks and cursors. */
export interface DaemonTickStore {
  /** Records a tick and returns its id (greater than every earlier tick's). */
  createDaemonTick(tick: NewDaemonTick): Promise<number>;
  /**
   * Sets the fields given (not `undefined`) and, in the same transaction, upserts `cursors`
   * (name → value). Throws `NotFoundError` for an unknown tick (and writes no cursor).
   */
  updateDaemonTick(id: number, update: DaemonTickUpdate, cursors?: Readonly<Record<string, string>>): Promise<void>;
  getDaemonTick(id: number): Promise<DaemonTickRecord | undefined>;
  /** Newest first (by id). */
  listDaemonTicks(options?: Page): Promise<DaemonTickRecord[]>;
  /** Every daemon cursor, by name. */
  daemonCursors(): Promise<Record<string, string>>;
}
