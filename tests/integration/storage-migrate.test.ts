/**
 * `assets storage migrate --to postgres://…` against the test cluster (tests/postgres.ts), each
 * test in a Postgres schema of its own: a copy of the example backfilled by the real CLI is
 * migrated, then every reading command (status, stale set, runs, run events, check history) and
 * the storage reads behind the UI (lineage, latest materializations and observations, data
 * sequence) answer the same from Postgres as from SQLite, also after a source changes, and new
 * runs on Postgres continue the ids. A storage with a row in every table of its schema is copied
 * table for table (a table the copy forgot fails here). Refusals: a target with rows, a
 * server that cannot be reached (no password shown), a run still running, --dry-run writes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateStorage } from '../../core/engine/storage-migration/storage-migration.ts';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { SqliteStorage } from '../../storage/sqlite-storage.ts';
import type { Storage } from '../../storage/storage.ts';
import { parseJson, querySqlite, runCli, Sandbox, stackFrames, stateFiles, type CliResult } from '../e2e/cli-harness.ts';
import { closedPort, onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { fillEveryTable } from './storage-migrate-fixture.ts';
import { anEvent, aRun } from './storage-fixtures.ts';

const missing = postgresMissing();
const SELECT = '+marts/daily_revenue_by_location';
let sandbox: Sandbox;
const schemas: string[] = [];

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(async () => {
  sandbox?.cleanup();
  if (schemas.length > 0) await onPostgres(...schemas.map((s) => `drop schema if exists ${s} cascade`));
});

/** A new empty schema on the test cluster and the URL that makes it current. */
async function freshSchema(name: string): Promise<{ readonly schema: string; readonly url: string }> {
  const schema = `migrate_${name}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  await onPostgres(`create schema ${schema}`);
  schemas.push(schema);
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: url.toString() };
}

/** `assets storage migrate --to env:STRATA_MIGRATE_TO` with the URL in that variable. */
function migrate(project: string, url: string, ...extra: string[]): CliResult {
  return runCli(['storage', 'migrate', '--to', 'env:STRATA_MIGRATE_TO', '--project', project, ...extra], { STRATA_MIGRATE_TO: url });
}

/** The same CLI command on the project's SQLite storage and on Postgres `url`. */
function onBoth(args: readonly string[], project: string, url: string): [sqlite: CliResult, postgres: CliResult] {
  const sqlite = runCli([...args, '--project', project]);
  const postgres = runCli([...args, '--project', project], { STRATA_STORAGE: url });
  expect(sqlite.status, sqlite.stderr).toBe(0);
  expect(postgres.status, postgres.stderr).toBe(0);
  return [sqlite, postgres];
}

/** An asset of `status --json`. */
interface StatusRow {
  readonly key: string;
  readonly runId: string | null;
  readonly lastMaterializedAt: number | null;
}

/** A `status` row without the time a source (no run) was last observed. */
function withoutObservedTime(row: StatusRow): StatusRow {
  return row.runId === null ? { ...row, lastMaterializedAt: null } : row;
}

/** Strata's tables in a SQLite file. */
function sqliteTables(file: string): string[] {
  return querySqlite<{ name: string }>(
    file,
    `select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`,
  ).map((r) => r.name);
}

describe.skipIf(missing !== undefined)(`assets storage migrate${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let project: string;
  let target: { schema: string; url: string };
  let migrated: CliResult;

  beforeAll(async () => {
    await sandbox.generateLanding(2);
    project = sandbox.copyExample('history');
    const backfill = runCli(['backfill', '--select', SELECT, '--from', '2025-01-01', '--to', '2025-01-02', '--project', project]);
    expect(backfill.status, backfill.stderr).toBe(0);
    target = await freshSchema('history');
    migrated = migrate(project, target.url);
  }, 180_000);

  it('copies every table, prints the counts of both sides, says how to switch, exits 0', () => {
    expect(migrated.status, migrated.stdout + migrated.stderr).toBe(0);
    const file = stateFiles(project).storage;
    for (const table of sqliteTables(file)) {
      const [{ n }] = querySqlite<{ n: number }>(file, `select count(*) as n from "${table}"`) as [{ n: number }];
      expect(migrated.stdout).toMatch(new RegExp(`^${table}\\s+${n.toLocaleString('en-US')}\\s+${n.toLocaleString('en-US')}\\s+equal$`, 'm'));
    }
    expect(migrated.stdout).toContain('copied and verified');
    expect(migrated.stdout).toContain('"storage": "env:STRATA_PG"');
    expect(migrated.stdout).toContain('STRATA_STORAGE=postgres://…');
    expect(migrated.stdout + migrated.stderr).not.toContain(new URL(postgresUrl()).password);
  });

  it('lineage, latest materializations, observations and the data sequence are the same in storage (before any command observes again)', async () => {
    const sqlite = await SqliteStorage.open(stateFiles(project).storage);
    const postgres = await PostgresStorage.open(target.url);
    try {
      const same = async <T>(read: (s: Storage) => Promise<T>) => expect(await read(postgres)).toEqual(await read(sqlite));
      const version = await sqlite.latestDefinitionVersion();
      expect(version).toBeDefined();
      expect(await postgres.latestDefinitionVersion()).toBe(version);
      await same((s) => s.lineage(version as string));
      await same((s) => s.latestMaterializations());
      await same((s) => s.latestObservations());
      await same((s) => s.dataSummaries());
      await same((s) => s.listBackfills());
      await same((s) => s.currentSequence());
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  it('status, runs, run events and check history read the same from Postgres', async () => {
    // Each `status` observes the landing files again, refreshing an unchanged source's time on its own side.
    const [status, pgStatus] = onBoth(['status', '--json'], project, target.url).map((r) => parseJson<StatusRow[]>(r).map(withoutObservedTime));
    expect(pgStatus).toEqual(status);
    const [runs, pgRuns] = onBoth(['runs', '--json', '--limit', '100'], project, target.url);
    expect(parseJson(pgRuns)).toEqual(parseJson(runs));
    const ids = parseJson<{ id: string }[]>(runs).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids.slice(0, 3)) {
      const [show, pgShow] = onBoth(['runs', 'show', id, '--json'], project, target.url);
      expect(parseJson(pgShow)).toEqual(parseJson(show));
    }
    const checked = querySqlite<{ asset_key: string }>(stateFiles(project).storage, 'select distinct asset_key from check_results order by 1 limit 2');
    expect(checked.length).toBeGreaterThan(0);
    for (const { asset_key: key } of checked) {
      const [history, pgHistory] = onBoth(['checks', 'history', key, '--json'], project, target.url);
      expect(parseJson(pgHistory)).toEqual(parseJson(history));
    }
  }, 120_000);

  it('the same stale set, also after a source file changes', () => {
    const stale = (): [unknown[], unknown[]] => {
      const [sqlite, postgres] = onBoth(['status', '--stale', '--select', SELECT, '--json'], project, target.url);
      return [parseJson<unknown[]>(sqlite), parseJson<unknown[]>(postgres)];
    };
    const [before, pgBefore] = stale();
    expect(pgBefore).toEqual(before);
    const day = (rows: unknown[]) => rows.filter((r) => (r as { partition: string | null }).partition === '2025-01-01');
    expect(day(before)).toEqual([]);
    fs.appendFileSync(path.join(project, 'landing', 'orders_2025-01-01.csv'), '\n');
    const [after, pgAfter] = stale();
    expect(day(after).length).toBeGreaterThan(0);
    expect(pgAfter).toEqual(after);
  });

  it('a run on Postgres continues the ids: events and materializations after the copied ones', async () => {
    const [maxEvent, maxMaterialization] = await Promise.all([
      postgresRows<{ n: number }>(`select max(id)::int as n from ${target.schema}.events`),
      postgresRows<{ n: number }>(`select max(id)::int as n from ${target.schema}.materializations`),
    ]);
    const run = runCli(['materialize', '--select', 'raw/orders', '--partition', '2025-01-02', '--project', project], { STRATA_STORAGE: target.url });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const [events, materializations] = await Promise.all([
      postgresRows<{ n: number }>(`select min(id)::int as n from ${target.schema}.events where id > $1`, [maxEvent[0]?.n]),
      postgresRows<{ n: number; seq: number }>(`select id::int as n, read_seq::int as seq from ${target.schema}.materializations order by id desc limit 1`),
    ]);
    const sqliteCounters = new Map(
      querySqlite<{ name: string; seq: number }>(stateFiles(project).storage, 'select name, seq from sqlite_sequence').map((r) => [r.name, r.seq]),
    );
    expect(events[0]?.n).toBe((sqliteCounters.get('events') as number) + 1);
    expect(materializations[0]?.n).toBeGreaterThan(maxMaterialization[0]?.n as number);
    expect(materializations[0]?.n).toBeGreaterThan(sqliteCounters.get('materializations') as number);
  }, 60_000);

  it('a target that already holds rows is refused (exit 2), naming its tables and rows', () => {
    const again = migrate(project, target.url);
    expect(again.status, again.stdout + again.stderr).toBe(2);
    expect(again.stderr).toMatch(/error: the target 127\.0\.0\.1:\d+\/\w+, schema migrate_history_\w+ is not empty: .*runs \(\d+ rows?\)/);
    expect(stackFrames(again.stderr)).toEqual([]);
  });
});

describe.skipIf(missing !== undefined)(`a storage with a row in every table${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('is copied table for table: counts, checksums and id counters equal', async () => {
    const project = sandbox.writeProject('every-table', { 'strata.json': '{ "name": "every-table" }' });
    const file = stateFiles(project).storage;
    await fillEveryTable(file);
    const tables = sqliteTables(file);
    // A table this fixture does not fill would pass unchecked: fill it above.
    for (const table of tables) expect(querySqlite<{ n: number }>(file, `select count(*) as n from "${table}"`)[0]?.n, table).toBeGreaterThan(0);
    const { schema, url } = await freshSchema('every');
    const dry = await migrateStorage({ project, to: url, dryRun: true });
    expect(dry.tables.map((t) => t.table).sort()).toEqual(tables);
    expect(await postgresRows(`select table_name from information_schema.tables where table_schema = $1`, [schema])).toEqual([]);

    const report = await migrateStorage({ project, to: url });
    expect(report.verified).toBe(true);
    expect(report.tables.map((t) => t.table).sort()).toEqual(tables);
    const pgTables = await postgresRows<{ name: string }>(
      `select table_name as name from information_schema.tables where table_schema = $1 and table_name not like 'kysely_%' order by 1`,
      [schema],
    );
    expect(pgTables.map((t) => t.name)).toEqual(tables);
    for (const table of tables) {
      const [{ n }] = (await postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}."${table}"`)) as [{ n: number }];
      expect(n, table).toBe(querySqlite<{ n: number }>(file, `select count(*) as n from "${table}"`)[0]?.n);
      expect(
        report.tables.find((t) => t.table === table),
        table,
      ).toMatchObject({ source: n, target: n, checksumEqual: true });
    }
    // The next ids continue the SQLite counters: AUTOINCREMENT's, not the highest id left.
    const sqlite = await SqliteStorage.open(file);
    const postgres = await PostgresStorage.open(url);
    try {
      expect(await postgres.currentSequence()).toBe(await sqlite.currentSequence());
      for (const s of [sqlite, postgres]) await s.appendEvents([anEvent('run-ok', 'after the copy')]);
      const last = async (s: Storage) => (await s.listEvents('run-ok')).at(-1)?.id;
      expect(await last(postgres)).toBe(await last(sqlite));
      expect(await postgres.listLeases()).toEqual(await sqlite.listLeases());
      expect(await postgres.daemonCursors()).toEqual(await sqlite.daemonCursors());
      expect(await postgres.listDaemonTicks()).toEqual(await sqlite.listDaemonTicks());
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });
});

describe('assets storage migrate refuses, writing nothing', () => {
  it('a server that cannot be reached: exit 2, host, port and database named, never the password', async () => {
    const project = sandbox.writeProject('unreachable', { 'strata.json': '{ "name": "unreachable" }' });
    await (await SqliteStorage.open(stateFiles(project).storage)).close();
    const port = await closedPort();
    const result = migrate(project, `postgres://strata:migrate-secret-9c2e@127.0.0.1:${port}/team`);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`error: cannot connect to the Postgres storage at 127.0.0.1:${port}/team as strata`);
    expect(result.stdout + result.stderr).not.toContain('migrate-secret-9c2e');
    expect(stackFrames(result.stderr)).toEqual([]);
  });

  it('a run still running on the SQLite storage (its heartbeat is fresh): exit 2, naming it', async () => {
    const project = sandbox.writeProject('busy', { 'strata.json': '{ "name": "busy" }' });
    const storage = await SqliteStorage.open(stateFiles(project).storage);
    await storage.createRun(aRun('a1b2c3d4-busy', { status: 'running', startedAt: Date.now(), heartbeatAt: Date.now(), pid: 4242 }));
    await storage.close();
    const result = migrate(project, `postgres://strata:busy-secret@127.0.0.1:${await closedPort()}/team`);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/error: a run is still running on .*strata\.db: a1b2c3d4 \(pid 4242\), last heartbeat \d+(\.\d+)?m?s ago/);
    expect(result.stderr).not.toContain('cannot connect');
  });

  it('no SQLite storage yet, a project already on Postgres, or --to not a Postgres URL: exit 2', () => {
    const project = sandbox.writeProject('empty', { 'strata.json': '{ "name": "empty" }' });
    const none = migrate(project, 'postgres://strata@127.0.0.1:1/team');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('there is no SQLite storage at');
    const file = runCli(['storage', 'migrate', '--to', 'backup.db', '--project', project]);
    expect(file.status).toBe(2);
    expect(file.stderr).toContain('--to must be a postgres:// URL');
    const already = runCli(['storage', 'migrate', '--to', 'postgres://strata@127.0.0.1:1/team', '--project', project], {
      STRATA_STORAGE: 'postgres://strata@127.0.0.1:1/old',
    });
    expect(already.status).toBe(2);
    expect(already.stderr).toContain("the project's storage is already a Postgres database");
    const noTo = runCli(['storage', 'migrate', '--project', project]);
    expect(noTo.status).toBe(2);
    expect(noTo.stderr).toContain('assets storage migrate needs --to postgres://…');
    const noAction = runCli(['storage', '--project', project]);
    expect(noAction.status).toBe(2);
    expect(noAction.stderr).toContain('assets storage needs an action: assets storage migrate --to postgres://…');
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
  });
});

describe.skipIf(missing !== undefined)(`a row Postgres refuses${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('rolls the whole copy back: exit 1 naming the table, no row in any table, the SQLite file unchanged', async () => {
    const project = sandbox.writeProject('refused-row', { 'strata.json': '{ "name": "refused-row" }' });
    const file = stateFiles(project).storage;
    await fillEveryTable(file);
    // SQLite keeps 1.5 in an integer column; Postgres's bigint refuses it. Events are copied after runs and others.
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const db = new BetterSqlite3(file);
    db.prepare(`update events set timestamp = 1.5 where id = (select max(id) from events)`).run();
    db.close();
    const before = fs.readFileSync(file);
    const { schema, url } = await freshSchema('refused');
    const result = migrate(project, url);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(/error: Postgres refused a row of events \(rows 1-2\): .*bigint.*; the copy was rolled back, the target holds no rows/);
    expect(stackFrames(result.stderr)).toEqual([]);
    const tables = await postgresRows<{ name: string }>(
      `select table_name as name from information_schema.tables where table_schema = $1 and table_name not like 'kysely_%'`,
      [schema],
    );
    expect(tables.length).toBe(sqliteTables(file).length);
    for (const { name } of tables) expect((await postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}."${name}"`))[0]?.n, name).toBe(0);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe.skipIf(missing !== undefined)(`a target schema that does not exist${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('is refused (exit 2), naming the target, before anything is written', async () => {
    const project = sandbox.writeProject('no-schema', { 'strata.json': '{ "name": "no-schema" }' });
    await fillEveryTable(stateFiles(project).storage);
    const url = new URL(postgresUrl());
    url.searchParams.set('options', `-c search_path=migrate_missing_${process.pid}`);
    const result = migrate(project, url.toString());
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(/error: the target 127\.0\.0\.1:\d+\/\w+, schema \(none\) has no schema to create the tables in/);
    expect(result.stderr).not.toContain(url.password);
  });
});

describe.skipIf(missing !== undefined)(`a target another process is writing${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('is refused after the lock timeout instead of waiting forever; nothing is written', async () => {
    const project = sandbox.writeProject('busy-target', { 'strata.json': '{ "name": "busy-target" }' });
    await fillEveryTable(stateFiles(project).storage);
    const { schema, url } = await freshSchema('busy');
    await migrateStorage({ project, to: url, dryRun: true });
    await (await PostgresStorage.open(url)).close();
    const writer = new pg.Client({ connectionString: postgresUrl() });
    await writer.connect();
    try {
      await writer.query(`begin; lock table ${schema}.runs in row exclusive mode`);
      await expect(migrateStorage({ project, to: url, lockTimeoutMs: 300 })).rejects.toThrow(
        /^another process is writing the target 127\.0\.0\.1:\d+\/\w+, schema migrate_busy_\w+ \(its tables stayed locked for 300ms\)/,
      );
    } finally {
      await writer.query('rollback');
      await writer.end();
    }
    expect((await postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}.runs`))[0]?.n).toBe(0);
  });
});

describe.skipIf(missing !== undefined)(`--dry-run${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('prints the rows per table it would copy and creates nothing in the target', async () => {
    const project = sandbox.writeProject('dry', { 'strata.json': '{ "name": "dry" }' });
    await fillEveryTable(stateFiles(project).storage);
    const { schema, url } = await freshSchema('dry');
    const result = migrate(project, url, '--dry-run');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^dry run: would copy .*strata\.db to 127\.0\.0\.1:\d+\/\w+, schema migrate_dry_\w+ \(its tables would be created first\); nothing written$/m,
    );
    expect(result.stdout).toMatch(/^runs\s+2$/m);
    expect(result.stdout).toMatch(/^events\s+2$/m);
    const json = parseJson<{ dryRun: boolean; verified: boolean; tables: { table: string; source: number; target: null }[] }>(
      migrate(project, url, '--dry-run', '--json'),
    );
    expect(json).toMatchObject({ dryRun: true, verified: false, targetHadSchema: false });
    expect(json.tables.find((t) => t.table === 'runs')).toEqual({ table: 'runs', source: 2, target: null, checksumEqual: null });
    expect(await postgresRows(`select table_name from information_schema.tables where table_schema = $1`, [schema])).toEqual([]);
  });
});
