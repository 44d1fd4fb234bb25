/**
 * The warehouse contract suite: every Warehouse implementation must pass it. Call
 * {@link warehouseContract} from an implementation's test file with a fixture that opens a fresh,
 * empty warehouse in a temp folder. The SQL here is what DuckDB and Postgres both speak; the
 * little that differs (a row source of n rows) comes from the fixture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Warehouse } from '../../resources/warehouse.ts';
import { commitLogOf } from '../../resources/warehouse-commit-log.ts';
import { warehouseChecksContract } from './warehouse-contract-checks.ts';
import { warehouseWritesContract } from './warehouse-contract-writes.ts';

/** A scan of `raw.big` that takes a second or two: a product with `raw.small` no index or hash can shortcut. */
const SLOW_SCAN = 'SELECT count(*) AS n FROM raw.big AS a, raw.small AS b WHERE (a.x * b.x) % 7 = 3';

/** How the contract opens one implementation, and the bits of SQL that differ between them. */
export interface WarehouseFixture {
  /** Opens a new, empty warehouse whose files live in `folder`. */
  open(folder: string): Promise<Warehouse>;
  /** A relation (usable after FROM) of `n` rows with one integer column `x`, 0 … n−1. */
  series(n: number): string;
  /** The type names the schema check expects for an INTEGER and a text column. */
  readonly typeNames: { readonly integer: string; readonly text: string };
  /**
   * Whether the warehouse estimates a running statement's progress (default true). When false
   * (Postgres has no estimate), the contract asserts that `progress()` stays `undefined` while a
   * statement runs, instead of asserting percentages.
   */
  readonly reportsProgress?: boolean;
}

/** Gives each test a fresh warehouse from the fixture, in a temp folder removed afterwards. */
export function useWarehouse(fixture: WarehouseFixture): () => Warehouse {
  return useWarehouseIn(fixture).warehouse;
}

/** {@link useWarehouse}, with the test's temp folder too (for files the warehouse reads). */
export function useWarehouseIn(fixture: WarehouseFixture): { warehouse: () => Warehouse; folder: () => string } {
  let warehouse: Warehouse | undefined;
  let folder: string | undefined;
  beforeEach(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-warehouse-'));
    warehouse = await fixture.open(folder);
    await warehouse.ensureSchemas(['raw', 'staging', 'marts']);
  });
  afterEach(() => {
    warehouse?.close();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
    warehouse = undefined;
  });
  return {
    warehouse: () => {
      if (warehouse === undefined) throw new Error('the warehouse is only available inside a test');
      return warehouse;
    },
    folder: () => {
      if (folder === undefined) throw new Error('the folder is only available inside a test');
      return folder;
    },
  };
}

/**
 * Defines the contract tests for the warehouse `fixture` opens.
 *
 * @example
 * warehouseContract('DuckDBWarehouse', { open: (folder) => DuckDBWarehouse.open(join(folder, 'w.duckdb')), series: ..., typeNames: ... });
 */
export function warehouseContract(name: string, fixture: WarehouseFixture): void {
  describe(`${name} warehouse contract`, () => {
    const { warehouse, folder } = useWarehouseIn(fixture);

    describe('statements and queries', () => {
      it('runs statements outside any step and binds $1, $2, … parameters', async () => {
        await warehouse().run('CREATE TABLE raw.people (id INTEGER, name VARCHAR, active BOOLEAN)');
        await warehouse().run('INSERT INTO raw.people VALUES ($1, $2, $3), ($4, $5, $6)', [1, "O'Brien; DROP TABLE x", true, 2, null, false]);
        expect(await warehouse().query('SELECT id, name, active FROM raw.people WHERE id >= $1 ORDER BY id', [1])).toEqual([
          { id: 1, name: "O'Brien; DROP TABLE x", active: true },
          { id: 2, name: null, active: false },
        ]);
      });

      it('returns typed values: safe integers as numbers, wider ones as exact text, decimals as numbers, dates and timestamps as Dates', async () => {
        const [row] = await warehouse().query(
          `SELECT CAST(42 AS BIGINT) AS small, CAST(9007199254740993 AS BIGINT) AS wide, CAST(12.34 AS DECIMAL(10,2)) AS amount,
                  CAST('2025-01-02' AS DATE) AS day, CAST('2025-01-02 03:04:05' AS TIMESTAMP) AS at, CAST(1.5 AS DOUBLE PRECISION) AS ratio`,
        );
        expect(row).toEqual({
          small: 42,
          wide: '9007199254740993',
          amount: 12.34,
          day: new Date('2025-01-02T00:00:00Z'),
          at: new Date('2025-01-02T03:04:05Z'),
          ratio: 1.5,
        });
      });

      it('binds a Date as a timestamp and a bigint parameter as an integer', async () => {
        const [row] = await warehouse().query('SELECT CAST($1 AS TIMESTAMP) AS at, CAST($2 AS BIGINT) + 1 AS next', [new Date('2025-03-01T10:00:00Z'), 41n]);
        expect(row).toEqual({ at: new Date('2025-03-01T10:00:00Z'), next: 42 });
      });

      it('a statement in error rejects and leaves the warehouse usable', async () => {
        await expect(warehouse().query('SELECT * FROM raw.no_such_table')).rejects.toThrow(/no_such_table/);
        expect(await warehouse().query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      });

      it('ensureSchemas creates schemas once, however often it is called', async () => {
        await warehouse().ensureSchemas(['features', 'features', 'raw']);
        await warehouse().ensureSchemas(['features']);
        await warehouse().run('CREATE TABLE features.f AS SELECT 1 AS x');
        expect(await warehouse().query('SELECT x FROM features.f')).toEqual([{ x: 1 }]);
      });
    });

    describe('catalog', () => {
      it('lists tables and views, and the columns of an asset table in order with their types', async () => {
        await warehouse().run('CREATE TABLE staging.orders (order_id INTEGER, status VARCHAR, total DECIMAL(10,2))');
        await warehouse().run('CREATE VIEW marts.open_orders AS SELECT * FROM staging.orders');
        const relations = (await warehouse().relations()).filter((r) => ['staging', 'marts'].includes(r.schema));
        expect(relations).toEqual([
          { schema: 'marts', name: 'open_orders', kind: 'view' },
          { schema: 'staging', name: 'orders', kind: 'table' },
        ]);
        const columns = await warehouse().columns('staging/orders');
        expect([...columns.keys()]).toEqual(['order_id', 'status', 'total']);
        expect(columns.get('order_id')).toBe(fixture.typeNames.integer);
        expect(await warehouse().columns('staging/missing')).toEqual(new Map());
      });

      it("a step sees its own uncommitted table in the catalog; others don't until it commits", async () => {
        const session = warehouse().session('staging/fresh');
        await session.replaceTable('SELECT 1 AS id, CAST(NULL AS VARCHAR) AS label');
        expect([...(await session.tableColumns('staging/fresh')).keys()]).toEqual(['id', 'label']);
        expect([...(await session.relationColumns('SELECT id, label, id + 1 AS next FROM staging.fresh')).keys()]).toEqual(['id', 'label', 'next']);
        expect(await warehouse().columns('staging/fresh')).toEqual(new Map());
        await session.commit();
        expect([...(await warehouse().columns('staging/fresh')).keys()]).toEqual(['id', 'label']);
      });

      it('a step’s catalog tells replaced, altered and new tables apart, and leaves temporary ones out', async () => {
        await warehouse().run('CREATE TABLE staging.kept (id INTEGER)');
        await warehouse().run('CREATE TABLE staging.replaced (id INTEGER)');
        await warehouse().run('CREATE TABLE staging.altered (id INTEGER)');
        await warehouse().run('CREATE VIEW marts.seen AS SELECT 1 AS one');
        const session = warehouse().session('staging/kept');
        const byName = async () => new Map((await session.catalog()).filter((e) => e.schema !== '_strata').map((e) => [`${e.schema}.${e.name}`, e]));
        const before = await byName();
        expect([...before.keys()].sort()).toEqual(['marts.seen', 'staging.altered', 'staging.kept', 'staging.replaced']);
        expect(before.get('marts.seen')?.kind).toBe('view');
        await session.run('DROP TABLE staging.replaced');
        await session.run('CREATE TABLE staging.replaced (id INTEGER)');
        await session.run('ALTER TABLE staging.altered ADD COLUMN extra INTEGER');
        await session.run('CREATE TABLE staging.added (id INTEGER)');
        await session.run('CREATE TEMPORARY TABLE scratch (id INTEGER)');
        const after = await byName();
        await session.rollback();
        expect([...after.keys()].sort()).toEqual(['marts.seen', 'staging.added', 'staging.altered', 'staging.kept', 'staging.replaced']);
        expect(after.get('staging.kept')).toEqual(before.get('staging.kept'));
        expect(after.get('marts.seen')).toEqual(before.get('marts.seen'));
        expect(after.get('staging.replaced')?.identity).not.toBe(before.get('staging.replaced')?.identity);
        const altered = [after.get('staging.altered'), before.get('staging.altered')].map((e) => `${e?.identity}/${e?.shape}`);
        expect(altered[0]).not.toBe(altered[1]);
      });
    });

    describe('step transactions', () => {
      it('nothing touches the warehouse until the step issues a statement', async () => {
        const session = warehouse().session('staging/idle');
        expect(session.used).toBe(false);
        expect(session.tableOf('staging/idle')).toBe('"staging"."idle"');
        await session.commit();
        expect(await warehouse().columns('staging/idle')).toEqual(new Map());
      });

      it('replaceTable writes the table in the step, counts its rows and binds parameters', async () => {
        const session = warehouse().session('staging/numbers');
        expect(await session.replaceTable(`SELECT x FROM ${fixture.series(5)} AS s WHERE x >= $1`, [2])).toBe(3);
        expect(session.used).toBe(true);
        expect(session.rowsWritten).toBe(3);
        await session.commit();
        expect(await warehouse().query('SELECT x FROM staging.numbers ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }, { x: 4 }]);
      });

      it('a failing replacement leaves the old table, rows and all', async () => {
        const first = warehouse().session('staging/codes');
        await first.replaceTable("SELECT * FROM (VALUES (1, '10'), (2, '20')) AS t(id, code)");
        await first.commit();
        const second = warehouse().session('staging/codes');
        await expect(second.replaceTable("SELECT id, CAST(code AS INTEGER) AS code FROM (VALUES (1, '11'), (2, 'x')) AS t(id, code)")).rejects.toThrow();
        await second.rollback();
        expect(await warehouse().query('SELECT id, code FROM staging.codes ORDER BY id')).toEqual([
          { id: 1, code: '10' },
          { id: 2, code: '20' },
        ]);
      });

      it('rolls back every statement of a failed step, and commits every statement of a good one', async () => {
        await warehouse().run('CREATE TABLE raw.ledger (id INTEGER)');
        const failed = warehouse().session('raw/ledger');
        await failed.run('INSERT INTO raw.ledger VALUES (1)');
        expect(await failed.changed('INSERT INTO raw.ledger VALUES (2), (3)')).toBe(2);
        expect(await failed.all('SELECT count(*) AS n FROM raw.ledger')).toEqual([{ n: 3 }]);
        await failed.rollback();
        await failed.rollback(); // a second rollback is harmless
        expect(await warehouse().query('SELECT count(*) AS n FROM raw.ledger')).toEqual([{ n: 0 }]);

        const good = warehouse().session('raw/ledger');
        await good.run('INSERT INTO raw.ledger VALUES ($1)', [7]);
        await good.runPrepared('INSERT INTO raw.ledger VALUES ($1)', [8]);
        await good.runPrepared('INSERT INTO raw.ledger VALUES ($1)', [9]);
        await good.commit();
        expect(await warehouse().query('SELECT id FROM raw.ledger ORDER BY id')).toEqual([{ id: 7 }, { id: 8 }, { id: 9 }]);
        await expect(good.run('SELECT 1')).rejects.toThrow(/ended/);
      });

      it('replaceTableFromCsv loads a CSV file with its header, typed as told; a file it cannot read leaves the old table', async () => {
        const csv = path.join(folder(), 'countries.csv');
        fs.writeFileSync(csv, 'code,name,population\nfr,France,68000000\n"it","Italy, Republic of",59000000\n');
        const session = warehouse().session('raw/countries');
        expect(await session.replaceTableFromCsv(csv, { population: 'BIGINT', code: 'VARCHAR' })).toBe(2);
        await session.commit();
        expect(await warehouse().query('SELECT code, name, population FROM raw.countries ORDER BY code')).toEqual([
          { code: 'fr', name: 'France', population: 68000000 },
          { code: 'it', name: 'Italy, Republic of', population: 59000000 },
        ]);
        fs.writeFileSync(csv, 'code,population\nde,many\n');
        const broken = warehouse().session('raw/countries');
        await expect(broken.replaceTableFromCsv(csv, { population: 'BIGINT' })).rejects.toThrow();
        await broken.rollback();
        expect(await warehouse().query('SELECT count(*) AS n FROM raw.countries')).toEqual([{ n: 2 }]);
      });

      it('replaceView replaces the asset view in the step', async () => {
        const session = warehouse().session('marts/answer');
        await session.replaceView('SELECT 42 AS answer');
        await session.commit();
        expect(await warehouse().query('SELECT answer FROM marts.answer')).toEqual([{ answer: 42 }]);
      });

      it('readers at once see the committed data while a step writes, and the step’s rows once it commits', async () => {
        await warehouse().run(`CREATE TABLE raw.events AS SELECT x FROM ${fixture.series(1000)} AS s`);
        const writer = warehouse().session('raw/events');
        await writer.run('DELETE FROM raw.events WHERE x < 500');
        const count = 'SELECT count(*) AS n FROM raw.events';
        const readers = await Promise.all([
          warehouse().query(count),
          warehouse().query(count),
          warehouse().session('marts/reader').all(count),
          warehouse().query(`SELECT sum(x) AS total FROM raw.events`),
        ]);
        expect(readers).toEqual([[{ n: 1000 }], [{ n: 1000 }], [{ n: 1000 }], [{ total: 499500 }]]);
        await writer.commit();
        expect(await warehouse().query(count)).toEqual([{ n: 500 }]);
      });
    });

    describe('interrupt and progress', () => {
      it('reports no progress while no statement runs; a running scan reports a percentage between 0 and 100', async () => {
        await warehouse().run(`CREATE TABLE raw.big AS SELECT x FROM ${fixture.series(1_000_000)} AS s`);
        await warehouse().run(`CREATE TABLE raw.small AS SELECT x FROM ${fixture.series(200)} AS s`);
        const session = warehouse().session('marts/slow');
        expect(session.progress()).toBeUndefined();
        let done = false;
        const running = session.all(SLOW_SCAN).finally(() => (done = true));
        const seen: number[] = [];
        const started = Date.now();
        if (fixture.reportsProgress === false) {
          while (!done && Date.now() - started < 300) {
            expect(session.progress()).toBeUndefined();
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          session.interrupt();
          await running.catch(() => undefined);
          await session.rollback();
          expect(session.progress()).toBeUndefined();
          return;
        }
        while (!done && Date.now() - started < 20_000 && !seen.some((p) => p > 0 && p < 100)) {
          const progress = session.progress();
          if (progress) seen.push(progress.percentage);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        session.interrupt();
        await running.catch(() => undefined);
        await session.rollback();
        expect(seen.length).toBeGreaterThan(0);
        for (const p of seen) expect(p).toBeGreaterThanOrEqual(0);
        for (const p of seen) expect(p).toBeLessThanOrEqual(100);
        expect(session.progress()).toBeUndefined();
      });

      it('interrupt stops a long statement at once, refuses later ones, and leaves the warehouse usable', async () => {
        await warehouse().run(`CREATE TABLE raw.wide AS SELECT x FROM ${fixture.series(200_000)} AS s`);
        const session = warehouse().session('marts/endless');
        const running = session.all('SELECT count(*) AS n FROM raw.wide AS a, raw.wide AS b WHERE a.x * b.x = -1');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const interruptedAt = Date.now();
        session.interrupt();
        await expect(running).rejects.toThrow();
        expect(Date.now() - interruptedAt).toBeLessThan(5_000);
        await expect(session.all('SELECT 1')).rejects.toMatchObject({ code: 'interrupted' });
        await session.rollback();
        expect(await warehouse().query('SELECT count(*) AS n FROM raw.wide')).toEqual([{ n: 200_000 }]);
      });
    });

    describe('commit log', () => {
      it('a commit row written in the step exists exactly when the step commits, and is deleted by id', async () => {
        const log = commitLogOf(warehouse());
        await log.ensure();
        const row = (commitId: string) => ({
          commitId,
          runId: 'r1',
          stepId: 'staging/orders',
          assetKey: 'staging/orders',
          partitions: ['2025-01-01'],
          committedAt: 1_700_000_000_000,
          record: '{}',
        });
        const rolledBack = warehouse().session('staging/orders');
        await log.write(rolledBack, row('c0'));
        await rolledBack.rollback();
        log.settle('c0', false);
        for (const id of ['c1', 'c2', 'c3']) {
          const session = warehouse().session('staging/orders');
          await log.write(session, row(id));
          await session.commit();
          log.settle(id, false);
        }
        expect((await log.pending()).map((r) => r.commitId)).toEqual(['c1', 'c2', 'c3']);
        expect((await log.pending())[0]).toEqual(row('c1'));
        await log.delete(['c1', 'c3']);
        expect((await log.pending()).map((r) => r.commitId)).toEqual(['c2']);
      });
    });

    warehouseWritesContract(warehouse, fixture);
    warehouseChecksContract(warehouse, fixture);
  });
}
