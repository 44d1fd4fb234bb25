/**
 * A running run's heartbeat: every interval it records `heartbeatAt` on the run and pushes
 * the expiry of the run's leases to one timeout ahead, so other processes can tell a live run
 * from one whose process died (see ./dead-run-reaper.ts).
 */

import type { Storage } from '../../../storage/storage.ts';
import type { RunTiming } from '../../model/run-timing.ts';

/** What a {@link RunHeartbeat} needs. */
export interface RunHeartbeatOptions {
  readonly storage: Storage;
  readonly runId: string;
  readonly intervalMs: number;
  /** How far ahead each beat moves the run's leases' expiry. */
  readonly timeoutMs: number;
  readonly timing: RunTiming;
  /** Told when a beat fails (the run goes on; the next beat tries again). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Beats for one run from {@link start} to {@link stop}.
 *
 * @example
 * const heartbeat = new RunHeartbeat({ storage, runId, intervalMs: 5000, timeoutMs: 60000, timing: systemTiming });
 * heartbeat.start();
 * try { ... } finally { await heartbeat.stop(); }
 */
export class RunHeartbeat {
  readonly #o: RunHeartbeatOptions;
  #cancel: (() => void) | undefined;
  #inFlight: Promise<void> | undefined;
  /** Beats recorded so far. */
  beats = 0;

  constructor(options: RunHeartbeatOptions) {
    this.#o = options;
  }

  /** Starts beating every interval (the first beat one interval from now). */
  start(): void {
    if (this.#cancel) return;
    this.#cancel = this.#o.timing.every(this.#o.intervalMs, () => {
      // A beat still in flight (a busy database) is not doubled.
      if (this.#inFlight === undefined) void this.beat();
    });
  }

  /** Records one heartbeat now and extends the run's leases. Never rejects. */
  beat(): Promise<void> {
    const { storage, runId, timing, timeoutMs } = this.#o;
    const beating = (async () => {
      try {
        const now = timing.now();
        await storage.updateRun(runId, { heartbeatAt: now });
        await storage.extendLeases(runId, now + timeoutMs);
        this.beats++;
      } catch (error) {
        this.#o.onError?.(error);
      }
    })();
    this.#inFlight = beating.finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops the timer and waits for a beat in flight. */
  async stop(): Promise<void> {
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#inFlight;
  }
}
