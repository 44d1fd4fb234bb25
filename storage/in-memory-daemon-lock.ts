/** The daemon lock of the in-memory storage: one holder per storage, released by hand. */

import type { DaemonLockAttempt, DaemonLockHolder, HeldDaemonLock } from './daemon-lock.ts';

/** One storage's daemon lock. */
export class InMemoryDaemonLockSlot {
  #holder: DaemonLockHolder | undefined;

  tryAcquire(me: DaemonLockHolder): DaemonLockAttempt {
    if (this.#holder !== undefined) return { acquired: false, holder: this.#holder };
    const holder = { pid: me.pid, host: me.host, since: Date.now() };
    this.#holder = holder;
    const lost = new AbortController();
    let released = false;
    const lock: HeldDaemonLock = {
      lost: lost.signal,
      stillHeld: async () => !released,
      release: async () => {
        if (released) return;
        released = true;
        if (this.#holder === holder) this.#holder = undefined;
      },
    };
    return { acquired: true, lock };
  }
}
