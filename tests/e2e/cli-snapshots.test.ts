/**
 * A snapshot through the CLI, over two runs: the first keeps every customer, the second (one
 * customer changed, one deleted, one new) closes the old versions and opens new ones; the
 * materialization records what was inserted and closed, which `runs show` and `status` show. A
 * snapshot without unique_key is a definition error (exit 2, nothing written).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySqlite, queryDuckDb, runCli, Sandbox, stateFiles } from './cli-harness.ts';

const RAW = `select * from read_csv('landing/customers.csv', header = true,
  columns = {'customer_id': 'INTEGER', 'name': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
`;
const SNAPSHOT = `-- materialization: snapshot
-- unique_key: customer_id
-- snapshot_strategy: timestamp(updated_at)
-- invalidate_hard_deletes: true
select * from raw.customers
`;

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

function writeCustomers(dir: string, lines: readonly string[]): void {
  fs.mkdirSync(path.join(dir, 'landing'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'landing', 'customers.csv'), ['customer_id,name,updated_at', ...lines, ''].join('\n'));
}

describe('snapshots in the CLI', () => {
  it('keeps the old and the new versions over two runs', async () => {
    const dir = sandbox.writeProject('two-runs', {
      'strata.json': '{"name": "snapshots"}',
      'defs/raw/customers.sql': RAW,
      'defs/snapshots/customers.sql': SNAPSHOT,
    });
    writeCustomers(dir, ['1,Ana,2025-01-01 00:00:00', '2,Ben,2025-01-01 00:00:00']);
    const first = runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]);
    expect(first.status, first.stderr + first.stdout).toBe(0);

    writeCustomers(dir, ['1,Ana Maria,2025-02-01 08:00:00', '3,Cai,2025-02-01 09:00:00']);
    const second = runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]);
    expect(second.status, second.stderr + second.stdout).toBe(0);

    const rows = await queryDuckDb(
      stateFiles(dir).warehouse,
      `select customer_id as id, name, cast(valid_from as varchar) as valid_from, cast(valid_to as varchar) as valid_to, is_current
       from snapshots.customers order by customer_id, valid_from`,
    );
    expect(rows.map((r) => [r.id, r.name, r.valid_from, r.valid_to === null ? null : r.id === 2 ? 'closed' : r.valid_to, r.is_current])).toEqual([
      [1, 'Ana', '2025-01-01 00:00:00', '2025-02-01 08:00:00', false],
      [1, 'Ana Maria', '2025-02-01 08:00:00', null, true],
      [2, 'Ben', '2025-01-01 00:00:00', 'closed', false],
      [3, 'Cai', '2025-02-01 09:00:00', null, true],
    ]);
    const recorded = querySqlite<{ metadata: string; row_count: number }>(
      stateFiles(dir).storage,
      "select metadata, row_count from materializations where asset_key = 'snapshots/customers' order by timestamp",
    );
    // What the writes did; the schema every write records is left out (see schema-history.test.ts).
    const counts = (metadata: string) => {
      const { rowsInserted, rowsClosed } = JSON.parse(metadata) as Record<string, unknown>;
      return { rowsInserted, rowsClosed };
    };
    expect(recorded.map((r) => [counts(r.metadata), r.row_count])).toEqual([
      [{ rowsInserted: 2, rowsClosed: 0 }, 2],
      [{ rowsInserted: 2, rowsClosed: 2 }, 4],
    ]);
    // runs show, status and status --json say what the latest write did.
    const runId = querySqlite<{ id: string }>(stateFiles(dir).storage, 'select id from runs order by created_at desc limit 1')[0]?.id ?? '';
    const shown = runCli(['runs', 'show', runId.slice(0, 8), '--project', dir]);
    expect(shown.stdout).toMatch(/materialized snapshots\/customers \(4 rows\): snapshot: 2 inserted, 2 closed\n/);
    const status = runCli(['status', '--project', dir]);
    expect(status.stdout).toMatch(/snapshots\/customers\s+fresh .* {2}snapshot: 2 inserted, 2 closed\n/);
    const json = JSON.parse(runCli(['status', '--select', 'snapshots/customers', '--json', '--project', dir]).stdout) as { snapshot?: unknown }[];
    expect(json.map((s) => s.snapshot)).toEqual([{ rowsInserted: 2, rowsClosed: 2 }]);
  });

  it('--full-refresh refuses to drop the history of a snapshot unless --force names it, then rebuilds it from the source', async () => {
    const dir = sandbox.writeProject('full-refresh', {
      'strata.json': '{"name": "snapshots"}',
      'defs/raw/customers.sql': RAW,
      'defs/snapshots/customers.sql': SNAPSHOT,
    });
    writeCustomers(dir, ['1,Ana,2025-01-01 00:00:00']);
    expect(runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]).status).toBe(0);
    writeCustomers(dir, ['1,Ana Maria,2025-02-01 08:00:00']);
    expect(runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]).status).toBe(0);
    const versions = async () => (await queryDuckDb(stateFiles(dir).warehouse, 'select count(*)::integer as n from snapshots.customers'))[0]?.n;
    expect(await versions()).toBe(2);

    const refused = runCli(['materialize', '--select', '+snapshots/customers', '--full-refresh', '--project', dir]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--full-refresh would drop the history of snapshot snapshots/customers');
    expect(refused.stderr).toContain('--force snapshots/customers');
    expect(await versions()).toBe(2);
    const stray = runCli(['materialize', '--select', '+snapshots/customers', '--full-refresh', '--force', 'raw/customers', '--project', dir]);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('--force raw/customers: not a selected snapshot');
    expect(runCli(['materialize', '--select', '+snapshots/customers', '--force', 'snapshots/customers', '--project', dir]).status).toBe(2);

    const forced = runCli(['materialize', '--select', '+snapshots/customers', '--full-refresh', '--force', 'snapshots/customers', '--project', dir]);
    expect(forced.status, forced.stderr + forced.stdout).toBe(0);
    const rows = await queryDuckDb(stateFiles(dir).warehouse, 'select name, is_current from snapshots.customers');
    expect(rows).toEqual([{ name: 'Ana Maria', is_current: true }]);
  });

  it('a snapshot without unique_key is a definition error naming asset and file: exit 2, nothing written', () => {
    const dir = sandbox.writeProject('no-key', {
      'strata.json': '{"name": "snapshots"}',
      'defs/raw/customers.sql': RAW,
      'defs/snapshots/customers.sql': SNAPSHOT.replace('-- unique_key: customer_id\n', ''),
    });
    writeCustomers(dir, ['1,Ana,2025-01-01 00:00:00']);
    const result = runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('snapshots/customers in defs/snapshots/customers.sql: a snapshot needs unique_key');
    expect(fs.existsSync(stateFiles(dir).warehouse)).toBe(false);
  });

  it('a check() column the query does not return fails at first bind, before writing: exit 2, naming asset and file, not retried', async () => {
    const dir = sandbox.writeProject('bad-column', {
      'strata.json': '{"name": "snapshots"}',
      'defs/raw/customers.sql': RAW,
      'defs/snapshots/customers.sql': SNAPSHOT.replace('timestamp(updated_at)', 'check(name, emial)').replace('-- invalidate', '-- retries: 2\n-- invalidate'),
    });
    writeCustomers(dir, ['1,Ana,2025-01-01 00:00:00']);
    const result = runCli(['materialize', '--select', '+snapshots/customers', '--project', dir]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stdout).toContain(
      'snapshots/customers in defs/snapshots/customers.sql: snapshot_strategy check(...) names column "emial", which the query does not return (it returns customer_id, name, updated_at)',
    );
    expect(result.stdout).not.toMatch(/retrying/);
    const tables = await queryDuckDb(stateFiles(dir).warehouse, "select table_name from duckdb_tables() where schema_name = 'snapshots'");
    expect(tables).toEqual([]);
  });
});
