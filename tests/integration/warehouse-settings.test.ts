/**
 * `"warehouse"` in strata.json: a path, or `{ path, memoryLimit, threads, tempDirectory }`
 * validated with errors naming the field, and applied to DuckDB wherever the warehouse opens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../core/model/errors.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { warehouseOpenOptions } from '../../core/model/config/project-config.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { parseJson, runCli, Sandbox } from '../e2e/cli-harness.ts';

const created: string[] = [];

function projectWith(warehouse: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-warehouse-settings-'));
  created.push(dir);
  writeFileSync(join(dir, 'strata.json'), JSON.stringify({ warehouse }));
  return dir;
}

function configErrorOf(dir: string): ConfigError {
  try {
    loadProjectConfig(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

beforeEach(() => vi.stubEnv('STRATA_WAREHOUSE', undefined));
afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('"warehouse" as a Postgres URL', () => {
  it('a URL is a Postgres warehouse, never a path: no file is checked or named', () => {
    const dir = projectWith('postgres://strata@db.internal:5433/analytics');
    const config = loadProjectConfig(dir);
    expect(config.warehouseUrl).toBe('postgres://strata@db.internal:5433/analytics');
    expect(config.warehouseFile).toBe(join(dir, '.strata', 'warehouse.duckdb'));
  });

  it('env:NAME reads the URL (with its password) from the environment; STRATA_WAREHOUSE overrides strata.json', () => {
    vi.stubEnv('ANALYTICS_URL', 'postgres://strata:s3cret@db/analytics');
    expect(loadProjectConfig(projectWith('env:ANALYTICS_URL')).warehouseUrl).toBe('postgres://strata:s3cret@db/analytics');
    vi.stubEnv('STRATA_WAREHOUSE', 'postgres://other/warehouse');
    expect(loadProjectConfig(projectWith('data/w.duckdb')).warehouseUrl).toBe('postgres://other/warehouse');
  });

  it('refuses a password written in strata.json, an unset variable, a URL without a host and DuckDB settings, never quoting the URL', () => {
    expect(configErrorOf(projectWith('postgres://strata:in-file@db/analytics')).message).toMatch(
      /warehouse\.path: a URL with a password is not written in strata\.json: use "env:NAME"/,
    );
    expect(configErrorOf(projectWith('postgres://strata:in-file@db/analytics')).message).not.toContain('in-file');
    expect(configErrorOf(projectWith('env:NO_SUCH_WAREHOUSE_URL')).message).toContain('the environment variable NO_SUCH_WAREHOUSE_URL is not set');
    expect(configErrorOf(projectWith('postgres:///analytics')).message).toContain('the postgres:// URL names no host');
    expect(configErrorOf(projectWith({ path: 'postgres://db/analytics', memoryLimit: '1GB' })).message).toContain(
      'warehouse.memoryLimit: is a DuckDB setting: a Postgres warehouse does not take it',
    );
  });

  it('a project without "warehouse" keeps the DuckDB file', () => {
    expect(loadProjectConfig(projectWith(undefined)).warehouseUrl).toBeUndefined();
  });
});

describe('"warehouse" in strata.json', () => {
  it('still accepts a plain path, with no settings', () => {
    const dir = projectWith('data/w.duckdb');
    const config = loadProjectConfig(dir);
    expect(config.warehouseFile).toBe(join(dir, 'data', 'w.duckdb'));
    expect(config.warehouseSettings).toEqual({});
  });

  it('reads the object form; tempDirectory resolves against the project folder', () => {
    const dir = projectWith({ path: '.strata/w.duckdb', memoryLimit: '512MB', threads: 1, tempDirectory: '.strata/tmp' });
    const config = loadProjectConfig(dir);
    expect(config.warehouseFile).toBe(join(dir, '.strata', 'w.duckdb'));
    expect(config.warehouseSettings).toEqual({ memoryLimit: '512MB', threads: 1, tempDirectory: join(dir, '.strata', 'tmp') });
    expect(warehouseOpenOptions(config)).toEqual({ memoryLimit: '512MB', threads: 1, tempDirectory: join(dir, '.strata', 'tmp'), fileSearchPath: dir });
  });

  it('defaults the path when the object names none; STRATA_WAREHOUSE still overrides it', () => {
    const dir = projectWith({ threads: 2 });
    expect(loadProjectConfig(dir).warehouseFile).toBe(join(dir, '.strata', 'warehouse.duckdb'));
    vi.stubEnv('STRATA_WAREHOUSE', ':memory:');
    const config = loadProjectConfig(dir);
    expect(config.warehouseFile).toBe(':memory:');
    expect(config.warehouseSettings).toEqual({ threads: 2 });
  });

  it.each([
    [{ memoryLimit: 'lots' }, 'warehouse.memoryLimit'],
    [{ memoryLimit: 4 }, 'warehouse.memoryLimit'],
    [{ threads: 0 }, 'warehouse.threads'],
    [{ threads: 1.5 }, 'warehouse.threads'],
    [{ tempDirectory: '' }, 'warehouse.tempDirectory'],
    [{ path: '' }, 'warehouse.path'],
    [{ memory: '1GB' }, 'memory'],
    [42, 'warehouse'],
  ])('rejects %j, naming %s and the file', (warehouse, field) => {
    const dir = projectWith(warehouse);
    const error = configErrorOf(dir);
    expect(error.message).toContain(join(dir, 'strata.json'));
    expect(error.message).toContain(field);
  });
});

describe('warehouse settings reach DuckDB', () => {
  it('an opened warehouse has the memory limit, threads and temp folder of the config', async () => {
    const dir = projectWith({ memoryLimit: '300MB', threads: 1, tempDirectory: 'spill' });
    const config = loadProjectConfig(dir);
    const warehouse = await DuckDBWarehouse.open(config.warehouseFile, warehouseOpenOptions(config));
    try {
      const [row] = await warehouse.query<{ m: string; t: number; d: string }>(
        "select current_setting('memory_limit') as m, current_setting('threads') as t, current_setting('temp_directory') as d",
      );
      expect(row).toEqual({ m: '286.1 MiB', t: 1, d: join(dir, 'spill') });
    } finally {
      warehouse.close();
    }
  });

  it('the CLI applies them when materializing and in `assets query` (read-only)', () => {
    const sandbox = Sandbox.create();
    try {
      const project = sandbox.writeProject('limits', {
        'strata.json': JSON.stringify({ warehouse: { memoryLimit: '300MB', threads: 1 } }),
        'defs/main/settings.sql': "select current_setting('memory_limit') as m, current_setting('threads') as t\n",
      });
      const built = runCli(['materialize', '--select', '*', '--project', project]);
      expect(built.status, built.stderr).toBe(0);
      const query = (sql: string) => parseJson<Record<string, unknown>[]>(runCli(['query', sql, '--json', '--project', project]));
      expect(query('select m, t from main.settings')).toEqual([{ m: '286.1 MiB', t: 1 }]);
      expect(query("select current_setting('memory_limit') as m, current_setting('threads') as t")).toEqual([{ m: '286.1 MiB', t: 1 }]);
    } finally {
      sandbox.cleanup();
    }
  });
});
