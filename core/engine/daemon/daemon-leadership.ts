/**
 * One daemon at a time: {@link leadWhileHolding} takes the storage's daemon lock before the
 * daemon's first tick, stands by (trying again every few seconds) while another daemon holds
 * it, and when the lock is lost while leading (its connection closed, its row taken over)
 * stops the leading work at once and goes back to standing by: there are never two leaders.
 */
import os from 'node:os';
import type { DaemonLockHolder, DaemonLockStore, HeldDaemonLock } from '../../../storage/daemon-lock.ts';

/** How a daemon waits for, holds and loses the lock. */
export interface LeadershipOptions {
  readonly storage: DaemonLockStore;
  /** Aborting ends standing by, or ends the leading work and lets go of the lock. */
  readonly signal: AbortSignal;
  /** Who this daemon is (default: this process on this host). */
  readonly me?: DaemonLockHolder;
  /** Time between tries while standing by (default 2 s). */
  readonly retryMs?: number;
  /** Called when this daemon starts standing by, and when the holder it waits for changes. */
  readonly onStandby?: (holder: DaemonLockHolder | undefined) => void;
  /** Called each time this daemon takes the lock (`after`: it stood by first). */
  readonly onLead?: (after: { readonly stoodBy: boolean }) => void;
  /** Called when the lock is lost while leading (the work was told to stop). */
  readonly onLost?: () => void;
  /** Called when trying for the lock failed (storage unreachable), once per distinct error; it is tried again. */
  readonly onError?: (error: unknown) => void;
}

/** The daemon's identity: this process on this host. */
export function thisDaemon(): DaemonLockHolder {
  return { pid: process.pid, host: os.hostname() };
}

/**
 * Runs `lead` while holding the daemon lock, until `options.signal` aborts: `lead` gets a
 * signal aborted when it must stop (stop asked, or lock lost) and the held lock (check
 * `stillHeld()` before every tick). Resolves once stopped, with the lock released; `true` when
 * this daemon led at least once.
 *
 * @example
 * await leadWhileHolding({ storage, signal }, (leading, lock) =>
 *   runDaemonLoop(daemon, { intervalMs, signal: leading, beforeTick: () => lock.stillHeld() }));
 */
export async function leadWhileHolding(options: LeadershipOptions, lead: (leading: AbortSignal, lock: HeldDaemonLock) => Promise<void>): Promise<boolean> {
  const { signal, storage } = options;
  const me = options.me ?? thisDaemon();
  const retryMs = options.retryMs ?? 2_000;
  let led = false;
  let stoodBy = false;
  let waitingFor: string | undefined;
  let lastError: string | undefined;
  while (!signal.aborted) {
    let lock: HeldDaemonLock;
    try {
      const attempt = await storage.tryAcquireDaemonLock(me);
      if (!attempt.acquired) {
        const holder = JSON.stringify([attempt.holder?.pid, attempt.holder?.host]);
        if (holder !== waitingFor) options.onStandby?.(attempt.holder);
        waitingFor = holder;
        stoodBy = true;
        await sleep(retryMs, signal);
        continue;
      }
      lock = attempt.lock;
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (text !== lastError) options.onError?.(error);
      lastError = text;
      await sleep(retryMs, signal);
      continue;
    }
    waitingFor = undefined;
    lastError = undefined;
    led = true;
    options.onLead?.({ stoodBy });
    try {
      await lead(AbortSignal.any([signal, lock.lost]), lock);
    } finally {
      await lock.release();
    }
    if (signal.aborted) break;
    if (lock.lost.aborted) options.onLost?.();
    stoodBy = true;
  }
  return led;
}

/** `the daemon with pid 123 on host-a, since 2025-03-01 10:42:07 UTC`: who holds the lock, in words. */
export function describeDaemonLockHolder(holder: DaemonLockHolder | undefined): string {
  if (holder === undefined) return 'another daemon';
  const since = holder.since === undefined ? '' : `, since ${new Date(holder.since).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  return `the daemon with pid ${holder.pid} on ${holder.host}${since}`;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
