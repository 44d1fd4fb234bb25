/**
 * Leases: a run's exclusive right to write some asset partitions until an expiry. The
 * executor takes the leases of a step's partitions before running it and gives them back when
 * the step ends, so no asset partition is written by two runs at once; a running run's
 * heartbeat extends its leases. A lease stops counting once it expires or once its run is no
 * longer `running` (finished, or marked failed by `reapDeadRuns`): another run may take it over.
 */

import { partitionToColumn } from './column-codecs.ts';
import type { EventRecord, RunRecord } from './storage.ts';

/** One asset partition (`partition` is `null` for an unpartitioned asset). */
export interface LeaseKey {
  readonly assetKey: string;
  readonly partition: string | null;
}

/** A lease held by a run. */
export interface LeaseRecord extends LeaseKey {
  readonly runId: string;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

/** The outcome of {@link LeaseStore.acquireLeases}: all leases taken, or the live leases of other runs that stopped it. */
export type LeaseAcquisition =
  | { readonly acquired: true; readonly leases: readonly LeaseRecord[] }
  | { readonly acquired: false; readonly conflicts: readonly LeaseRecord[] };

/** Marking a dead run failed (see {@link LeaseStore.failDeadRun}). */
export interface DeadRunFailure {
  /** The run counts as dead only if its last heartbeat (else its start) is at or before this time. */
  readonly lastSeenBefore: number;
  readonly endedAt: number;
  readonly error: string;
  /** The `run_failure` event appended with it. */
  readonly event: EventRecord;
  /**
   * A run created in the same transaction, only when this call fails the run (a queued retry of
   * a reclaimed run): of two reapers at once exactly one creates it, and a crash cannot keep the
   * failure without it.
   */
  readonly retry?: RunRecord;
}

/** When and until when {@link LeaseStore.acquireLeases} takes leases, and what it records with them. */
export interface LeaseAcquireOptions {
  readonly now: number;
  readonly expiresAt: number;
  /**
   * Events appended in the same transaction when every lease is taken (a step's `step_start`),
   * and not when the request is refused.
   */
  readonly events?: readonly EventRecord[];
}

/** Leases a step gives back in the transaction that records it (see `StepCommit.releaseLeases`). */
export interface LeaseRelease {
  readonly runId: string;
  readonly keys: readonly LeaseKey[];
}

/** Leases on asset partitions, and the liveness of the runs holding them. */
export interface LeaseStore {
  /**
   * Takes leases on every key for `runId`, all or nothing, in one write transaction. A key
   * leased by another run blocks it while that lease is live (`expiresAt > now` and its run is
   * `running`); dead leases are taken over; the run's own leases are renewed. Duplicate keys
   * count once. Nothing is written when it is refused; when it succeeds, `options.events` are
   * appended in the same transaction.
   */
  acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition>;
  /** Gives back `keys` (all of the run's leases when omitted); returns how many were released. */
  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number>;
  /** Moves the expiry of every lease of the run to `expiresAt`; returns how many it holds. */
  extendLeases(runId: string, expiresAt: number): Promise<number>;
  /** Leases held (live or not), by asset key then partition; only `runId`'s when given. */
  listLeases(options?: { readonly runId?: string }): Promise<LeaseRecord[]>;
  /**
   * If run `runId` is still `running` and was last seen (its heartbeat, else its start) at or
   * before `lastSeenBefore`, marks it failed with `error`, appends `event` and releases its
   * leases, and creates `failure.retry` when given, in one transaction; returns the number of
   * leases released. Returns `undefined`
   * (writing nothing) for a run that is not running or was seen since.
   */
  failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined>;
}

/** `keys` without repeats, in their first order. */
export function uniqueLeaseKeys(keys: readonly LeaseKey[]): LeaseKey[] {
  const seen = new Map<string, LeaseKey>();
  for (const k of keys) {
    const id = JSON.stringify([k.assetKey, partitionToColumn(k.partition)]);
    if (!seen.has(id)) seen.set(id, k);
  }
  return [...seen.values()];
}
