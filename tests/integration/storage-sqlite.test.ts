import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { MigrationProvider } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrationProvider, migrations, openStorage, SqliteStorage } from '../../storage/index.ts';
import type { MaterializationRecord, Storage } from '../../storage/index.ts';
import { storageContract } from './storage-contract.ts';
import { storageLeasesContract } from './storage-contract-leases.ts';
import { storageTicksContract } from './storage-contract-ticks.ts';
import { storageFreshnessContract } from './storage-contract-freshness.ts';
import { storageDaemonLockContract } from './storage-contract-daemon-lock.ts';
import { storageAlertsContract } from './storage-contract-alerts.ts';
import { aBackfill, aCheckResult, aMaterialization, anEvent, aRun, expectSplitSummariesOfManyAssets } from './storage-fixtures.ts';

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
storageTicksContract('SqliteStorage', () => open());
storageAlertsContract(
  'SqliteStorage',
  () => open(),
  () => SqliteStorage.open(path.join(dir, 'strata.db')),
);
storageLeasesContract(
  'SqliteStorage',
  () => open(),
  () => SqliteStorage.open(path.join(dir, 'strata.db')),
);

storageFreshnessContract(
  'SqliteStorage',
  () => open(),
  () => SqliteStorage.open(path.join(dir, 'strata.db')),
);

storageDaemonLockContract('SqliteStorage', () => open(), {
  second: () => SqliteStorage.open(path.join(dir, 'strata.db')),
  // A holder that stalled past its expiry (its renewals stopped).
  loseHolder: async () => {
    const db = new BetterSqlite3(path.join(dir, 'strata.db'));
    try {
      db.prepare('update daemon_lock set expires_at = ?').run(Date.now() - 1);
    } finally {
      db.close();
    }
  },
});

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
      expect(db.prepare('select name from kysely_migration order by name').pluck().all()).toEqual(Object.keys(migrations));
    } finally {
      db.close();
    }
  });

  it("a refused write is a StorageError whose cause is SQLite's constraint error", async () => {
    const storage = await open();
    await storage.createRun(aRun('r1'));
    const taken = await storage.createRun(aRun('r1')).catch((e: unknown) => e);
    expect(taken).toMatchObject({ code: 'run_exists', message: 'run r1 already exists', cause: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
    const unknown = await storage.appendEvents([anEvent('nope', 'lost')]).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'unknown_run', cause: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
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

  it('upgrades a database created by the first migration only', async () => {
    const file = path.join(dir, 'old.db');
    await withMigrator(file, { getMigrations: async () => ({ '0001-initial': migrations['0001-initial']! }) }, async (migrator) => {
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
    });
    const old = new BetterSqlite3(file);
    try {
      old.prepare(`insert into runs (id, status, trigger, selection, created_at) values ('r1', 'failed', 'backfill', 'a/*', 5)`).run();
      old
        .prepare(
          `insert into backfills (id, selection, range_from, range_to, status, created_at, updated_at)
           values ('old', 'a/*', '2024-01-01', '2024-01-02', 'failed', 5, 6)`,
        )
        .run();
      old
        .prepare(
          `insert into events (run_id, timestamp, type, level, asset_key, partition_key, message)
           values ('r1', 7, 'step_failure', 'error', 'a/x', '2024-01-01', 'boom')`,
        )
        .run();
    } finally {
      old.close();
    }

    const storage = await SqliteStorage.open(file);
    opened.push(storage);
    expect(await storage.getBackfill('old')).toEqual(
      aBackfill('old', {
        selection: 'a/*',
        from: '2024-01-01',
        to: '2024-01-02',
        status: 'failed',
        mode: 'all',
        grouping: 'policy',
        total: 0,
        createdAt: 5,
        updatedAt: 6,
      }),
    );
    await storage.updateBackfill('old', { runIds: ['r1'], status: 'running' });
    await storage.createBackfill(aBackfill('new', { createdAt: 10 }));
    expect((await storage.listBackfills()).map((b) => [b.id, b.runIds])).toEqual([
      ['new', []],
      ['old', ['r1']],
    ]);
    expect(await storage.latestStepFailures()).toEqual([{ assetKey: 'a/x', partition: '2024-01-01', runId: 'r1', timestamp: 7, eventId: 1, message: 'boom' }]);
    await storage.close();

    const db = new BetterSqlite3(file, { readonly: true });
    try {
      expect(db.prepare('select name from kysely_migration order by name').pluck().all()).toEqual(Object.keys(migrations));
      const indexes = db.prepare(`select name from sqlite_master where type = 'index' and name not like 'sqlite_%'`).pluck().all();
      expect(indexes).toEqual(expect.arrayContaining(['events_step_failure_idx', 'backfills_created_at_idx']));
    } finally {
      db.close();
    }
  });

  it('migrates the latest migration down and up again', async () => {
    const file = path.join(dir, 'down.db');
    await (await SqliteStorage.open(file)).close();
    await withMigrator(file, migrationProvider, async (migrator) => {
      expect((await migrator.migrateDown()).error).toBeUndefined();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
    });
    const storage = await open('down.db');
    await storage.createBackfill(aBackfill('b1', { runIds: ['r1'] }));
    expect(await storage.getBackfill('b1')).toEqual(aBackfill('b1', { runIds: ['r1'] }));
  });

  it('keeps the daemon lock past its lifetime while renewing it, and lets it go at once when its process is gone from this host', async () => {
    const storage = await open();
    const first = await storage.tryAcquireDaemonLock({ pid: process.pid, host: os.hostname() }, { ttlMs: 150 });
    expect(first.acquired).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await (await open()).tryAcquireDaemonLock({ pid: 1, host: 'b' })).acquired).toBe(false);
    if (first.acquired) await first.lock.release();

    // A daemon killed with -9 leaves its row behind; its pid no longer exists on this host.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const killed = await storage.tryAcquireDaemonLock({ pid: dead, host: os.hostname() });
    expect(killed.acquired).toBe(true);
    const next = await (await open()).tryAcquireDaemonLock({ pid: process.pid, host: os.hostname() });
    expect(next.acquired).toBe(true);
    if (next.acquired) await next.lock.release();
  });

  it('rejects a file that is not a database', async () => {
    fs.writeFileSync(path.join(dir, 'garbage.db'), 'this is not a database, just some text that is long enough'.repeat(100));
    await expect(SqliteStorage.open(path.join(dir, 'garbage.db'))).rejects.toThrow(/not a database/);
  });
});

/** Runs `use` with a kysely Migrator over the SQLite file `file` that serves `provider`. */
async function withMigrator(file: string, provider: MigrationProvider, use: (migrator: Migrator) => Promise<void>): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  try {
    await use(new Migrator({ db, provider }));
  } finally {
    await db.destroy();
  }
}

/**
 * The storage module from source (as vitest compiles it) and from the build the CLI runs
 * (dist/, built by the global setup): the worker thread is a file of its own beside each.
 */
const STORAGE_MODULES: ReadonlyArray<[string, () => Promise<{ SqliteStorage: typeof SqliteStorage }>]> = [
  ['from source', async () => ({ SqliteStorage })],
  [
    'from the build (dist/)',
    async () => (await import(/* @vite-ignore */ new URL('../../dist/storage/index.js', import.meta.url).href)) as { SqliteStorage: typeof SqliteStorage },
  ],
];

describe.each(STORAGE_MODULES)('SqliteStorage staleness summaries over many assets, %s', (_, load) => {
  it('splits the pass over two threads from 2,000 assets, with the same result as one thread', async () => {
    const storage = await (await load()).SqliteStorage.open(path.join(dir, 'strata.db'));
    opened.push(storage);
    await expectSplitSummariesOfManyAssets(storage);
  });
});
