/**
 * The `assets` CLI with its storage in Postgres: a server that cannot be reached is bad input
 * (exit 2, host, port and database named, the password never printed); a password written in
 * strata.json is refused; against the test cluster, a project materializes with its runs,
 * events and materializations in Postgres tables of the same names as SQLite's.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

const FILES = {
  'strata.json': '{ "name": "pg-storage" }',
  'defs/raw/one.sql': 'select 1 as id\n',
  'defs/raw/two.sql': 'select id + 1 as id from raw.one\n',
};

describe('Postgres storage on bad input exits 2', () => {
  it('a server that cannot be reached: names host, port and database, never the password, before anything runs', async () => {
    const project = sandbox.writeProject('pg-storage-down', FILES);
    const port = await closedPort();
    const result = runCli(['materialize', '--select', '*', '--project', project], {
      STRATA_STORAGE: `postgres://strata:down-secret-5a1f@127.0.0.1:${port}/team`,
    });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`error: cannot connect to the Postgres storage at 127.0.0.1:${port}/team as strata`);
    expect(result.stdout + result.stderr).not.toContain('down-secret-5a1f');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('a password written in strata.json', () => {
    const project = sandbox.writeProject('pg-storage-password', {
      ...FILES,
      'strata.json': JSON.stringify({ storage: 'postgres://strata:in-file-secret@db/team' }),
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('storage: a URL with a password is not written in strata.json: use "env:NAME"');
    expect(result.stderr).not.toContain('in-file-secret');
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });
});

describe.skipIf(missing !== undefined)(`the CLI on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const schema = `cli_storage_${process.pid}`;

  beforeAll(() => onPostgres(`drop schema if exists ${schema} cascade`, `create schema ${schema}`));
  afterAll(() => onPostgres(`drop schema if exists ${schema} cascade`));

  it('materializes with runs, events and materializations in Postgres, and no SQLite file', () => {
    const project = sandbox.writeProject('pg-storage', { ...FILES, 'strata.json': JSON.stringify({ name: 'pg-storage', storage: 'env:STRATA_E2E_STORAGE' }) });
    const url = new URL(postgresUrl());
    url.searchParams.set('options', `-c search_path=${schema}`);
    const result = runCli(['materialize', '--select', '*', '--project', project], { STRATA_E2E_STORAGE: url.toString() });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(url.password);
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
    return Promise.all([
      postgresRows<{ status: string }>(`select status from ${schema}.runs`),
      postgresRows<{ asset_key: string }>(`select asset_key from ${schema}.materializations order by asset_key`),
      postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}.events`),
    ]).then(([runs, materializations, events]) => {
      expect(runs).toEqual([{ status: 'success' }]);
      expect(materializations.map((m) => m.asset_key)).toEqual(['raw/one', 'raw/two']);
      expect(events[0]!.n).toBeGreaterThan(4);
    });
  });
});
