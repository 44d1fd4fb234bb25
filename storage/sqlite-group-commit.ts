/**
 * Group commit for one SQLite connection: hot-path writes (events, step commits, leases) are
 * queued and run together in one `BEGIN IMMEDIATE` transaction when the event loop turns
 * (`setImmediate`). A transaction's BEGIN and COMMIT cost far more than its few inserts, and
 * the concurrent steps of a run each write at about the same time, so they share one.
 *
 * Durability is unchanged for callers: a write's promise settles only once its transaction has
 * committed (or failed). Writes are synchronous functions of the connection that may run twice:
 * when one throws, the group's transaction rolls back and each write runs again in a transaction
 * of its own, so that a failing write rejects its own promise only (failures are rare: a write
 * for an unknown run, a full disk). Any other use of the connection calls {@link flush} first,
 * so it sees every write queued before it, in order.
 */

import type BetterSqlite3 from 'better-sqlite3';

interface QueuedWrite {
  readonly write: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Queues writes of one connection and commits them together. */
export class SqliteGroupCommit {
  #queue: QueuedWrite[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  /** Runs one write in a transaction of its own. */
  readonly #alone: (write: () => unknown) => unknown;
  /** Runs writes in one transaction; the first that throws rolls it all back. */
  readonly #together: (queue: readonly QueuedWrite[]) => unknown[];

  constructor(sqlite: BetterSqlite3.Database) {
    this.#alone = sqlite.transaction((write: () => unknown) => write()).immediate;
    this.#together = sqlite.transaction((queue: readonly QueuedWrite[]) =>
      queue.map((queued) => {
        try {
          return queued.write();
        } catch (error) {
          throw new WriteFailed(error);
        }
      }),
    ).immediate;
  }

  /**
   * Queues `write` (a synchronous function of the connection) for the next group commit;
   * resolves to its result once that transaction has committed.
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits every queued write now (nothing to do when none is queued). */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    if (queue.length > 1) {
      let values: unknown[];
      try {
        values = this.#together(queue);
      } catch (error) {
        if (!(error instanceof WriteFailed)) {
          // BEGIN or COMMIT failed (a lock held past the busy timeout, a full disk): nothing was written.
          for (const queued of queue) queued.reject(error);
          return;
        }
        // One write failed and nothing was written: each runs alone below, so only that one fails.
        values = [];
      }
      if (values.length === queue.length) {
        queue.forEach((queued, i) => queued.resolve(values[i]));
        return;
      }
    }
    for (const queued of queue) settle(queued, () => this.#alone(queued.write));
  }
}

/** A queued write threw (as opposed to BEGIN or COMMIT). */
class WriteFailed {
  constructor(readonly error: unknown) {}
}

function settle(queued: QueuedWrite, write: () => unknown): void {
  let value: unknown;
  try {
    value = write();
  } catch (error) {
    queued.reject(error);
    return;
  }
  queued.resolve(value);
}
