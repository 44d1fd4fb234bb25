/**
 * The daemon lock: whatever number of `assets daemon` processes share one storage, one of them
 * (the holder) evaluates schedules and automation; the others stand by and try again until the
 * holder dies or lets go. Postgres holds it as a session advisory lock on a connection of its
 * own (./postgres-daemon-lock.ts: released by the server the moment that connection closes,
 * kill -9 included); SQLite as a row of `daemon_lock` that the holder keeps renewing
 * (./sqlite-daemon-lock.ts: taken over once it expires, or at once when its process is gone
 * from this host); in memory as a field.
 */

/** Who holds (or asks for) the lock. */
export interface DaemonLockHolder {
  /** Process id on its host. */
  readonly pid: number;
  readonly host: string;
  /** When it took the lock (epoch ms); `undefined` when storage cannot tell. */
  readonly since?: number;
}

/** The lock, held. */
export interface HeldDaemonLock {
  /**
   * Aborted once the lock is known to be lost (its connection closed, its row taken over): the
   * holder must stop evaluating at once.
   */
  readonly lost: AbortSignal;
  /**
   * Asks storage whether the lock is still this holder's (renewing it where it expires); false
   * (and `lost` aborted) when it is not, or storage cannot be reached. Call it before every tick.
   */
  stillHeld(): Promise<boolean>;
  /** Lets go of the lock (another daemon may take it at once). Safe to call twice or after a loss. */
  release(): Promise<void>;
}

/** The outcome of {@link DaemonLockStore.tryAcquireDaemonLock}. */
export type DaemonLockAttempt =
  | { readonly acquired: true; readonly lock: HeldDaemonLock }
  /** `holder`: who holds it, when storage can tell. */
  | { readonly acquired: false; readonly holder: DaemonLockHolder | undefined };

/** How long a lock that is not renewed lasts, where it expires (SQLite). */
export interface DaemonLockOptions {
  /** Default {@link DAEMON_LOCK_TTL_MS}. */
  readonly ttlMs?: number;
}

/** How long a SQLite daemon lock lasts without being renewed (the holder renews it every third of it). */
export const DAEMON_LOCK_TTL_MS = 15_000;

/** The lock that lets one daemon at a time evaluate schedules and automation. */
export interface DaemonLockStore {
  /**
   * Takes the daemon lock for `me` if no live holder has it, without waiting; otherwise says who
   * holds it. A process holds it at most once: asking again while holding it is refused too.
   */
  tryAcquireDaemonLock(me: DaemonLockHolder, options?: DaemonLockOptions): Promise<DaemonLockAttempt>;
}
