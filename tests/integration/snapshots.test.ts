import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { openTempWorkspace, withoutSchema, type TempWorkspace } from './temp-workspace.ts';

/** The source: a CSV in the landing folder, loaded by a plain table asset. */
const RAW = `select * from read_csv('landing/customers.csv', header = true,
  columns = {'customer_id': 'INTEGER', 'name': 'VARCHAR', 'email': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
`;

type Customer = readonly [id: number, name: string, email: string | null, updatedAt: string];

const ANA: Customer = [1, 'Ana', 'ana@example.com', '2025-01-01 00:00:00'];
const BEN: Customer = [2, 'Ben', 'ben@example.com', '2025-01-01 00:00:00'];
const CAI: Customer = [3, 'Cai', 'cai@example.com', '2025-01-01 00:00:00'];

function snapshotSql(header: readonly string[]): string {
  return ['-- materialization: snapshot', '-- unique_key: customer_id', ...header, 'select * from raw.customers', ''].join('\n');
}

/** One history row: id, name, valid_from, valid_to, is_current (times as text). */
type Version = [number, string, string | null, string | null, boolean];

describe('snapshots (slowly changing dimensions, type 2)', () => {
  let workspace: TempWorkspace;

  async function open(header: readonly string[]): Promise<void> {
    workspace = await openTempWorkspace(
      'strata-snapshots-',
      { name: 'snapshots-test', concurrency: 1 },
      {
        'defs/raw/customers.sql': RAW,
        'defs/snapshots/customers.sql': snapshotSql(header),
      },
    );
  }

  afterEach(() => workspace?.close());

  function source(rows: readonly Customer[]): void {
    const lines = rows.map(([id, name, email, at]) => `${id},${name},${email ?? ''},${at}`);
    fs.mkdirSync(path.join(workspace.dir, 'landing'), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, 'landing', 'customers.csv'), ['customer_id,name,email,updated_at', ...lines, ''].join('\n'));
  }

  /** Runs the project; returns the snapshot step's outcome and its recorded metadata. */
  async function run(): Promise<{ status: string; error?: string; metadata: Record<string, unknown> }> {
    const project = await loadProject(workspace.dir);
    const result = await workspace.run(project);
    const step = result.steps.find((s) => s.key === 'snapshots/customers');
    const [latest] = await workspace.storage.latestMaterializations(['snapshots/customers']);
    return {
      status: step?.status ?? 'missing',
      ...(step?.error === undefined ? {} : { error: step.error }),
      metadata: step?.status === 'success' ? withoutSchema(latest?.metadata) : {},
    };
  }

  async function history(): Promise<Version[]> {
    const rows = await workspace.warehouse.query<{ id: number; name: string; f: string | null; t: string | null; c: boolean }>(
      `select customer_id as id, name, cast(valid_from as varchar) as f, cast(valid_to as varchar) as t, is_current as c
       from snapshots.customers order by customer_id, valid_from`,
    );
    return rows.map((r) => [r.id, r.name, r.f, r.t, r.c]);
  }

  describe('timestamp strategy', () => {
    beforeEach(() => open(['-- snapshot_strategy: timestamp(updated_at)']));

    it('first build keeps every row as its current version, valid from its updated_at', async () => {
      source([ANA, BEN]);
      expect(await run()).toEqual({ status: 'success', metadata: { rowsInserted: 2, rowsClosed: 0 } });
      expect(await history()).toEqual([
        [1, 'Ana', '2025-01-01 00:00:00', null, true],
        [2, 'Ben', '2025-01-01 00:00:00', null, true],
      ]);
      const columns = await workspace.warehouse.query<{ column_name: string; column_type: string }>('describe snapshots.customers');
      expect(columns.map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
        'customer_id INTEGER',
        'name VARCHAR',
        'email VARCHAR',
        'updated_at TIMESTAMP',
        'valid_from TIMESTAMP',
        'valid_to TIMESTAMP',
        'is_current BOOLEAN',
      ]);
    });

    it('a changed row closes its old version at the new updated_at and opens a new current one; an unchanged source writes nothing', async () => {
      source([ANA, BEN]);
      await run();
      source([[1, 'Ana Maria', 'ana@example.com', '2025-02-01 09:30:00'], BEN]);
      expect((await run()).metadata).toEqual({ rowsInserted: 1, rowsClosed: 1 });
      const expected: Version[] = [
        [1, 'Ana', '2025-01-01 00:00:00', '2025-02-01 09:30:00', false],
        [1, 'Ana Maria', '2025-02-01 09:30:00', null, true],
        [2, 'Ben', '2025-01-01 00:00:00', null, true],
      ];
      expect(await history()).toEqual(expected);
      // Same source again: nothing written.
      expect((await run()).metadata).toEqual({ rowsInserted: 0, rowsClosed: 0 });
      expect(await history()).toEqual(expected);
    });

    it('a hard delete is kept current without invalidate_hard_deletes', async () => {
      source([ANA, BEN]);
      await run();
      source([ANA]);
      expect((await run()).metadata).toEqual({ rowsInserted: 0, rowsClosed: 0 });
      expect((await history()).map((v) => v[4])).toEqual([true, true]);
    });

    it('a duplicate key in the source fails the step and writes nothing', async () => {
      source([ANA, BEN]);
      await run();
      const before = await history();
      source([ANA, [2, 'Ben', 'b@x', '2025-03-01 00:00:00'], [2, 'Benjamin', 'b@y', '2025-03-02 00:00:00'], CAI]);
      const outcome = await run();
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(
        /unique_key customer_id is not unique in the snapshot's source: 1 key appear more than once, e\.g\. customer_id = 2 \(2 rows\); nothing was written/,
      );
      expect(await history()).toEqual(before);
    });

    it('a NULL key or update time in the source fails the step and writes nothing', async () => {
      source([ANA]);
      await run();
      fs.writeFileSync(
        path.join(workspace.dir, 'landing', 'customers.csv'),
        'customer_id,name,email,updated_at\n1,Ana,a@x,2025-04-01 00:00:00\n,Nobody,n@x,2025-04-01 00:00:00\n',
      );
      const outcome = await run();
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toBe("1 source row has a NULL in customer_id or updated_at: a snapshot's unique_key and timestamp column must not be NULL");
      expect(await history()).toEqual([[1, 'Ana', '2025-01-01 00:00:00', null, true]]);
    });

    it('a unique_key the query does not return fails before anything is written, naming asset and file', async () => {
      fs.writeFileSync(
        path.join(workspace.dir, 'defs/snapshots/customers.sql'),
        snapshotSql(['-- snapshot_strategy: timestamp(updated_at)']).replace('unique_key: customer_id', 'unique_key: id'),
      );
      source([ANA]);
      const outcome = await run();
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(/unique_key names column "id", which the query does not return \(it returns customer_id, name, email, updated_at\)/);
      expect(await workspace.warehouse.query(`select * from duckdb_tables() where schema_name = 'snapshots'`)).toEqual([]);
    });
  });

  describe('check strategy', () => {
    it('compares the chosen columns only, and times versions with the step start', async () => {
      await open(['-- snapshot_strategy: check(name)']);
      source([ANA, BEN]);
      await run();
      // Only email changed (not checked): nothing written.
      source([[1, 'Ana', 'new@example.com', '2025-05-05 00:00:00'], BEN]);
      expect((await run()).metadata).toEqual({ rowsInserted: 0, rowsClosed: 0 });
      expect(await history()).toHaveLength(2);
      // The checked column changed: a new version, valid from the step's start.
      source([[1, 'Anna', 'new@example.com', '2025-05-05 00:00:00'], BEN]);
      const before = Date.now();
      expect((await run()).metadata).toEqual({ rowsInserted: 1, rowsClosed: 1 });
      const after = Date.now();
      const rows = await workspace.warehouse.query<{ name: string; f: number; t: number | null; email: string }>(
        'select name, email, epoch_ms(valid_from) as f, epoch_ms(valid_to) as t from snapshots.customers where customer_id = 1 order by valid_from',
      );
      expect(rows.map((r) => [r.name, r.email])).toEqual([
        ['Ana', 'ana@example.com'],
        ['Anna', 'new@example.com'],
      ]);
      const [old, current] = rows;
      expect(old?.t).toBe(current?.f);
      expect(current?.f).toBeGreaterThanOrEqual(before - 1000);
      expect(current?.f).toBeLessThanOrEqual(after);
      expect(current?.t).toBeNull();
    });

    it('with invalidate_hard_deletes closes a deleted row, and a row that comes back opens a new version', async () => {
      await open(['-- snapshot_strategy: check(all)', '-- invalidate_hard_deletes: true']);
      source([ANA, BEN]);
      await run();
      source([ANA]);
      expect((await run()).metadata).toEqual({ rowsInserted: 0, rowsClosed: 1 });
      let versions = await history();
      expect(versions.map((v) => [v[0], v[3] === null, v[4]])).toEqual([
        [1, true, true],
        [2, false, false],
      ]);
      source([ANA, BEN]);
      expect((await run()).metadata).toEqual({ rowsInserted: 1, rowsClosed: 0 });
      versions = await history();
      expect(versions.map((v) => [v[0], v[1], v[3] === null, v[4]])).toEqual([
        [1, 'Ana', true, true],
        [2, 'Ben', false, false],
        [2, 'Ben', true, true],
      ]);
    });

    it('a blocking check that fails leaves the history exactly as it was', async () => {
      await open(['-- snapshot_strategy: check(all)', '-- invalidate_hard_deletes: true', '-- check: not_null(email)']);
      source([ANA, BEN]);
      expect((await run()).status).toBe('success');
      const before = await workspace.warehouse.query('select * from snapshots.customers order by all');
      source([[1, 'Ana', null, '2025-06-01 00:00:00'], CAI]);
      const outcome = await run();
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(/not_null\(email\)/);
      expect(await workspace.warehouse.query('select * from snapshots.customers order by all')).toEqual(before);
    });
  });

  it('a column the query gains is added to the history, NULL in older versions', async () => {
    await open(['-- snapshot_strategy: timestamp(updated_at)']);
    source([ANA, BEN]);
    await run();
    fs.writeFileSync(
      path.join(workspace.dir, 'defs/snapshots/customers.sql'),
      snapshotSql(['-- snapshot_strategy: timestamp(updated_at)']).replace('select * from', 'select *, upper(name) as shout from'),
    );
    source([[1, 'Ana', 'ana@example.com', '2025-02-01 00:00:00'], BEN]);
    expect((await run()).metadata).toEqual({ rowsInserted: 1, rowsClosed: 1 });
    const rows = await workspace.warehouse.query<{ id: number; shout: string | null; c: boolean }>(
      'select customer_id as id, shout, is_current as c from snapshots.customers order by customer_id, valid_from',
    );
    expect(rows.map((r) => [r.id, r.shout, r.c])).toEqual([
      [1, null, false],
      [1, 'ANA', true],
      [2, null, true],
    ]);
  });

  it.each([
    ['DATE', 'cast(updated_at as date)'],
    ['TIMESTAMP WITH TIME ZONE', "cast(updated_at || '+00' as timestamptz)"],
  ])('timestamp(updated_at) of type %s: valid_from/valid_to take its type, a hard delete is closed at the step start', async (type, expression) => {
    await open(['-- snapshot_strategy: timestamp(updated_at)', '-- invalidate_hard_deletes: true']);
    fs.writeFileSync(
      path.join(workspace.dir, 'defs/snapshots/customers.sql'),
      snapshotSql(['-- snapshot_strategy: timestamp(updated_at)', '-- invalidate_hard_deletes: true']).replace(
        'select * from',
        `select customer_id, name, ${expression} as updated_at from`,
      ),
    );
    source([ANA, BEN]);
    await run();
    source([ANA]);
    const before = Date.now();
    expect((await run()).metadata).toEqual({ rowsInserted: 0, rowsClosed: 1 });
    const rows = await workspace.warehouse.query<{ t: string; ms: number }>(
      'select typeof(valid_to) as t, epoch_ms(valid_to) as ms from snapshots.customers where customer_id = 2',
    );
    expect(rows[0]?.t).toBe(type);
    const dayStart = Date.UTC(new Date(before).getUTCFullYear(), new Date(before).getUTCMonth(), new Date(before).getUTCDate());
    expect(rows[0]?.ms).toBeGreaterThanOrEqual(type === 'DATE' ? dayStart : before - 1000);
    expect(rows[0]?.ms).toBeLessThanOrEqual(Date.now());
  });

  it('a snapshot table written before this warehouse was opened is never replaced either', async () => {
    await open(['-- snapshot_strategy: timestamp(updated_at)']);
    // As an earlier process left it: the history table with its mark, found in the catalog.
    await workspace.warehouse.query(`create schema if not exists snapshots`);
    await workspace.warehouse.query(`create table snapshots.customers as select 1 as customer_id, 'Ana' as name`);
    await workspace.warehouse.query(`comment on table snapshots.customers is 'strata:snapshot'`);
    fs.writeFileSync(path.join(workspace.dir, 'defs/snapshots/customers.sql'), 'select * from raw.customers\n');
    source([ANA]);
    const outcome = await run();
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/holds the history of a snapshot/);
  });

  it('a snapshot table is never replaced by another materialization of the same asset', async () => {
    await open(['-- snapshot_strategy: timestamp(updated_at)']);
    source([ANA]);
    await run();
    fs.writeFileSync(path.join(workspace.dir, 'defs/snapshots/customers.sql'), 'select * from raw.customers\n');
    const outcome = await run();
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(
      /"snapshots"."customers" holds the history of a snapshot, which cannot be rebuilt from its source: Strata does not replace it/,
    );
    expect(await history()).toEqual([[1, 'Ana', '2025-01-01 00:00:00', null, true]]);
    fs.writeFileSync(path.join(workspace.dir, 'defs/snapshots/customers.sql'), '-- materialization: view\nselect * from raw.customers\n');
    const asView = await run();
    expect(asView.status).toBe('failed');
    expect(asView.error).toMatch(/holds the history of a snapshot/);
    expect(await history()).toEqual([[1, 'Ana', '2025-01-01 00:00:00', null, true]]);
  });
});
