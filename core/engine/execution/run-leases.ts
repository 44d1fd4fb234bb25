/**
 * The leases of one run (see storage/lease-store.ts): before a step runs, it takes a lease on
 * every asset partition it writes; when another live run holds one, the step waits (polling,
 * abortable by the run's signal; the default, for CLI runs) or is skipped (for the daemon).
 * Leases go back when the step ends and, at the latest, when the run ends.
 */

import type { LeaseKey, LeaseRecord, LeaseRelease } from '../../../storage/lease-store.ts';
import type { EventRecord, Storage } from '../../../storage/storage.ts';
import type { RunTiming } from '../../model/run-timing.ts';

/** What a step does when another live run holds a lease it needs. */
export type LeaseConflictPolicy = 'wait' | 'skip';

/** The asset partitions a step writes. */
export interface LeasedStep {
  readonly key: string;
  /** `null` for an unpartitioned asset. */
  readonly partitions: readonly string[] | null;
}

/** The outcome of {@link RunLeases.acquire}. */
export type LeaseOutcome = { readonly ok: true } | { readonly ok: false; readonly canceled: boolean; readonly reason: string; readonly heldBy?: string };

/** What {@link RunLeases} needs. */
export interface RunLeasesOptions {
  readonly storage: Storage;
  readonly runId: string;
  /** Lifetime of a lease without a heartbeat (the heartbeat timeout). */
  readonly ttlMs: number;
  /** Between two attempts while waiting (default 500 ms). */
  readonly pollMs?: number;
  readonly onConflict: LeaseConflictPolicy;
  readonly timing: RunTiming;
  readonly signal?: AbortSignal;
  /** Told once per step and holder that the step waits, with a message for people. */
  readonly onWait?: (step: LeasedStep, message: string, holder: LeaseRecord) => Promise<void> | void;
}

/** Takes and gives back the leases of one run's steps. */
export class RunLeases {
  readonly #o: RunLeasesOptions;

  constructor(options: RunLeasesOptions) {
    this.#o = options;
  }

  /**
   * Takes the leases of `step`, waiting or giving up on a conflict as the policy says. `events`
   * (built at each attempt, so they carry its time) are appended in the transaction that takes
   * the leases: the step's `step_start` costs no transaction of its own.
   */
  async acquire(step: LeasedStep, events: () => readonly EventRecord[] = () => []): Promise<LeaseOutcome> {
    const { storage, runId, timing, signal } = this.#o;
    const keys = leaseKeys(step);
    let announced: string | undefined;
    for (;;) {
      if (signal?.aborted) return { ok: false, canceled: true, reason: 'run canceled' };
      const now = timing.now();
      const result = await storage.acquireLeases(runId, keys, { now, expiresAt: now + this.#o.ttlMs, events: events() });
      if (result.acquired) return { ok: true };
      const holder = result.conflicts[0] as LeaseRecord;
      const held = describeConflicts(result.conflicts);
      if (this.#o.onConflict === 'skip') {
        return { ok: false, canceled: false, reason: `run ${shortId(holder.runId)} is writing ${held}`, heldBy: holder.runId };
      }
      if (announced !== holder.runId) {
        announced = holder.runId;
        await this.#o.onWait?.(step, `waiting for run ${shortId(holder.runId)}, which holds ${held}`, holder);
      }
      if (!(await timing.sleep(this.#o.pollMs ?? 500, signal))) return { ok: false, canceled: true, reason: 'run canceled' };
    }
  }

  /** The leases of `step`, to give back in the transaction that records it (`StepCommit.releaseLeases`). */
  releaseOf(step: LeasedStep): LeaseRelease {
    return { runId: this.#o.runId, keys: leaseKeys(step) };
  }

  /** Gives back the leases of `step`. */
  async release(step: LeasedStep): Promise<void> {
    await this.#o.storage.releaseLeases(this.#o.runId, leaseKeys(step));
  }

  /** Gives back every lease of the run. */
  async releaseAll(): Promise<void> {
    await this.#o.storage.releaseLeases(this.#o.runId);
  }
}

/** The lease keys of a step's asset partitions. */
export function leaseKeys(step: LeasedStep): LeaseKey[] {
  return (step.partitions ?? [null]).map((partition) => ({ assetKey: step.key, partition }));
}

/** `staging/orders@2025-01-01`, or `staging/orders@2025-01-01 and 30 more partitions`. */
function describeConflicts(conflicts: readonly LeaseRecord[]): string {
  const first = conflicts[0] as LeaseRecord;
  const label = first.partition === null ? first.assetKey : `${first.assetKey}@${first.partition}`;
  return conflicts.length > 1 ? `${label} and ${conflicts.length - 1} more partition${conflicts.length === 2 ? '' : 's'}` : label;
}

/** The first 8 characters of a run id, as the CLI prints it. */
export function shortId(runId: string): string {
  return runId.slice(0, 8);
}
