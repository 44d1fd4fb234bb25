import { afterAll, describe, expect, it } from 'vitest';
import { recoverCommits, writeStepCommit } from '../../core/engine/execution/commit-recovery.ts';
import { openWarehouse } from '../../resources/open-warehouse.ts';
import type { PostgresStepSession } from '../../resources/postgres-step-session.ts';
import type { PostgresWarehouse } from '../../resources/postgres-warehouse.ts';
import { CommitLog, commitLogOf } from '../../resources/warehouse-commit-log.ts';
import { InMemoryStorage } from '../../storage/index.ts';
import { aMaterialization, aRun } from './storage-fixtures.ts';
import { closedPort, onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { useWarehouse, warehouseContract, type WarehouseFixture } from './warehouse-contract.ts';
import { warehouseWritesContract } from './warehouse-contract-writes.ts';

const missing = postgresMissing();
/** This file's database: created on first use, dropped at the end. */
const DATABASE = `warehouse_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let created = false;

/** The URL of this file's database. */
function databaseUrl(): string {
  const url = new URL(postgresUrl());
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

/** This file's database, created, or emptied of every schema a test made. */
async function freshDatabase(): Promise<string> {
  if (!created) {
    await onPostgres(`create database ${DATABASE}`);
    created = true;
    return databaseUrl();
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "select nspname as name from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'public') and nspname not like 'pg_%'",
    );
    if (rows.length > 0) await client.query(`drop schema ${rows.map((r) => `"${r.name}"`).join(', ')} cascade`);
  } finally {
    await client.end();
  }
  return databaseUrl();
}

afterAll(async () => {
  if (created) await onPostgres(`drop database ${DATABASE} with (force)`);
});

const postgres: Omit<WarehouseFixture, 'open'> = {
  series: (n) => `(SELECT x FROM generate_series(0, ${n - 1}) AS g(x))`,
  typeNames: { integer: 'integer', text: 'text' },
  reportsProgress: false,
};

describe.skipIf(missing !== undefined)('Postgres warehouse', () => {
  warehouseContract('openWarehouse (Postgres)', { ...postgres, open: async () => openWarehouse(await freshDatabase()) });

  describe('on a server without MERGE (before Postgres 15): merges delete matching keys, then insert', () => {
    const older = useWarehouse({
      ...postgres,
      open: async () => {
        const warehouse = await openWarehouse(await freshDatabase());
        expect((warehouse as PostgresWarehouse).hasMerge).toBe(true);
        return Object.defineProperty(warehouse, 'hasMerge', { value: false });
      },
    });
    it('offers no MERGE to the incremental writes', () => {
      expect((older().session('staging/orders') as PostgresStepSession).mergeByKey).toBeUndefined();
    });
    warehouseWritesContract(older, { ...postgres, open: () => Promise.reject(new Error('unused')) });
  });

  describe('Postgres only', () => {
    const warehouse = useWarehouse({ ...postgres, open: async () => openWarehouse(await freshDatabase()) });

    it('names host, port and database as its location, never the user or password; the dialect is postgres', () => {
      const url = new URL(postgresUrl());
      expect(warehouse().location).toBe(`postgres://${url.hostname}:${url.port}/${DATABASE}`);
      expect(warehouse().location).not.toContain(url.password);
      expect(warehouse().dialect).toBe('postgres');
    });

    it('recovery leaves the commit rows of another process’s running run alone, and records them once that run has ended', async () => {
      const storage = new InMemoryStorage();
      await storage.createRun(aRun('r-other', { status: 'running', startedAt: 1_000 }));
      // Another process: its own warehouse (pool) on the same database publishes a step and has not recorded it yet.
      const other = await openWarehouse(databaseUrl());
      try {
        await commitLogOf(other).ensure();
        const session = other.session('staging/orders');
        await session.replaceTable('SELECT 1 AS id');
        const materialization = aMaterialization('r-other', 'staging/orders', null, { timestamp: 5_000 });
        await writeStepCommit(other, session, 'r-other', { id: 'staging/orders', key: 'staging/orders', partitions: null } as never, {
          events: [],
          materializations: [materialization],
        });
        await session.commit();
        expect(await recoverCommits(storage, warehouse())).toEqual([]);
        expect(await storage.latestMaterializations(['staging/orders'])).toEqual([]);
        await storage.updateRun('r-other', { status: 'failed', endedAt: 6_000, error: 'process died' });
        expect(await recoverCommits(storage, warehouse())).toMatchObject([{ runId: 'r-other', stepId: 'staging/orders', recorded: 1 }]);
        expect(await recoverCommits(storage, warehouse())).toEqual([]);
        expect((await storage.latestMaterializations(['staging/orders'])).map((m) => m.runId)).toEqual(['r-other']);
      } finally {
        other.close();
      }
    });

    it('two processes recovering the same orphaned commit at once record it once', async () => {
      const storage = new InMemoryStorage();
      await storage.createRun(aRun('r-dead', { status: 'failed', startedAt: 1_000, endedAt: 6_000 }));
      const others = await Promise.all([1, 2, 3].map(() => openWarehouse(databaseUrl())));
      try {
        for (const other of others) await commitLogOf(other).ensure();
        const session = warehouse().session('staging/orders');
        await session.replaceTable('SELECT 1 AS id');
        await writeStepCommit(warehouse(), session, 'r-dead', { id: 'staging/orders', key: 'staging/orders', partitions: null } as never, {
          events: [],
          materializations: [aMaterialization('r-dead', 'staging/orders', null, { timestamp: 5_000 })],
        });
        await session.commit();
        // Each warehouse is another process's pool: only a lock on the server keeps them apart.
        // A slow answer from storage: every recovery reads before any records.
        const slow = new Proxy(storage, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver);
            if (name !== 'latestMaterializations') return typeof value === 'function' ? value.bind(target) : value;
            return async (keys: readonly string[]) => {
              const latest = await target.latestMaterializations(keys);
              await new Promise((resolve) => setTimeout(resolve, 200));
              return latest;
            };
          },
        });
        const recovered = await Promise.all([warehouse(), ...others].map((w) => recoverCommits(slow, w)));
        expect(recovered.flat().map((c) => [c.runId, c.recorded])).toEqual([['r-dead', 1]]);
        expect(await storage.materializationHistory('staging/orders')).toHaveLength(1);
      } finally {
        for (const other of others) other.close();
      }
    });

    it('replacing a table keeps the views that read it (through another view too); a view its new columns break fails the step, which publishes nothing', async () => {
      const first = warehouse().session('staging/things');
      await first.replaceTable("SELECT 1 AS id, 'a' AS label");
      await first.commit();
      await warehouse().run(
        'CREATE VIEW marts.labels AS SELECT id, label FROM staging.things; CREATE VIEW marts.upper_labels AS SELECT upper(label) AS u FROM marts.labels',
      );
      const second = warehouse().session('staging/things');
      expect(await second.replaceTable("SELECT * FROM (VALUES (2, 'b'), (3, 'c')) AS t(id, label)")).toBe(2);
      await second.commit();
      expect(await warehouse().query('SELECT u FROM marts.upper_labels ORDER BY u')).toEqual([{ u: 'B' }, { u: 'C' }]);
      const narrower = warehouse().session('staging/things');
      await expect(narrower.replaceTable('SELECT 4 AS id')).rejects.toMatchObject({
        code: 'dependent_view_broken',
        message: expect.stringContaining('marts.labels'),
      });
      await narrower.rollback();
      expect(await warehouse().query('SELECT u FROM marts.upper_labels ORDER BY u')).toEqual([{ u: 'B' }, { u: 'C' }]);
    });

    it('two processes writing different partitions of a table that does not exist yet: one creates it, the other waits and writes into it', async () => {
      await warehouse().ensureSchemas(['staging']);
      const day = (n: number) => ({ key: `2025-02-0${n}`, start: `2025-02-0${n} 00:00:00`, end: `2025-02-0${n + 1} 00:00:00` });
      const scope = (n: number) => ({ column: 'day', complete: false, partitions: [day(n)] });
      const rowsOf = (n: number) => `SELECT CAST('2025-02-0${n}' AS DATE) AS day, ${n} AS id`;
      const other = await openWarehouse(databaseUrl());
      try {
        const first = warehouse().session('staging/new_sales', scope(1));
        expect(await first.replacePartitions(rowsOf(1))).toBe(1);
        // The first step has created the table in its open transaction; the second, in another
        // pool, must not fail on the catalog: it waits for the first to commit.
        const second = other.session('staging/new_sales', scope(2));
        const written = second.replacePartitions(rowsOf(2));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.commit();
        expect(await written).toBe(1);
        await second.commit();
      } finally {
        other.close();
      }
      expect(await warehouse().query('SELECT id FROM staging.new_sales ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    });

    it('processes starting on a new warehouse at once all create its commit log (whichever catalog error the later CREATEs meet)', async () => {
      const others = await Promise.all([1, 2].map(() => openWarehouse(databaseUrl())));
      try {
        for (let round = 0; round < 15; round++) {
          await warehouse().run('DROP SCHEMA IF EXISTS _strata CASCADE');
          // A new CommitLog per round (commitLogOf keeps one per warehouse, which creates once).
          const settled = await Promise.allSettled([warehouse(), ...others].map((w) => new CommitLog(w).ensure()));
          expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
        }
      } finally {
        for (const other of others) other.close();
      }
    });

    it('binds a string array as a text array', async () => {
      expect(await warehouse().query('SELECT $2 = ANY($1) AS found', [['a', 'b'], 'b'])).toEqual([{ found: true }]);
    });
  });

  it('a server that cannot be reached is a user error naming host, port and database, without the password', async () => {
    const url = new URL(postgresUrl());
    url.port = String(await closedPort());
    const error = await openWarehouse(url.toString()).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; userError: boolean },
    );
    expect(error).toMatchObject({ code: 'warehouse_unreachable', userError: true });
    expect(error?.message).toContain(`127.0.0.1:${url.port}/${url.pathname.slice(1)}`);
    expect(error?.message).not.toContain(url.password);
  });
});

if (missing !== undefined) console.log(`warehouse-postgres: skipped (${missing})`);
