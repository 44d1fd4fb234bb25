/**
 * The daemon's loop: a thin wrapper that calls {@link AssetDaemon.runIteration} every interval
 * until its signal aborts. Everything else — deciding, recording, launching — is the daemon's.
 */
import type { AssetDaemon, TickResult } from './asset-daemon.ts';
import { sleep } from './daemon-leadership.ts';

/** How the loop ticks. */
export interface DaemonLoopOptions {
  /** Milliseconds from the start of one tick to the start of the next. */
  readonly intervalMs: number;
  /** Aborting stops ticking (runs already going are the caller's to wait for or cancel). */
  readonly signal: AbortSignal;
  /** Called after every tick. */
  readonly onTick?: (tick: TickResult) => void;
  /** Called when a tick could not even be recorded (storage unavailable); the loop goes on. */
  readonly onError?: (error: unknown) => void;
  /** Asked before every tick (the daemon lock still held?): `false` ends the loop without ticking. */
  readonly beforeTick?: () => Promise<boolean>;
}

/**
 * Ticks until `signal` aborts. A tick that fails is recorded by the daemon (or, if it cannot
 * be recorded, reported to `onError`) and the loop goes on; one that takes longer than the
 * interval is followed by the next at once.
 *
 * @example
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort());
 * await runDaemonLoop(daemon, { intervalMs: 30_000, signal: controller.signal });
 */
export async function runDaemonLoop(daemon: AssetDaemon, options: DaemonLoopOptions): Promise<void> {
  const { signal } = options;
  while (!signal.aborted) {
    const started = Date.now();
    if (options.beforeTick && !(await options.beforeTick())) return;
    if (signal.aborted) return;
    try {
      // Not `onTick?.(await …)`: an absent callback would skip evaluating its argument, the tick itself.
      const tick = await daemon.runIteration();
      options.onTick?.(tick);
    } catch (error) {
      options.onError?.(error);
    }
    await sleep(Math.max(0, options.intervalMs - (Date.now() - started)), signal);
  }
}
