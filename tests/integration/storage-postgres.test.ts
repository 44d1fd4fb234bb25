import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { InMemoryStorage, migrations, openStorage, StorageError } from '../../storage/index.ts';
import type { LeaseKey } from '../../storage/index.ts';
import { closedPort, onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { storageContract } from './storage-contract.ts';
import { storageLeasesContract } from './storage-contract-leases.ts';
import { storageAlertsContract } from './storage-contract-alerts.ts';
import { storageTicksContract } from './storage-contract-ticks.ts';
import { storageDaemonLockContract } from './storage-contract-daemon-lock.ts';
import { storageFreshnessContract } from './storage-contract-freshness.ts';
import { anEvent, aRun, expectSplitSummariesOfManyAssets } from './storage-fixtures.ts';

const missing = postgresMissing();
/** This file's schema: created with the first storage, emptied before each next one. */
const SCHEMA = `storage_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let created = false;

/** The test cluster's URL with this file's schema first on the search path. */
function schemaUrl(): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

/** This file's schema, created (and migrated by the first storage opened on it) or emptied, ids starting from 1 again. */
async function emptySchema(): Promise<string> {
  if (!created) {
    await onPostgres(`create schema ${SCHEMA}`);
    created = true;
    return schemaUrl();
  }
  const tables = await postgresRows<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = $1 and table_name not like 'kysely_%'`,
    [SCHEMA],
  );
  if (tables.length > 0) await onPostgres(`truncate ${tables.map((t) => `${SCHEMA}.${t.name}`).join(', ')} restart identity cascade`);
  return schemaUrl();
}

/** A storage on an empty schema. */
async function fresh(): Promise<PostgresStorage> {
  return PostgresStorage.open(await emptySchema());
}

/** Another storage (its own pool) on the same schema, as another process would open it. */
async function sameSchema(): Promise<PostgresStorage> {
  return PostgresStorage.open(schemaUrl());
}

/** Ends the session holding this schema's daemon lock (as when its process dies) and waits until the server let go of the lock. */
async function terminateDaemonLockHolder(): Promise<void> {
  const holder = `from pg_locks where locktype = 'advisory' and granted and objsubid = 2 and classid = ${0x5374_446d}::oid
    and objid = (hashtext('${SCHEMA}') & 2147483647)::oid`;
  await postgresRows(`select pg_terminate_backend(pid) ${holder}`);
  for (let i = 0; i < 200 && (await postgresRows(`select pid ${holder}`)).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
}

describe.skipIf(missing !== undefined)(`Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  afterAll(async () => {
    if (created) await onPostgres(`drop schema ${SCHEMA} cascade`);
  });

  storageContract('PostgresStorage', fresh);
  storageContract('openStorage({ kind: "postgres" })', async () => openStorage({ kind: 'postgres', url: await emptySchema() }));
  storageTicksContract('PostgresStorage', fresh);
  storageAlertsContract('PostgresStorage', fresh, sameSchema);
  storageLeasesContract('PostgresStorage', fresh, sameSchema);
  storageFreshnessContract('PostgresStorage', fresh, sameSchema);
  storageDaemonLockContract('PostgresStorage', fresh, { second: sameSchema, loseHolder: terminateDaemonLockHolder });

  describe('PostgresStorage across pools', () => {
    const A: LeaseKey = { assetKey: 'staging/orders', partition: '2025-01-01' };
    const B: LeaseKey = { assetKey: 'staging/orders', partition: '2025-01-02' };

    it('never gives one lease to two runs racing for it from two pools', async () => {
      const first = await fresh();
      const second = await sameSchema();
      try {
        for (let round = 0; round < 25; round++) {
          const [a, b] = [`a${round}`, `b${round}`];
          await first.createRun(aRun(a, { status: 'running', startedAt: 1 }));
          await first.createRun(aRun(b, { status: 'running', startedAt: 1 }));
          const key = { assetKey: 'marts/sales', partition: `p${round}` };
          const results = await Promise.all([
            first.acquireLeases(a, [key], { now: 10, expiresAt: 1_000 }),
            second.acquireLeases(b, [key], { now: 10, expiresAt: 1_000 }),
          ]);
          expect(results.filter((r) => r.acquired)).toHaveLength(1);
          const loser = results.find((r) => !r.acquired);
          expect(loser).toMatchObject({ conflicts: [{ runId: results[0]!.acquired ? a : b }] });
          expect((await second.listLeases()).filter((l) => l.partition === `p${round}`)).toHaveLength(1);
        }
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('gives overlapping sets asked for in opposite orders all to one run, none to the other', async () => {
      const first = await fresh();
      const second = await sameSchema();
      try {
        for (let round = 0; round < 15; round++) {
          const [a, b] = [`a${round}`, `b${round}`];
          await first.createRun(aRun(a, { status: 'running', startedAt: 1 }));
          await first.createRun(aRun(b, { status: 'running', startedAt: 1 }));
          const results = await Promise.all([
            first.acquireLeases(a, [A, B], { now: 10, expiresAt: 1_000 }),
            second.acquireLeases(b, [B, A], { now: 10, expiresAt: 1_000 }),
          ]);
          expect(results.map((r) => r.acquired).sort()).toEqual([false, true]);
          const winner = results[0]!.acquired ? a : b;
          expect((await first.listLeases()).map((l) => l.runId)).toEqual([winner, winner]);
          await first.releaseLeases(winner);
        }
      } finally {
        await first.close();
        await second.close();
      }
    });
  });

  describe('PostgresStorage queued runs across pools', () => {
    it('never gives one queued run to two storages claiming at once: each run is claimed exactly once', async () => {
      const first = await fresh();
      const second = await sameSchema();
      try {
        const ids = Array.from({ length: 60 }, (_, i) => `q${String(i).padStart(2, '0')}`);
        for (const [i, id] of ids.entries()) await first.createRun(aRun(id, { createdAt: 1_000 + (i % 7), request: { kind: 'materialize', select: '*' } }));
        const drain = async (storage: PostgresStorage, pid: number): Promise<string[]> => {
          const claimed: string[] = [];
          for (let run = await storage.claimQueuedRun({ now: 2_000, pid }); run; run = await storage.claimQueuedRun({ now: 2_000, pid })) claimed.push(run.id);
          return claimed;
        };
        const [a, b, c, d] = await Promise.all([drain(first, 1), drain(second, 2), drain(first, 3), drain(second, 4)]);
        const all = [...a, ...b, ...c, ...d];
        expect(all.sort()).toEqual(ids);
        expect(a.length + c.length).toBeGreaterThan(0);
        expect(b.length + d.length).toBeGreaterThan(0);
        expect(await second.listRuns({ status: 'queued' })).toEqual([]);
      } finally {
        await first.close();
        await second.close();
      }
    });
  });

  describe('PostgresStorage pool limits across pools', () => {
    it('never runs more than a pool limit of 2 at once with four claimers on four storages, and every run once', async () => {
      const first = await fresh();
      const others = [await sameSchema(), await sameSchema(), await sameSchema()];
      try {
        const ids = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
        for (const [i, id] of ids.entries())
          await first.createRun(aRun(id, { createdAt: 1_000 + i, request: { kind: 'materialize', select: '*' }, pools: ['api'] }));
        let holding = 0;
        let peak = 0;
        const work = async (storage: PostgresStorage, pid: number): Promise<string[]> => {
          const done: string[] = [];
          for (;;) {
            const run = await storage.claimQueuedRun({ now: 2_000, pid, poolLimit: (pool) => (pool === 'api' ? 2 : Infinity) });
            if (run === undefined) {
              if ((await storage.listRuns({ status: 'queued' })).length === 0) break;
              await new Promise((resolve) => setTimeout(resolve, 2));
              continue;
            }
            holding++;
            peak = Math.max(peak, holding);
            await new Promise((resolve) => setTimeout(resolve, 10));
            holding--;
            await storage.updateRun(run.id, { status: 'success', endedAt: 3_000 });
            done.push(run.id);
          }
          return done;
        };
        const claimed = (await Promise.all([first, ...others].map((storage, pid) => work(storage, pid)))).flat();
        expect(claimed.sort()).toEqual(ids);
        expect(peak).toBe(2);
      } finally {
        await first.close();
        for (const storage of others) await storage.close();
      }
    });
  });

  describe('PostgresStorage write order', () => {
    it('applies writes issued without waiting in the order they were issued, and a read sees them', async () => {
      const storage = await fresh();
      try {
        await storage.createRun(aRun('r1'));
        const messages = Array.from({ length: 40 }, (_, i) => `event ${i}`);
        const writes = messages.map((message) => storage.appendEvents([anEvent('r1', message)]));
        const read = storage.listEvents('r1');
        await Promise.all(writes);
        expect((await read).map((e) => e.message)).toEqual(messages);
      } finally {
        await storage.close();
      }
    });
  });

  describe('PostgresStorage observations in batches', () => {
    it('records batches of new, unchanged and changed observations (a partition named twice too) as the in-memory storage does', async () => {
      const storage = await fresh();
      const memory = new InMemoryStorage();
      try {
        const observe = (partition: string, dataVersion: string, timestamp: number) => ({
          assetKey: 'landing/a',
          partition,
          dataVersion,
          timestamp,
          metadata: { timestamp },
        });
        const days = Array.from({ length: 300 }, (_, i) => `2025-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + Math.floor(i / 12)).padStart(2, '0')}`);
        const batches = [
          days.map((day) => observe(day, 'v1', 1)),
          days.map((day, i) => observe(day, i % 3 === 0 ? 'v2' : 'v1', 2)),
          [observe('2025-01-01', 'v3', 3), observe('2025-01-01', 'v4', 4), observe('2025-01-01', 'v4', 5)],
          [{ ...observe('', 'u1', 6), partition: null }],
        ];
        for (const batch of batches) expect(await storage.recordObservations(batch)).toEqual(await memory.recordObservations(batch));
        expect(await storage.latestObservations()).toEqual(await memory.latestObservations());
        expect(await storage.currentSequence()).toBe(await memory.currentSequence());
      } finally {
        await storage.close();
      }
    });
  });

  describe('PostgresStorage staleness summaries over many assets', () => {
    it('splits the pass over two connections from 2,000 assets, with the same result as one', async () => {
      const storage = await fresh();
      try {
        const last = await expectSplitSummariesOfManyAssets(storage);
        // Written 2025-01-02 first: the sequence numbers come in partition key order, not write order.
        expect([...(last?.seqs ?? [])]).toEqual([4200, 4199]);
      } finally {
        await storage.close();
      }
    });
  });

  describe('PostgresStorage schema', () => {
    it('has the tables and columns of the SQLite schema, and applies the same migrations', async () => {
      const storage = await fresh();
      await storage.close();
      const schema = SCHEMA;
      const tables = await postgresRows<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = $1 and table_name not like 'kysely_%' order by table_name`,
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'alert_deliveries',
        'asset_lineage',
        'backfills',
        'check_results',
        'column_lineage',
        'daemon_cursors',
        'daemon_lock',
        'daemon_ticks',
        'definition_versions',
        'events',
        'freshness_episodes',
        'latest_check_results',
        'latest_materializations',
        'latest_observations',
        'leases',
        'materializations',
        'observations',
        'runs',
        'schedule_ticks',
      ]);
      const columns = await postgresRows<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'runs' order by ordinal_position`,
        [schema],
      );
      expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
        'id text',
        'status text',
        'trigger text',
        'selection text',
        'asset_keys text',
        'created_at bigint',
        'started_at bigint',
        'ended_at bigint',
        'error text',
        'tags text',
        'heartbeat_at bigint',
        'pid bigint',
        'request text',
        'pools text',
      ]);
      const applied = await postgresRows<{ name: string }>(`select name from ${schema}.kysely_migration order by name`);
      expect(applied.map((m) => m.name)).toEqual(Object.keys(migrations));
      // Opened again: nothing left to apply.
      await (await sameSchema()).close();
    });

    it('refuses a database migrated by a newer Strata, naming both schema versions', async () => {
      await (await fresh()).close();
      await onPostgres(`insert into ${SCHEMA}.kysely_migration (name, timestamp) values ('0099-from-the-future', now()::text)`);
      try {
        const error = await sameSchema().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'storage_schema_newer', userError: true });
        const latest = Object.keys(migrations).at(-1);
        expect((error as Error).message).toBe(
          `the storage at ${new URL(postgresUrl()).host}/strata_test has schema version 0099-from-the-future, newer than this Strata's ${latest}: upgrade Strata on this host`,
        );
      } finally {
        await onPostgres(`delete from ${SCHEMA}.kysely_migration where name = '0099-from-the-future'`);
      }
    });
  });

  describe('a Postgres storage that cannot be reached', () => {
    it('names host, port and database, never the password, for a wrong password', async () => {
      const url = new URL(schemaUrl());
      url.password = 'wrong-secret-4b1d';
      const error = await PostgresStorage.open(url.toString()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'storage_unreachable', userError: true });
      const message = (error as Error).message;
      expect(message).toContain(`${url.hostname}:${url.port}/strata_test`);
      expect(message).toMatch(/password authentication failed/);
      expect(message).not.toContain('wrong-secret-4b1d');
      expect(String((error as Error).stack)).not.toContain('wrong-secret-4b1d');
    });

    it('names host, port and database, never the password, for a closed port', async () => {
      const port = await closedPort();
      const error = await openStorage({ kind: 'postgres', url: `postgres://strata:closed-secret-9e2c@127.0.0.1:${port}/shop` }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'storage_unreachable', userError: true });
      expect((error as Error).message).toContain(`at 127.0.0.1:${port}/shop as strata`);
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
      expect((error as Error).message).not.toContain('closed-secret-9e2c');
    });
  });
});
