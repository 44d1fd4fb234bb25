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
