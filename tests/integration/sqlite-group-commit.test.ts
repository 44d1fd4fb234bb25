/**
 * Group commit in SQLite storage (storage/sqlite-group-commit.ts): writes issued in the same
 * turn of the event loop share one transaction, each still settles only once committed, and
 * any other call sees the writes queued before it.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../storage/index.ts';
import { anEvent, aRun } from './storage-fixtures.ts';

let dir: string;
let storage: SqliteStorage;
let reader: BetterSqlite3.Database;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-group-commit-'));
  storage = await SqliteStorage.open(path.join(dir, 'strata.db'));
  await storage.createRun(aRun('r1', { status: 'running' }));
  reader = new BetterSqlite3(path.join(dir, 'strata.db'));
});

afterEach(async () => {
  reader.close();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Frames written to the WAL since the last call: every commit appends the pages it changed. */
function walFrames(): number {
  const [result] = reader.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  const [reset] = reader.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  expect(reset?.busy).toBe(0);
  return result?.log ?? 0;
}

describe('SQLite group commit', () => {
  it('commits the writes issued together in one transaction', async () => {
    walFrames();
    await storage.appendEvents([anEvent('r1', 'alone')]);
    const one = walFrames();
    // Ten separate transactions would write the same pages ten times over.
    await Promise.all(Array.from({ length: 10 }, (_, i) => storage.appendEvents([anEvent('r1', `together ${i}`)])));
    const ten = walFrames();
    expect(one).toBeGreaterThan(0);
    expect(ten).toBeLessThan(one * 2);
    expect(await storage.listEvents('r1')).toHaveLength(11);
  });

  it('settles a write only once it is committed, visible to another connection', async () => {
    const written = storage.appendEvents([anEvent('r1', 'durable')]);
    const count = () => (reader.prepare('select count(*) as n from events').get() as { n: number }).n;
    await written;
    expect(count()).toBe(1);
  });

  it('lets any other call see the writes queued before it', async () => {
    void storage.appendEvents([anEvent('r1', 'queued')]);
    expect((await storage.listEvents('r1')).map((e) => e.message)).toEqual(['queued']);
    void storage.acquireLeases('r1', [{ assetKey: 'a/b', partition: null }], { now: 1, expiresAt: 2 });
    expect(await storage.listLeases()).toHaveLength(1);
  });
});
