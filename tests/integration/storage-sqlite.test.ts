import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, SqliteStorage } from '../../storage/index.ts';
import type { MaterializationRecord, Storage } from '../../storage/index.ts';
import { storageContract } from './storage-contract.ts';
import { aCheckResult, aMaterialization, anEvent, aRun } from './storage-fixtures.ts';

let dir: string;
let opened: Storage[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-storage-'));
});

afterEach(async () => {
  for (const storage of opened) await storage.close();
  opened = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens the SQLite storage at `file` (relative to the test's temp dir), closed after the test. */
async function open(file = 'strata.db'): Promise<SqliteStorage> {
  const storage = await SqliteStorage.open(path.join(dir, file));
  opened.push(storage);
  return storage;
}

storageContract('SqliteStorage', () => open());
storageContract('openStorage({ kind: "sqlite" })', () => openStorage({ kind: 'sqlite', file: path.join(dir, 'spec.db') }));

describe('SqliteStorage on disk', () => {
  it('creates the parent folder and uses WAL', async () => {
    const storage = await open('nested/deeper/strata.db');
    await storage.close();
    const db = new BetterSqlite3(path.join(dir, 'nested/deeper/strata.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('keeps everything across close and reopen', async () => {
    const first = await open();
    await first.createRun(aRun('r1'));
    await first.appendEvents([anEvent('r1', 'started')]);
    await first.commitStep({
      events: [anEvent('r1', 'done')],
      materializations: [aMaterialization('r1', 'a/x', 'p1', { metadata: { rows: 1 } })],
      checkResults: [aCheckResult('r1', 'a/x', 'c')],
    });
    await first.recordLineage('v1', [{ upstream: 'a/w', downstream: 'a/x' }]);
    await first.close();

    const second = await open();
    expect(await second.getRun('r1')).toEqual(aRun('r1'));
    expect((await second.listEvents('r1')).map((e) => [e.id, e.message])).toEqual([
      [1, 'started'],
      [2, 'done'],
    ]);
    expect((await second.latestMaterializations()).map((m) => m.metadata)).toEqual([{ rows: 1 }]);
    expect(await second.latestCheckResults()).toHaveLength(1);
    expect(await second.latestDefinitionVersion()).toBe('v1');
    await second.appendEvents([anEvent('r1', 'after reopen')]);
    expect((await second.listEvents('r1')).map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('applies migrations once, however often and concurrently it is opened', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.createRun(aRun('r1'));
    expect(await b.getRun('r1')).toBeDefined();
    const c = await open();
    expect(await c.getRun('r1')).toBeDefined();
    const db = new BetterSqlite3(path.join(dir, 'strata.db'), { readonly: true });
    try {
      expect(db.prepare('select name from kysely_migration').pluck().all()).toEqual(['0001-initial']);
    } finally {
      db.close();
    }
  });

  it('writes none of a commit whose materialization insert fails', async () => {
    const storage = await open();
    await storage.createRun(aRun('r1'));
    await storage.commitStep({ events: [anEvent('r1', 'first')], materializations: [aMaterialization('r1', 'a/x', null)] });
    // data_version is NOT NULL: a record missing it makes the materialization insert fail.
    const broken = { ...aMaterialization('r1', 'a/x', null), dataVersion: null } as unknown as MaterializationRecord;
    await expect(
      storage.commitStep({
        events: [anEvent('r1', 'lost 1'), anEvent('r1', 'lost 2')],
        materializations: [aMaterialization('r1', 'a/y', null), broken],
      }),
    ).rejects.toThrow(/NOT NULL/);
    expect((await storage.listEvents('r1')).map((e) => e.message)).toEqual(['first']);
    expect((await storage.latestMaterializations()).map((m) => m.assetKey)).toEqual(['a/x']);
    expect(await storage.materializationHistory('a/y')).toEqual([]);
    // The connection is usable afterwards, and ids continue without a gap in what is visible.
    await storage.appendEvents([anEvent('r1', 'next')]);
    expect((await storage.listEvents('r1')).map((e) => e.message)).toEqual(['first', 'next']);
  });

  it('writes none of a commit whose check result insert fails after its materialization', async () => {
    const storage = await open();
    await storage.createRun(aRun('r1'));
    const broken = { ...aCheckResult('r1', 'a/x', 'c'), sql: null } as unknown as ReturnType<typeof aCheckResult>;
    await expect(
      storage.commitStep({ events: [anEvent('r1', 'lost')], materializations: [aMaterialization('r1', 'a/x', null)], checkResults: [broken] }),
    ).rejects.toThrow();
    expect(await storage.listEvents('r1')).toEqual([]);
    expect(await storage.latestMaterializations()).toEqual([]);
    expect(await storage.latestCheckResults()).toEqual([]);
  });

  it('rejects a file that is not a database', async () => {
    fs.writeFileSync(path.join(dir, 'garbage.db'), 'this is not a database, just some text that is long enough'.repeat(100));
    await expect(SqliteStorage.open(path.join(dir, 'garbage.db'))).rejects.toThrow(/not a database/);
  });
});
