/**
 * The daemon-lock part of the storage contract (see storage/daemon-lock.ts): one holder at a
 * time, a refused daemon told who holds it, release, and — where the implementation can lose a
 * lock — a holder that is gone being taken over, and the old holder finding out. Registered in
 * storage-sqlite.test.ts, storage-postgres.test.ts and storage-memory.test.ts.
 */

import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { HeldDaemonLock, Storage } from '../../storage/index.ts';
import { useStorage } from './storage-contract.ts';

/** How a test of one implementation reaches its store the way another process would. */
export interface DaemonLockContractOptions {
  /** Opens another connection to the same store (another process, as far as it knows). */
  readonly second?: () => Promise<Storage>;
  /** Makes the store forget `holder`'s lock the way a dead or stalled holder would lose it. */
  readonly loseHolder?: (storage: Storage) => Promise<void>;
}

const ME = { pid: process.pid, host: os.hostname() };
const OTHER = { pid: 4_000_001, host: 'other-host' };

/** Defines the daemon-lock contract tests for the storage `makeStorage` creates. */
export function storageDaemonLockContract(name: string, makeStorage: () => Promise<Storage>, options: DaemonLockContractOptions = {}): void {
  describe(`${name} daemon lock contract`, () => {
    const storage = useStorage(makeStorage);
    const held: HeldDaemonLock[] = [];
    const opened: Storage[] = [];

    async function other(): Promise<Storage> {
      if (!options.second) return storage();
      const second = await options.second();
      opened.push(second);
      return second;
    }

    async function take(on: Storage, me = ME): Promise<HeldDaemonLock> {
      const attempt = await on.tryAcquireDaemonLock(me);
      if (!attempt.acquired) throw new Error(`expected to take the daemon lock, held by ${JSON.stringify(attempt.holder)}`);
      held.push(attempt.lock);
      return attempt.lock;
    }

    async function cleanUp(): Promise<void> {
      for (const lock of held.splice(0)) await lock.release();
      for (const s of opened.splice(0)) await s.close();
    }

    it('gives the lock to one daemon at a time and tells the others who holds it', async () => {
      try {
        const before = Date.now();
        const lock = await take(storage(), OTHER);
        expect(await lock.stillHeld()).toBe(true);
        const refused = await (await other()).tryAcquireDaemonLock(ME);
        expect(refused.acquired).toBe(false);
        if (refused.acquired) return;
        expect(refused.holder).toMatchObject(OTHER);
        expect(refused.holder?.since).toBeGreaterThanOrEqual(before - 1_000);
        // The same daemon asking again is refused too: it holds the lock once.
        expect((await storage().tryAcquireDaemonLock(OTHER)).acquired).toBe(false);
        expect(lock.lost.aborted).toBe(false);
      } finally {
        await cleanUp();
      }
    });

    it('lets the next daemon take the lock once it is released', async () => {
      try {
        const first = await take(storage());
        await first.release();
        await first.release();
        expect(await first.stillHeld()).toBe(false);
        const second = await take(await other(), OTHER);
        expect(await second.stillHeld()).toBe(true);
        await second.release();
        await take(storage());
      } finally {
        await cleanUp();
      }
    });

    // In memory a holder cannot go away without releasing: the case exists only where a process or connection can die.
    const loseHolder = options.loseHolder;
    if (loseHolder === undefined) return;
    it('lets another daemon take over from a holder that is gone, and the old holder finds out', async () => {
      try {
        const first = await take(storage(), OTHER);
        await loseHolder(storage());
        const second = await take(await other());
        expect(await second.stillHeld()).toBe(true);
        expect(await first.stillHeld()).toBe(false);
        expect(first.lost.aborted).toBe(true);
        // The old holder letting go (late) does not free the new holder's lock.
        await first.release();
        expect(await second.stillHeld()).toBe(true);
        expect((await storage().tryAcquireDaemonLock(OTHER)).acquired).toBe(false);
      } finally {
        await cleanUp();
      }
    });
  });
}
