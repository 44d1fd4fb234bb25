/**
 * Waking an idle worker: a storage that can tell when a run may have become claimable (one was
 * queued, or one ended and freed a slot) offers `waitForQueued`; the others are polled, and
 * {@link waitForQueued} waits the poll interval for them.
 */

/** An optional storage capability: being told that a queued run may be claimable now. */
export interface QueueWake {
  /**
   * Resolves `true` as soon as a run may have become claimable (a run was queued or ended, by
   * any process, or the storage may have missed such news: then it says so once it can tell
   * again), at once if that happened since the last wait returned; `false` after `timeoutMs`
   * or when `signal` aborts. A `true` can be spurious: claim, and wait again if nothing came.
   */
  waitForQueued(signal: AbortSignal, timeoutMs: number): Promise<boolean>;
}

/**
 * Waits for a claimable run on `storage` (see {@link QueueWake}): woken at once on a storage that
 * can tell, else after `timeoutMs` (the poll); `true` when woken, `false` on the timeout or abort.
 *
 * @example
 * const woken = await waitForQueued(storage, stop.signal, 1_000);
 */
export function waitForQueued(storage: Partial<QueueWake>, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  if (storage.waitForQueued !== undefined) return storage.waitForQueued(signal, timeoutMs);
  return pause(timeoutMs, signal).then(() => false);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
