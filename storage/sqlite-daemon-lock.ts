/**
 * The daemon lock on SQLite: the `daemon` row of `daemon_lock`, written in an immediate
 * transaction. The holder renews it every third of its lifetime; another daemon takes it over
 * once it has expired, or at once when its holder's process is gone from this host (a pid that
 * no longer exists: kill -9 included). A holder whose row was taken over (it stalled past the
 * expiry) finds out at its next renewal or check and stops.
 */

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type BetterSqlite3 from 'better-sqlite3';
import { DAEMON_LOCK_TTL_MS, type DaemonLockAttempt, type DaemonLockHolder, type DaemonLockOptions, type HeldDaemonLock } from './daemon-lock.ts';
import type { DaemonLockTable } from './schema.ts';

const NAME = 'daemon';

/** Takes the daemon lock in `sqlite` for `me` unless a live holder has it. */
export function tryAcquireSqliteDaemonLock(sqlite: BetterSqlite3.Database, me: DaemonLockHolder, options: DaemonLockOptions = {}): DaemonLockAttempt {
  const ttlMs = options.ttlMs ?? DAEMON_LOCK_TTL_MS;
  const token = randomUUID();
  const take = sqlite.transaction((now: number): DaemonLockHolder | undefined => {
    const row = sqlite.prepare('select * from daemon_lock where name = ?').get(NAME) as DaemonLockTable | undefined;
    if (row !== undefined && row.expires_at > now && !goneFromThisHost(row)) return { pid: row.pid, host: row.host, since: row.acquired_at };
    sqlite
      .prepare(
        `insert into daemon_lock (name, pid, host, token, acquired_at, expires_at) values (?, ?, ?, ?, ?, ?)
         on conflict (name) do update set pid = excluded.pid, host = excluded.host, token = excluded.token,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      )
      .run(NAME, me.pid, me.host, token, now, now + ttlMs);
    return undefined;
  });
  const now = Date.now();
  const holder = take.immediate(now);
  if (holder !== undefined) return { acquired: false, holder };
  return { acquired: true, lock: new SqliteDaemonLock(sqlite, token, ttlMs, now + ttlMs) };
}

/** Whether the row's process ran on this host and no longer exists. */
function goneFromThisHost(row: DaemonLockTable): boolean {
  if (row.host !== os.hostname()) return false;
  try {
    process.kill(row.pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The `daemon` row, held with `token`. */
class SqliteDaemonLock implements HeldDaemonLock {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #token: string;
  readonly #ttlMs: number;
  readonly #lost = new AbortController();
  readonly #timer: NodeJS.Timeout;
  /** Until when the row is surely this holder's (as last written). */
  #expiresAt: number;
  #released = false;

  constructor(sqlite: BetterSqlite3.Database, token: string, ttlMs: number, expiresAt: number) {
    this.#sqlite = sqlite;
    this.#token = token;
    this.#ttlMs = ttlMs;
    this.#expiresAt = expiresAt;
    this.#timer = setInterval(() => void this.stillHeld(), Math.max(1, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async stillHeld(): Promise<boolean> {
    if (this.#lost.signal.aborted || this.#released) return false;
    try {
      const now = Date.now();
      const renewed = this.#sqlite
        .prepare('update daemon_lock set expires_at = ? where name = ? and token = ? and expires_at > ?')
        .run(now + this.#ttlMs, NAME, this.#token, now);
      if (renewed.changes === 1) {
        this.#expiresAt = now + this.#ttlMs;
        return true;
      }
    } catch {
      // Busy past the busy timeout, or closed: the row is still this holder's until it expires.
      if (Date.now() < this.#expiresAt) return true;
    }
    clearInterval(this.#timer);
    this.#lost.abort();
    return false;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    try {
      this.#sqlite.prepare('delete from daemon_lock where name = ? and token = ?').run(NAME, this.#token);
    } catch {
      // Closed with the storage: the row expires on its own.
    }
  }
}
