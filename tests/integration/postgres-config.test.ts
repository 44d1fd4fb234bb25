/**
 * strata.json `"resources"`: Postgres resources are validated when the project loads (a password
 * written in the file is refused, an asset naming an unknown resource is a definition error
 * naming the asset and its file), and `env:NAME` settings are read from the environment.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DefinitionErrors, ResourceError } from '../../core/model/errors.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { PostgresResource } from '../../resources/postgres-resource.ts';
import { ResourceSet } from '../../resources/resource-set.ts';
import { observeHandles } from '../../resources/resource-handles.ts';
import { inspect } from 'node:util';

const POSTGRES_TABLE = fileURLToPath(new URL('../../core/model/definitions/postgres-table.ts', import.meta.url));
const created: string[] = [];

function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-pg-config-'));
  created.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function configError(resources: unknown): ConfigError {
  const dir = writeProject({ 'strata.json': JSON.stringify({ resources }) });
  try {
    loadProjectConfig(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the configuration was accepted');
}

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('postgres resources in strata.json', () => {
  it('accepts a URL or settings taken from the environment', () => {
    const dir = writeProject({
      'strata.json': JSON.stringify({
        resources: {
          shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' },
          crm: { type: 'postgres', host: 'db.internal', port: 6543, database: 'crm', user: 'etl', password: 'env:CRM_PASSWORD' },
        },
      }),
    });
    expect(Object.keys(loadProjectConfig(dir).resources ?? {})).toEqual(['shop_db', 'crm']);
  });

  it('refuses a password written in strata.json, without repeating it', () => {
    const error = configError({ shop_db: { type: 'postgres', host: 'db', password: 'hunter2-secret' } });
    expect(error.message).toContain('resources.shop_db.password');
    expect(error.message).toContain('use "env:NAME"');
    expect(error.message).not.toContain('hunter2-secret');
  });

  it('refuses a URL carrying a password', () => {
    const error = configError({ shop_db: { type: 'postgres', url: 'postgres://etl:hunter2-secret@db:5432/shop' } });
    expect(error.message).toContain('resources.shop_db.url');
    expect(error.message).toContain('use "env:NAME"');
    expect(error.message).not.toContain('hunter2-secret');
  });

  it('refuses an unknown type or setting', () => {
    expect(configError({ shop_db: { type: 'mysql', url: 'env:X' } }).message).toContain('resources.shop_db.type');
    expect(configError({ shop_db: { type: 'postgres', hostname: 'db' } }).message).toContain('hostname');
  });

  it('reads env: settings when first used, naming a variable that is not set', () => {
    const env = { SHOP_DB_URL: 'postgres://etl:s3cret@db.example:6000/shop' };
    expect(new PostgresResource('shop_db', { type: 'postgres', url: 'env:SHOP_DB_URL' }, env).where()).toBe('db.example:6000/shop');
    const unset = new PostgresResource('shop_db', { type: 'postgres', url: 'env:SHOP_DB_URL' }, {});
    expect(() => unset.where()).toThrow(/resource shop_db: url is "env:SHOP_DB_URL" but the environment variable SHOP_DB_URL is not set/);
  });

  it('falls back to the standard PG* variables', () => {
    const env = { PGHOST: 'pg.example', PGPORT: '5433', PGDATABASE: 'analytics', PGUSER: 'etl' };
    expect(new PostgresResource('warehouse_db', { type: 'postgres' }, env).where()).toBe('pg.example:5433/analytics');
  });

  it('names the configured resources when an unknown one is used', () => {
    const set = new ResourceSet({ shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' } });
    expect(() => set.get('shop')).toThrow(ResourceError);
    expect(() => set.get('shop')).toThrow('unknown resource "shop" (strata.json "resources" has shop_db)');
    // ctx.resources: the configured names, an unknown one throws, inspection and `await` do not.
    const handles = observeHandles(set, new AbortController().signal);
    expect(Object.keys(handles)).toEqual(['shop_db']);
    expect(typeof handles.shop_db?.query).toBe('function');
    expect(() => handles.shop).toThrow('unknown resource "shop"');
    expect(inspect(handles)).toBe('{}');
    expect(String(handles)).toBe('[object Object]');
    expect((handles as { then?: unknown }).then).toBeUndefined();
  });

  it('an asset observing an unknown resource is a definition error naming the asset and its file', async () => {
    const dir = writeProject({
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' } } }),
      'defs/landing/orders.ts': `import { postgresTable } from ${JSON.stringify(POSTGRES_TABLE)};\nexport const orders = postgresTable({ key: 'landing/orders', resource: 'shopdb', table: 'public.orders' });\n`,
    });
    const error = await loadProject(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).message).toContain(
      'landing/orders in defs/landing/orders.ts: unknown resource "shopdb" (strata.json "resources" has shop_db)',
    );
  });

  it('a SQL asset whose source: names an unknown resource, or is a view, is a definition error naming the asset and its file', async () => {
    const dir = writeProject({
      'strata.json': JSON.stringify({ resources: { shop_db: { type: 'postgres', url: 'env:SHOP_DB_URL' } } }),
      'defs/raw/orders.sql': '-- source: shopdb\nselect * from public.orders\n',
      'defs/raw/customers.sql': '-- source: shop_db\n-- materialization: view\nselect * from public.customers\n',
      'defs/raw/products.sql': '-- source: shop_db\nselect * from public.products\n',
    });
    const error = await loadProject(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    const message = (error as DefinitionErrors).message;
    expect(message).toContain('2 definition errors');
    expect(message).toContain('raw/orders in defs/raw/orders.sql: unknown resource "shopdb" (strata.json "resources" has shop_db)');
    expect(message).toContain(
      'raw/customers in defs/raw/customers.sql: a "source: shop_db" query runs on Postgres and its rows land in a table: materialization must be "table" or "incremental", not "view"',
    );
  });
});
