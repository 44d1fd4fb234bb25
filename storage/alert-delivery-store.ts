/**
 * Alert deliveries: events that match an alert rule are grouped by rule, kind and asset into
 * one open (`pending`) group at a time; once the group is due (its first event plus the rule's
 * window), exactly one process claims it (`sending`) and delivers one summary message, then
 * records how that went (`delivered` or `failed`, with the attempts and the last error). A
 * failing daily asset during a 365-day backfill is one group: one message, not 365.
 */

import type { Page } from './storage.ts';

/** Lifecycle of an alert group. */
export type AlertDeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** What identifies an open group: the rule's name, the alert kind and the asset (`null`: none). */
export interface AlertGroupKey {
  readonly rule: string;
  readonly kind: string;
  readonly assetKey: string | null;
}

/** Events of one group seen by one process since its last write, added to the open group. */
export interface AlertEventBatch extends AlertGroupKey {
  readonly count: number;
  /** Time of the first and last event (epoch ms). */
  readonly firstAt: number;
  readonly lastAt: number;
  /** Smallest and largest partition among the events (`null`: none partitioned). */
  readonly firstPartition: string | null;
  readonly lastPartition: string | null;
  /** When a group opened by this batch becomes due (ignored when the group is already open). */
  readonly dueAt: number;
  /** The first event, as the message shows it (kept from the batch that opened the group). */
  readonly sample: Readonly<Record<string, unknown>>;
}

/**
 * One alert group and its delivery: the batches added to it summed (`count`, the widest times
 * and partitions; `dueAt` and `sample` from the batch that opened it).
 */
export interface AlertDeliveryRecord extends AlertEventBatch {
  readonly id: number;
  readonly status: AlertDeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  /** When it was claimed, delivered or failed (epoch ms; `null` while pending). */
  readonly updatedAt: number | null;
}

/** Which due groups a process claims. */
export interface AlertClaim {
  /** The claim's time: groups with `dueAt <= now` are claimed. */
  readonly now: number;
  /** Only groups of these rules (the rules the claimer can deliver). */
  readonly rules: readonly string[];
  /** Also claim every pending group of those rules, due or not (a process about to exit). */
  readonly all?: boolean;
  /** A group claimed before this time and never finished (its claimer died) is claimed again (default: never). */
  readonly staleBefore?: number;
}

/** How a claimed delivery ended. */
export interface AlertDeliveryOutcome {
  readonly status: 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError: string | null;
  readonly at: number;
}

/** Alert groups and their deliveries. */
export interface AlertDeliveryStore {
  /** Adds the batch to the open group of its key, or opens one (pending, due at `batch.dueAt`). */
  recordAlertEvents(batch: AlertEventBatch): Promise<void>;
  /** Marks the matching groups `sending` and returns them, oldest first: no other claim returns them. */
  claimAlertDeliveries(claim: AlertClaim): Promise<AlertDeliveryRecord[]>;
  /** Records how a claimed group's delivery ended. */
  finishAlertDelivery(id: number, outcome: AlertDeliveryOutcome): Promise<void>;
  /** Newest first (by id). */
  listAlertDeliveries(options?: Page): Promise<AlertDeliveryRecord[]>;
}
