/**
 * {@link leadWhileHolding} over a real SQLite storage file opened twice (two daemons): one
 * leads at a time, the other stands by naming the holder and leads once the first stops; a
 * leader whose lock is taken over (it stalled past the expiry) is told to stop and stands by.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leadWhileHolding, sleep } from '../../core/engine/daemon/daemon-leadership.ts';
import { SqliteStorage } from '../../storage/index.ts';
import type { DaemonLockHolder, HeldDaemonLock } from '../../storage/index.ts';

let dir: string;
let opened: SqliteStorage[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-leadership-'));
});
afterEach(async () => {
  for (const storage of opened) await storage.close();
  opened = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<SqliteStorage> {
  const storage = await SqliteStorage.open(path.join(dir, 'strata.db'));
  opened.push(storage);
  return storage;
}

async function until(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A daemon: its leading spans, what it was told, and a stop. */
function daemon(name: string, storage: SqliteStorage, log: string[]) {
  const stop = new AbortController();
  const standbys: (DaemonLockHolder | undefined)[] = [];
  let lost = 0;
  const me = { pid: process.pid, host: name };
  const done = leadWhileHolding(
    { storage, signal: stop.signal, me, retryMs: 20, onStandby: (holder) => standbys.push(holder), onLost: () => lost++ },
    // A daemon loop in small: a tick is a check of the lock, then its work (noted in `log`).
    async (leading: AbortSignal, lock: HeldDaemonLock) => {
      while (!leading.aborted && (await lock.stillHeld())) {
        log.push(name);
        await sleep(10, leading);
      }
    },
  );
  return { stop: () => stop.abort(), done, standbys, lost: () => lost };
}

describe('leadWhileHolding on SQLite storage', () => {
  it('lets one daemon lead at a time; the other names the holder, stands by, and leads once it stops', async () => {
    const log: string[] = [];
    const a = daemon('a', await open(), log);
    await until('a leads', () => log.includes('a'));
    const b = daemon('b', await open(), log);
    await until('b stands by', () => b.standbys.length === 1);
    expect(b.standbys[0]).toMatchObject({ pid: process.pid, host: 'a' });
    await sleep(200, new AbortController().signal);
    expect(log.includes('b')).toBe(false);

    a.stop();
    expect(await a.done).toBe(true);
    const handedOver = log.length;
    await until('b leads', () => log.includes('b'));
    // Nothing of a after b's first tick.
    expect(log.slice(handedOver)).not.toContain('a');
    b.stop();
    expect(await b.done).toBe(true);
  });

  it('stops a leader whose lock was taken over, which then stands by', async () => {
    const log: string[] = [];
    const a = daemon('a', await open(), log);
    await until('a leads', () => log.includes('a'));
    // a stalled past its expiry: another daemon took the row over.
    const db = new BetterSqlite3(path.join(dir, 'strata.db'));
    try {
      db.prepare(`update daemon_lock set pid = 1, host = 'c', token = 'c', expires_at = ?`).run(Date.now() + 60_000);
    } finally {
      db.close();
    }
    await until('a noticed', () => a.lost() === 1);
    const after = log.length;
    await until('a stands by', () => a.standbys.length === 1);
    expect(a.standbys[0]).toMatchObject({ pid: 1, host: 'c' });
    await sleep(100, new AbortController().signal);
    expect(log.length).toBe(after);
    a.stop();
    expect(await a.done).toBe(true);
  });
});
