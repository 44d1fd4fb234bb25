/**
 * The clock, sleeps, timers and randomness a run uses for retries, lease waits and heartbeats,
 * behind one interface so tests can inject fakes and drive time themselves.
 */

/** Time as a run sees it. */
export interface RunTiming {
  /** Epoch milliseconds. */
  now(): number;
  /** Waits `ms`; resolves `true` when the time passed, `false` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** A number in [0, 1), for jitter. */
  random(): number;
  /**
   * Calls `tick` every `ms` until the returned function is called. The timer never keeps the
   * process alive on its own.
   */
  every(ms: number, tick: () => void): () => void;
}

/** Real time: `Date.now`, `setTimeout`, `setInterval` (unref'd) and `Math.random`. */
export const systemTiming: RunTiming = Object.freeze({
  now: () => Date.now(),
  sleep: abortableSleep,
  random: () => Math.random(),
  every(ms: number, tick: () => void): () => void {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
});

/**
 * Waits `ms`, or less if `signal` aborts; resolves whether the whole time passed.
 *
 * @example
 * if (!(await abortableSleep(2000, signal))) return; // canceled
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `timing` with every missing member taken from {@link systemTiming}. */
export function withSystemTiming(timing: Partial<RunTiming> | undefined): RunTiming {
  return timing === undefined ? systemTiming : { ...systemTiming, ...timing };
}
