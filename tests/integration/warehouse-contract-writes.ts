/**
 * The warehouse contract, writes: replacing partitions, incremental merges (merge, delete+insert,
 * append; watermarks) and snapshots (SCD type 2). Part of {@link warehouseContract}.
 */
import { describe, expect, it } from 'vitest';
import type { SnapshotConfig } from '../../core/model/definitions/snapshot-config.ts';
import type { PartitionScope, Warehouse } from '../../resources/warehouse.ts';
import type { WarehouseFixture } from './warehouse-contract.ts';

/** Daily windows of January 2025, from `first` to `last` (day numbers). */
function days(first: number, last: number, complete = false): PartitionScope {
  const day = (n: number) => `2025-01-${String(n).padStart(2, '0')}`;
  const partitions = [];
  for (let n = first; n <= last; n++) partitions.push({ key: day(n), start: `${day(n)} 00:00:00`, end: `${day(n + 1)} 00:00:00` });
  return { column: 'day', complete, partitions };
}

/** A VALUES relation of `(day, id, amount)` rows. */
function sales(rows: readonly (readonly [string, number, number])[]): string {
  const values = rows.map(([day, id, amount]) => `(CAST('${day}' AS DATE), ${id}, ${amount})`).join(', ');
  return `SELECT * FROM (VALUES ${values}) AS t(day, id, amount)`;
}

/** A VALUES relation of `(id, name, updated_at)` rows. */
function customers(rows: readonly (readonly [number, string, string])[]): string {
  const values = rows.map(([id, name, at]) => `(${id}, '${name}', CAST('${at}' AS TIMESTAMP))`).join(', ');
  return `SELECT * FROM (VALUES ${values}) AS t(id, name, updated_at)`;
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'no error',
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

export function warehouseWritesContract(warehouse: () => Warehouse, _fixture: WarehouseFixture): void {
  const rows = (sql: string) => warehouse().query(sql);

  describe('replace partitions', () => {
    it('replaces only the step’s window; rows of other partitions stay', async () => {
      const build = warehouse().session('staging/sales', days(1, 3, true));
      const all = [
        ['2025-01-01', 1, 10],
        ['2025-01-02', 2, 20],
        ['2025-01-02', 3, 30],
        ['2025-01-03', 4, 40],
      ] as const;
      expect(await build.replacePartitions(sales(all))).toBe(4);
      expect(build.partitionRows).toEqual(
        new Map([
          ['2025-01-01', 1],
          ['2025-01-02', 2],
          ['2025-01-03', 1],
        ]),
      );
      await build.commit();

      const rerun = warehouse().session('staging/sales', days(2, 2));
      expect(await rerun.replacePartitions(sales([['2025-01-02', 5, 50]]))).toBe(1);
      expect(rerun.partitionRows).toEqual(new Map([['2025-01-02', 1]]));
      expect(rerun.rowsWritten).toBe(1);
      await rerun.commit();
      expect(await rows('SELECT id FROM staging.sales ORDER BY id')).toEqual([{ id: 1 }, { id: 4 }, { id: 5 }]);
    });

    it('refuses rows outside the window (and NULL partition values); the step rolls back whole', async () => {
      const build = warehouse().session('staging/sales', days(1, 2, true));
      await build.replacePartitions(
        sales([
          ['2025-01-01', 1, 10],
          ['2025-01-02', 2, 20],
        ]),
      );
      await build.commit();
      const stray = warehouse().session('staging/sales', days(2, 2));
      expect(
        await codeOf(
          stray.replacePartitions(
            sales([
              ['2025-01-02', 3, 30],
              ['2025-01-03', 4, 40],
            ]),
          ),
        ),
      ).toBe('rows_outside_partition');
      await stray.rollback();
      const nulls = warehouse().session('staging/sales', days(2, 2));
      expect(await codeOf(nulls.replacePartitions('SELECT CAST(NULL AS DATE) AS day, 9 AS id, 90 AS amount'))).toBe('rows_outside_partition');
      await nulls.rollback();
      expect(await rows('SELECT id FROM staging.sales ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    });

    it('replaces static partitions by key, and refuses an unpartitioned step', async () => {
      const scope = (...keys: string[]): PartitionScope => ({ column: 'region', complete: false, partitions: keys.map((key) => ({ key })) });
      const first = warehouse().session('staging/regions', scope('eu', 'us'));
      await first.replacePartitions("SELECT * FROM (VALUES ('eu', 1), ('us', 2)) AS t(region, n)");
      await first.commit();
      const again = warehouse().session('staging/regions', scope('eu'));
      await again.replacePartitions("SELECT * FROM (VALUES ('eu', 3)) AS t(region, n)");
      await again.commit();
      expect(await rows('SELECT region, n FROM staging.regions ORDER BY n')).toEqual([
        { region: 'us', n: 2 },
        { region: 'eu', n: 3 },
      ]);
      expect(await codeOf(warehouse().session('staging/regions').replacePartitions('SELECT 1 AS n'))).toBe('not_partitioned');
    });
  });

  describe('incremental writes', () => {
    const orders = (values: string) => `SELECT * FROM (VALUES ${values}) AS t(id, status)`;

    it('merge: builds the table first, then updates matching keys and inserts new ones, counting both', async () => {
      const first = warehouse().session('staging/orders');
      expect(await first.merge(orders("(1, 'new'), (2, 'new'), (3, 'new')"), { uniqueKey: 'id' })).toEqual({
        mode: 'full',
        rowsInserted: 3,
        rowsUpdated: 0,
        rowsDeleted: 0,
        rowCount: 3,
      });
      await first.commit();
      const second = warehouse().session('staging/orders');
      expect(await second.merge(orders("(2, 'paid'), (4, 'new')"), { uniqueKey: ['id'] })).toEqual({
        mode: 'incremental',
        rowsInserted: 1,
        rowsUpdated: 1,
        rowsDeleted: 0,
        rowCount: 4,
      });
      await second.commit();
      expect(await rows('SELECT id, status FROM staging.orders ORDER BY id')).toEqual([
        { id: 1, status: 'new' },
        { id: 2, status: 'paid' },
        { id: 3, status: 'new' },
        { id: 4, status: 'new' },
      ]);
    });

    it('a rebuild (--full-refresh) of an incremental table keeps the views reading it', async () => {
      const first = warehouse().session('staging/orders');
      await first.merge(orders("(1, 'new'), (2, 'new')"), { uniqueKey: 'id' });
      await first.commit();
      const view = warehouse().session('marts/order_count');
      await view.replaceView('SELECT count(*) AS n FROM staging.orders');
      await view.commit();
      const rebuild = warehouse().session('staging/orders');
      expect(await rebuild.writeIncremental(orders("(1, 'new'), (2, 'paid'), (3, 'new')"), { uniqueKey: 'id' }, true)).toMatchObject({
        mode: 'full',
        rowCount: 3,
      });
      await rebuild.commit();
      expect(await rows('SELECT CAST(n AS INTEGER) AS n FROM marts.order_count')).toEqual([{ n: 3 }]);
    });

    it('merge refuses a key twice in the new rows and a unique key that is not a column; nothing changes', async () => {
      const first = warehouse().session('staging/orders');
      await first.merge(orders("(1, 'new')"), { uniqueKey: 'id' });
      await first.commit();
      const twice = warehouse().session('staging/orders');
      expect(await codeOf(twice.merge(orders("(1, 'a'), (1, 'b')"), { uniqueKey: 'id' }))).toBe('merge_duplicate_keys');
      await twice.rollback();
      const missing = warehouse().session('staging/orders');
      expect(await codeOf(missing.merge(orders("(1, 'a')"), { uniqueKey: 'order_id' }))).toBe('unique_key_invalid');
      await missing.rollback();
      expect(await rows('SELECT id, status FROM staging.orders')).toEqual([{ id: 1, status: 'new' }]);
    });

    it('delete+insert replaces every row of a key; append adds rows', async () => {
      const lines = (values: string) => `SELECT * FROM (VALUES ${values}) AS t(order_id, line)`;
      const build = warehouse().session('staging/lines');
      await build.writeIncremental(lines("(1, 'a'), (1, 'b'), (2, 'c')"), { uniqueKey: 'order_id', strategy: 'delete+insert' }, true);
      await build.commit();
      const replace = warehouse().session('staging/lines');
      expect(await replace.merge(lines("(1, 'z')"), { uniqueKey: 'order_id', strategy: 'delete+insert' })).toMatchObject({
        rowsInserted: 1,
        rowsDeleted: 2,
        rowCount: 2,
      });
      expect(await replace.merge(lines("(3, 'y'), (3, 'y')"), { strategy: 'append' })).toMatchObject({ rowsInserted: 2, rowsUpdated: 0, rowCount: 4 });
      await replace.commit();
      expect(await rows('SELECT order_id, line FROM staging.lines ORDER BY order_id, line')).toEqual([
        { order_id: 1, line: 'z' },
        { order_id: 2, line: 'c' },
        { order_id: 3, line: 'y' },
        { order_id: 3, line: 'y' },
      ]);
    });

    it('a changed set of columns fails the merge unless on_schema_change allows it', async () => {
      const build = warehouse().session('staging/orders');
      await build.merge(orders("(1, 'new')"), { uniqueKey: 'id' });
      await build.commit();
      const wider = "SELECT 2 AS id, 'new' AS status, 5 AS total";
      const refused = warehouse().session('staging/orders');
      expect(await codeOf(refused.merge(wider, { uniqueKey: 'id' }))).toBe('schema_changed');
      await refused.rollback();
      const allowed = warehouse().session('staging/orders');
      await allowed.merge(wider, { uniqueKey: 'id', onSchemaChange: 'append_new_columns' });
      await allowed.commit();
      expect(await rows('SELECT id, status, total FROM staging.orders ORDER BY id')).toEqual([
        { id: 1, status: 'new', total: null },
        { id: 2, status: 'new', total: 5 },
      ]);
    });

    it('a partitioned merge changes only the rows of its window and refuses new rows outside it', async () => {
      const build = warehouse().session('staging/sales', days(1, 2, true));
      await build.merge(
        sales([
          ['2025-01-01', 1, 10],
          ['2025-01-02', 1, 20],
        ]),
        { uniqueKey: 'id' },
      );
      await build.commit();
      const step = warehouse().session('staging/sales', days(2, 2));
      const start = await step.incrementalStart();
      expect(start.hasRows).toBe(true);
      expect(
        await step.merge(
          sales([
            ['2025-01-02', 1, 21],
            ['2025-01-02', 2, 30],
          ]),
          { uniqueKey: 'id' },
        ),
      ).toMatchObject({
        mode: 'incremental',
        rowsInserted: 1,
        rowsUpdated: 1,
        rowCount: 2,
      });
      expect(step.partitionCounts?.get('2025-01-02')).toEqual({ build: 'incremental', rowsInserted: 1, rowsUpdated: 1, rowsDeleted: 0 });
      await step.commit();
      expect(await rows('SELECT id, amount FROM staging.sales ORDER BY amount')).toEqual([
        { id: 1, amount: 10 },
        { id: 1, amount: 21 },
        { id: 2, amount: 30 },
      ]);
      const stray = warehouse().session('staging/sales', days(2, 2));
      expect(await codeOf(stray.merge(sales([['2025-01-05', 3, 1]]), { uniqueKey: 'id' }))).toBe('rows_outside_partition');
      await stray.rollback();
    });

    it('rebuiltTable counts a table filled another way and checks its unique key', async () => {
      const session = warehouse().session('staging/orders');
      await session.replaceTable(orders("(1, 'new'), (2, 'new')"));
      expect(await session.rebuiltTable(['id'])).toEqual({ mode: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, rowCount: 2 });
      expect(await codeOf(session.rebuiltTable(['order_id']))).toBe('unique_key_invalid');
      await session.rollback();
    });

    it('reads where an incremental step starts and the watermark of the table', async () => {
      const empty = warehouse().session('staging/events');
      expect(await empty.incrementalStart()).toEqual({ columns: new Map(), hasRows: false });
      const lowest = await empty.watermarkLiteral('updated_at', undefined, 'TIMESTAMP', warehouse().dialect);
      expect(lowest.value).toBeNull();
      await empty.replaceTable(
        "SELECT * FROM (VALUES (1, CAST('2025-01-02 10:00:00' AS TIMESTAMP)), (2, CAST('2025-01-03 00:00:00' AS TIMESTAMP)), (3, NULL)) AS t(id, updated_at)",
      );
      expect(await empty.all(`SELECT count(*) AS n FROM staging.events WHERE updated_at > ${lowest.literal}`)).toEqual([{ n: 2 }]);
      await empty.commit();
      const step = warehouse().session('staging/events');
      const { columns, hasRows } = await step.incrementalStart();
      expect(hasRows).toBe(true);
      expect(await step.tableWatermark('updated_at')).toBe('2025-01-03 00:00:00');
      expect(await step.tableWatermark('updated_at', 'id < 2')).toBe('2025-01-02 10:00:00');
      const mark = await step.watermarkLiteral('updated_at', columns, undefined, warehouse().dialect);
      expect(mark.value).toBe('2025-01-03 00:00:00');
      expect(await step.all(`SELECT id FROM staging.events WHERE updated_at >= ${mark.literal}`)).toEqual([{ id: 2 }]);
      await step.rollback();
    });
  });

  describe('snapshots (SCD type 2)', () => {
    const config: SnapshotConfig = { uniqueKey: ['id'], strategy: { type: 'timestamp', column: 'updated_at' }, invalidateHardDeletes: true };
    const context = { assetKey: 'marts/customers' };

    it('opens new versions, closes changed ones and hard deletes, and keeps every version', async () => {
      const first = warehouse().session('marts/customers');
      const seed = customers([
        [1, 'ana', '2025-01-01 00:00:00'],
        [2, 'bob', '2025-01-01 00:00:00'],
        [3, 'cy', '2025-01-01 00:00:00'],
      ]);
      expect(await first.writeSnapshot(seed, config, new Date('2025-01-01T12:00:00Z'), context)).toEqual({ inserted: 3, closed: 0, rows: 3 });
      await first.commit();

      const second = warehouse().session('marts/customers');
      const changed = customers([
        [1, 'ana b.', '2025-01-05 00:00:00'],
        [2, 'bob', '2025-01-01 00:00:00'],
        [4, 'dee', '2025-01-04 00:00:00'],
      ]);
      expect(await second.writeSnapshot(changed, config, new Date('2025-01-06T00:00:00Z'), context)).toEqual({ inserted: 2, closed: 2, rows: 5 });
      await second.commit();

      const history = await rows('SELECT id, name, valid_from, valid_to, is_current FROM marts.customers ORDER BY id, valid_from');
      expect(history).toEqual([
        { id: 1, name: 'ana', valid_from: new Date('2025-01-01T00:00:00Z'), valid_to: new Date('2025-01-05T00:00:00Z'), is_current: false },
        { id: 1, name: 'ana b.', valid_from: new Date('2025-01-05T00:00:00Z'), valid_to: null, is_current: true },
        { id: 2, name: 'bob', valid_from: new Date('2025-01-01T00:00:00Z'), valid_to: null, is_current: true },
        { id: 3, name: 'cy', valid_from: new Date('2025-01-01T00:00:00Z'), valid_to: new Date('2025-01-06T00:00:00Z'), is_current: false },
        { id: 4, name: 'dee', valid_from: new Date('2025-01-04T00:00:00Z'), valid_to: null, is_current: true },
      ]);

      const unchanged = warehouse().session('marts/customers');
      expect(await unchanged.writeSnapshot(changed, config, new Date('2025-01-07T00:00:00Z'), context)).toEqual({ inserted: 0, closed: 0, rows: 5 });
      await unchanged.commit();
    });

    it('a forced rebuild (--full-refresh --force) of the history keeps the views reading it', async () => {
      const first = warehouse().session('marts/customers');
      await first.writeSnapshot(customers([[1, 'ana', '2025-01-01 00:00:00']]), config, new Date('2025-01-01T12:00:00Z'), context);
      await first.commit();
      const view = warehouse().session('marts/current_customers');
      await view.replaceView('SELECT id, name FROM marts.customers WHERE is_current');
      await view.commit();
      const rebuild = warehouse().session('marts/customers');
      const again = customers([
        [1, 'ana b.', '2025-01-02 00:00:00'],
        [2, 'bob', '2025-01-02 00:00:00'],
      ]);
      expect(await rebuild.writeSnapshot(again, config, new Date('2025-01-03T00:00:00Z'), context, true)).toEqual({ inserted: 2, closed: 0, rows: 2 });
      await rebuild.commit();
      expect(await rows('SELECT id, name FROM marts.current_customers ORDER BY id')).toEqual([
        { id: 1, name: 'ana b.' },
        { id: 2, name: 'bob' },
      ]);
    });

    it('refuses duplicate keys in the source before writing, and never lets another write replace the history', async () => {
      const first = warehouse().session('marts/customers');
      await first.writeSnapshot(customers([[1, 'ana', '2025-01-01 00:00:00']]), config, new Date('2025-01-01T12:00:00Z'), context);
      await first.commit();
      const twice = warehouse().session('marts/customers');
      const duplicated = customers([
        [1, 'a', '2025-01-02 00:00:00'],
        [1, 'b', '2025-01-02 00:00:00'],
      ]);
      expect(await codeOf(twice.writeSnapshot(duplicated, config, new Date(), context))).toBe('snapshot_key_not_unique');
      await twice.rollback();
      const replace = warehouse().session('marts/customers');
      expect(await codeOf(replace.replaceTable('SELECT 1 AS id'))).toBe('snapshot_replace_refused');
      await replace.rollback();
      expect(await rows('SELECT id, name, is_current FROM marts.customers')).toEqual([{ id: 1, name: 'ana', is_current: true }]);
    });
  });
}
