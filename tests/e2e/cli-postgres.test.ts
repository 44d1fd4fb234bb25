/**
 * The `assets` CLI with Postgres resources: a password written in strata.json and an unknown
 * resource are bad input (exit 2, nothing written); against the test cluster, a project whose
 * source asset observes a Postgres table and whose asset extracts it materializes, and a refused
 * connection fails the run without printing the password.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { queryDuckDb, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

const SHOP_MODULE = `import { asset, postgresTable } from 'strata';
export const source = postgresTable({ key: 'landing/cli_orders', resource: 'shop_db', table: 'cli_orders', watermark: 'updated_at', retryPolicy: { maxRetries: 1, delay: 1 } });
export const raw = asset({ key: 'raw/cli_orders', deps: ['landing/cli_orders'], materialize: async (ctx) => ({ rowCount: await ctx.resources.shop_db.extract('select * from cli_orders') }) });
`;

describe('postgres resources on bad input exit 2 and write nothing', () => {
  it('a password written in strata.json', () => {
    const project = sandbox.writeProject('password', {
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', host: 'db', password: 'hunter2-in-file' } } }),
      'defs/raw/one.sql': 'select 1 as id\n',
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('resources.shop_db.password: a password is not written in strata.json: use "env:NAME"');
    expect(result.stderr).not.toContain('hunter2-in-file');
    expect(stackFrames(result.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('an asset naming a resource strata.json does not have', () => {
    const project = sandbox.writeProject('unknown-resource', {
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' } } }),
      'package.json': '{ "type": "module" }',
      'defs/shop.ts': SHOP_MODULE.replace("resource: 'shop_db'", "resource: 'shopdb'"),
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('landing/cli_orders in defs/shop.ts: unknown resource "shopdb" (strata.json "resources" has shop_db)');
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('a resource whose env: variable is not set fails its step at once, not retried', () => {
    const project = sandbox.writeProject('unset-variable', {
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:STRATA_E2E_UNSET_URL' } }, retries: { maxRetries: 2, delay: '5m' } }),
      'package.json': '{ "type": "module" }',
      'defs/raw/orders.sql': '-- source: shop_db\nselect 1 as id\n',
    });
    const started = Date.now();
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toContain('resource shop_db: url is "env:STRATA_E2E_UNSET_URL" but the environment variable STRATA_E2E_UNSET_URL is not set');
    expect(result.stdout).not.toContain('retrying');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a source whose resource has an env: variable not set is not observed again', () => {
    const project = sandbox.writeProject('unset-variable-source', {
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:STRATA_E2E_UNSET_URL' } } }),
      'package.json': '{ "type": "module" }',
      'defs/shop.ts': SHOP_MODULE,
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(
      'observing source landing/cli_orders failed: resource shop_db: url is "env:STRATA_E2E_UNSET_URL" but the environment variable STRATA_E2E_UNSET_URL is not set',
    );
    expect(result.stdout).not.toContain('retrying');
  });
});

describe.skipIf(missing !== undefined)(`postgres runs from the CLI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('observes and extracts a Postgres table; a refused connection fails without the password', async () => {
    await onPostgres(
      'drop table if exists cli_orders',
      `create table cli_orders as select i as id, timestamptz '2025-01-01 00:00:00+00' + i * interval '1 hour' as updated_at from generate_series(1, 1200) as i`,
    );
    const project = sandbox.writeProject('shop', {
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' } } }),
      'package.json': '{ "type": "module" }',
      'defs/shop.ts': SHOP_MODULE,
    });
    const ok = runCli(['materialize', '--select', '*', '--project', project], { SHOP_DB_URL: postgresUrl() });
    expect(ok.status, ok.stderr + ok.stdout).toBe(0);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select count(*)::int as n from raw.cli_orders')).toEqual([{ n: 1200 }]);

    const password = new URL(postgresUrl()).password;
    const down = new URL(postgresUrl());
    down.port = '1';
    const failed = runCli(['materialize', '--select', '*', '--project', project], { SHOP_DB_URL: down.toString() });
    expect(failed.status).toBe(1);
    expect(failed.stdout + failed.stderr).toContain(`cannot connect to Postgres resource shop_db at 127.0.0.1:1/${down.pathname.slice(1)}`);
    expect(failed.stdout + failed.stderr).not.toContain(password);
  });
});
