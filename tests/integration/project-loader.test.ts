import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, DefinitionErrors, formatLocated } from '../../core/model/errors.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';

/** Asset modules written into temp projects import `asset` from this checkout by absolute path. */
const ASSET_SPEC = fileURLToPath(new URL('../../core/model/definitions/asset-spec.ts', import.meta.url));
const IMPORT_ASSET = `import { asset } from ${JSON.stringify(ASSET_SPEC)};\n`;

/** A module exporting one TypeScript asset; `options` is object-literal text without `materialize`. */
function tsAsset(options: string): string {
  return `${IMPORT_ASSET}export const definition = asset({ ${options}, materialize: () => ({ rowCount: 0 }) });\n`;
}

const created: string[] = [];

/** Writes `files` (project-relative path → text) into a new temp folder and returns it. */
function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-loader-'));
  created.push(dir);
  writeFiles(dir, files);
  return dir;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

async function definitionErrors(dir: string): Promise<DefinitionErrors> {
  const error = await loadProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DefinitionErrors);
  return error as DefinitionErrors;
}

async function configError(dir: string): Promise<ConfigError> {
  const error = await loadProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

function depsOf(project: Project): Record<string, readonly string[]> {
  return Object.fromEntries(project.graph.keys.map((key) => [key, project.graph.spec(key).deps]));
}

interface CacheFile {
  format: number;
  entries: Record<string, { schema: string | null; table: string }[]>;
}

function readCache(path: string): CacheFile {
  return JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
}

beforeEach(() => {
  // Keep the environment from moving the storage file.
  vi.stubEnv('STRATA_STORAGE', undefined);
  vi.stubEnv('STRATA_WAREHOUSE', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const MIXED_PROJECT: Record<string, string> = {
  'strata.json': JSON.stringify({ name: 'shop' }),
  'defs/raw/orders.ts': tsAsset(`key: 'raw/orders', tags: { domain: 'sales' }`),
  'defs/raw/more.ts': [
    IMPORT_ASSET,
    `export const sources = [`,
    `  asset({ key: 'raw/payments', materialize: () => {} }),`,
    `  asset({ key: 'raw/customers', materialize: () => {} }),`,
    `];`,
    `export const notAnAsset = { key: 'raw/fake' };`,
    `export function helper() { return 1; }`,
  ].join('\n'),
  'defs/staging/orders.sql': [
    '-- Orders with their payments.',
    '-- description: One row per paid order.',
    '-- deps: raw/customers',
    'select o.*, p.amount',
    'from raw.orders o',
    'join raw.payments p using (order_id);',
  ].join('\n'),
  'defs/marts/sales/daily.sql': '-- materialization: view\nselect order_date, sum(amount) as revenue from staging.orders group by all\n',
  'defs/marts/sales/by_customer.sql': 'select * from marts.sales__daily cross join raw.customers\n',
  'defs/features/daily.ts': tsAsset(`key: 'features/daily', deps: ['marts/sales/daily', 'raw/orders']`),
  // Not asset sources: a test module, a declaration file, hidden folders, other file types.
  'defs/features/daily.test.ts': `throw new Error('test modules must not be imported');\n`,
  'defs/features/types.d.ts': `export type Nothing = never;\n`,
  'defs/.scratch/draft.sql': 'this is not sql',
  'defs/notes.md': '# notes',
};

describe('loadProject on a valid mixed project', () => {
  it('loads TypeScript and SQL assets with inferred deps merged with declared ones', async () => {
    const dir = writeProject(MIXED_PROJECT);
    const project = await loadProject(dir);

    expect(project.config.name).toBe('shop');
    expect(project.config.dir).toBe(dir);
    expect(project.config.assetsDir).toBe(join(dir, 'defs'));
    expect([...project.definitions.keys()].sort()).toEqual([
      'features/daily',
      'marts/sales/by_customer',
      'marts/sales/daily',
      'raw/customers',
      'raw/orders',
      'raw/payments',
      'staging/orders',
    ]);
    expect(depsOf(project)).toEqual({
      'raw/customers': [],
      'raw/orders': [],
      'raw/payments': [],
      'staging/orders': ['raw/customers', 'raw/orders', 'raw/payments'],
      'marts/sales/daily': ['staging/orders'],
      'features/daily': ['marts/sales/daily', 'raw/orders'],
      'marts/sales/by_customer': ['marts/sales/daily', 'raw/customers'],
    });
    expect(project.graph.layers).toEqual([
      ['raw/customers', 'raw/orders', 'raw/payments'],
      ['staging/orders'],
      ['marts/sales/daily'],
      ['features/daily', 'marts/sales/by_customer'],
    ]);
  });

  it('records where each asset was defined and how it is computed', async () => {
    const project = await loadProject(writeProject(MIXED_PROJECT));
    const files = Object.fromEntries([...project.definitions].map(([key, d]) => [key, d.file]));
    expect(files).toEqual({
      'raw/orders': 'defs/raw/orders.ts',
      'raw/payments': 'defs/raw/more.ts',
      'raw/customers': 'defs/raw/more.ts',
      'staging/orders': 'defs/staging/orders.sql',
      'marts/sales/daily': 'defs/marts/sales/daily.sql',
      'marts/sales/by_customer': 'defs/marts/sales/by_customer.sql',
      'features/daily': 'defs/features/daily.ts',
    });
    const staging = project.definitions.get('staging/orders');
    expect(staging?.spec).toMatchObject({ kinds: ['sql', 'duckdb'], group: 'staging', description: 'One row per paid order.' });
    expect(staging?.compute).toMatchObject({ type: 'sql', materialization: 'table' });
    expect(project.definitions.get('marts/sales/daily')?.compute).toMatchObject({ type: 'sql', materialization: 'view' });
    const orders = project.definitions.get('raw/orders');
    expect(orders?.spec).toMatchObject({ kinds: ['typescript'], tags: { domain: 'sales' } });
    expect(orders?.compute.type).toBe('typescript');
  });

  it('derives code versions and a definition version, the same on every load', async () => {
    const dir = writeProject(MIXED_PROJECT);
    const first = await loadProject(dir);
    const second = await loadProject(dir);
    expect([...first.codeVersions.keys()].sort()).toEqual([...first.definitions.keys()].sort());
    for (const version of first.codeVersions.values()) expect(version).toMatch(/^[0-9a-f]{12}$/);
    expect(first.definitionVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(second.definitionVersion).toBe(first.definitionVersion);
    expect([...second.codeVersions]).toEqual([...first.codeVersions]);
  });

  it('changes the definition version when the shape of the graph changes, not when a query is reformatted', async () => {
    const dir = writeProject(MIXED_PROJECT);
    const before = await loadProject(dir);
    writeFiles(dir, {
      'defs/marts/sales/daily.sql': '-- materialization: view\nselect order_date,\n  sum(amount) as revenue\nfrom staging.orders\ngroup by all\n',
    });
    const reformatted = await loadProject(dir);
    expect(reformatted.definitionVersion).toBe(before.definitionVersion);
    expect(reformatted.codeVersions.get('marts/sales/daily')).toBe(before.codeVersions.get('marts/sales/daily'));
    writeFiles(dir, {
      'defs/marts/sales/daily.sql':
        '-- materialization: view\nselect order_date, count(*) as n from staging.orders join raw.customers using (customer_id) group by all\n',
    });
    const reshaped = await loadProject(dir);
    expect(reshaped.definitionVersion).not.toBe(before.definitionVersion);
    expect(reshaped.codeVersions.get('marts/sales/daily')).not.toBe(before.codeVersions.get('marts/sales/daily'));
    expect(reshaped.graph.spec('marts/sales/daily').deps).toEqual(['raw/customers', 'staging/orders']);
  });

  it('matches tables to keys whatever their case or quoting, and ignores CTE names and file scans', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/orders.ts': tsAsset(`key: 'raw/orders'`),
      'defs/raw/payments.ts': tsAsset(`key: 'raw/payments'`),
      'defs/staging/orders.sql': [
        'with recent as (select * from RAW.Orders)',
        `select * from recent join "raw"."payments" using (order_id) join 'lookup.csv' using (order_id)`,
      ].join('\n'),
    });
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/orders').deps).toEqual(['raw/orders', 'raw/payments']);
  });

  it('loads a project with only TypeScript assets and writes no dependency cache', async () => {
    const dir = writeProject({ 'strata.json': '{}', 'defs/raw/orders.ts': tsAsset(`key: 'raw/orders'`) });
    const project = await loadProject(dir);
    expect(project.graph.keys).toEqual(['raw/orders']);
    expect(project.config.name).toBe('strata-project');
    expect(existsSync(join(dir, '.strata'))).toBe(false);
  });

  it('uses the assets folder named in strata.json', async () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ assets: 'src/assets' }), 'src/assets/raw/orders.sql': 'select 1 as id' });
    const project = await loadProject(dir);
    expect(project.graph.keys).toEqual(['raw/orders']);
    expect(project.definitions.get('raw/orders')?.file).toBe('src/assets/raw/orders.sql');
  });
});

describe('loadProject collects every definition error', () => {
  const BROKEN_PROJECT: Record<string, string> = {
    'strata.json': '{}',
    'defs/raw/orders.ts': tsAsset(`key: 'raw/orders'`),
    'defs/staging/orders.sql': 'select * from raw.orders',
    // duplicate key across a .ts and a .sql file
    'defs/raw/customers_module.ts': tsAsset(`key: 'raw/customers'`),
    'defs/raw/customers.sql': 'select 1 as id',
    // unknown dep (declared)
    'defs/marts/summary.ts': tsAsset(`key: 'marts/summary', deps: ['staging/order']`),
    // a cycle through inferred deps
    'defs/loop/a.sql': 'select * from loop.b',
    'defs/loop/b.sql': 'select * from loop.a',
    // an invalid key from the file name
    'defs/Reporting/Daily.sql': 'select * from raw.orders',
    // SQL that DuckDB cannot parse
    'defs/staging/broken.sql': 'select * from raw.orders where',
    // a table that is not an asset
    'defs/marts/revenue.sql': 'select * from staging.order',
    // a module that throws at import
    'defs/raw/explode.ts': `${IMPORT_ASSET}throw new Error('boom at import');\n`,
  };

  it('throws one DefinitionErrors with every problem, each naming its asset and file', async () => {
    const thrown = await definitionErrors(writeProject(BROKEN_PROJECT));
    const summary = thrown.errors.map((e) => [e.code, e.context.assetKey, e.context.file]);
    // Sorted by file, then asset key.
    expect(summary).toEqual([
      ['sql_key_invalid', 'Reporting/Daily', 'defs/Reporting/Daily.sql'],
      ['cycle', 'loop/a', 'defs/loop/a.sql'],
      ['unknown_table', 'marts/revenue', 'defs/marts/revenue.sql'],
      ['unknown_dep', 'marts/summary', 'defs/marts/summary.ts'],
      ['duplicate_key', 'raw/customers', 'defs/raw/customers.sql'],
      ['module_failed', undefined, 'defs/raw/explode.ts'],
      ['sql_invalid', 'staging/broken', 'defs/staging/broken.sql'],
    ]);
    expect(thrown.message.split('\n')[0]).toBe('7 definition errors:');
    for (const error of thrown.errors) {
      const line = formatLocated(error);
      expect(thrown.message).toContain(`  - ${line}`);
      expect(line).toContain(error.context.file);
      if (error.context.assetKey !== undefined) expect(line.startsWith(`${error.context.assetKey} in ${error.context.file}: `)).toBe(true);
    }
  });

  it('words each problem so the user can fix it', async () => {
    const thrown = await definitionErrors(writeProject(BROKEN_PROJECT));
    const message = (code: string) => thrown.errors.find((e) => e.code === code)?.message ?? '';
    expect(message('duplicate_key')).toBe('asset key is defined twice (also in defs/raw/customers_module.ts)');
    expect(message('unknown_dep')).toBe('depends on unknown asset "staging/order" (did you mean "staging/orders"?)');
    expect(message('cycle')).toBe('dependency cycle: loop/a (defs/loop/a.sql) -> loop/b (defs/loop/b.sql) -> loop/a');
    expect(message('sql_key_invalid')).toContain('asset key "Reporting/Daily" has an invalid segment "Reporting"');
    expect(message('sql_key_invalid')).toContain('the key comes from the file path');
    expect(message('sql_invalid')).toMatch(/^SQL does not parse: Parser Error: /);
    // Closest first; "staging.broken" is also within the edit-distance limit.
    expect(message('unknown_table')).toBe(
      'reads table "staging.order", which is not an asset of this project (did you mean "staging.orders", "staging.broken"?)',
    );
    expect(message('module_failed')).toBe('cannot load module: boom at import');
  });

  it('names the file of an asset() call that throws at import', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/bad.ts': `${IMPORT_ASSET}export const bad = asset({ key: 'raw/orders', materialize: 'nope' } as never);\n`,
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors).toHaveLength(1);
    expect(thrown.errors[0]?.code).toBe('asset_invalid');
    expect(thrown.errors[0]?.context).toEqual({ assetKey: 'raw/orders', file: 'defs/raw/bad.ts' });
  });

  it('reports a duplicate key between two TypeScript modules', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/a.ts': tsAsset(`key: 'raw/orders'`),
      'defs/raw/b.ts': tsAsset(`key: 'raw/orders'`),
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => formatLocated(e))).toEqual(['raw/orders in defs/raw/b.ts: asset key is defined twice (also in defs/raw/a.ts)']);
  });

  it('accepts one asset exported under two names', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/orders.ts': `${IMPORT_ASSET}export const orders = asset({ key: 'raw/orders', materialize: () => {} });\nexport default orders;\n`,
    });
    const project = await loadProject(dir);
    expect(project.graph.keys).toEqual(['raw/orders']);
  });

  it('reports a SQL file with a bad header once, not again for the assets that read it', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/orders.sql': '-- materialization: tabel\nselect 1 as id',
      'defs/staging/orders.sql': 'select * from raw.orders',
      'defs/staging/more.ts': tsAsset(`key: 'staging/more', deps: ['raw/orders']`),
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => [e.code, e.context.assetKey])).toEqual([['sql_header_invalid', 'raw/orders']]);
  });

  it('reports a SQL file DuckDB cannot parse once, not again for the assets that depend on it', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/orders.sql': 'select 1 as id from',
      'defs/staging/orders.sql': 'select * from raw.orders',
      'defs/staging/more.ts': tsAsset(`key: 'staging/more', deps: ['raw/orders']`),
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => [e.code, e.context.assetKey])).toEqual([['sql_invalid', 'raw/orders']]);
  });

  it('suggests the qualified table for an unqualified one', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/raw/orders.ts': tsAsset(`key: 'raw/orders'`),
      'defs/staging/clean.sql': 'select * from orders',
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => formatLocated(e))).toEqual([
      'staging/clean in defs/staging/clean.sql: reads table "orders", which is not an asset of this project (did you mean "raw.orders"?)',
    ]);
  });

  it('suggests the real table name of a three-segment key', async () => {
    const dir = writeProject({
      'strata.json': '{}',
      'defs/marts/sales/daily.sql': 'select 1 as revenue',
      'defs/marts/report.sql': 'select * from marts.sales__dayly',
    });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => e.message)).toEqual([
      'reads table "marts.sales__dayly", which is not an asset of this project (did you mean "marts.sales__daily"?)',
    ]);
  });

  it('reports a missing assets folder', async () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ assets: 'models' }) });
    const thrown = await definitionErrors(dir);
    expect(thrown.errors.map((e) => [e.code, e.context.file])).toEqual([['assets_dir_missing', 'models']]);
  });
});

describe('SQL dependency cache', () => {
  const CACHE_PROJECT: Record<string, string> = {
    'strata.json': '{}',
    'defs/raw/orders.ts': tsAsset(`key: 'raw/orders'`),
    'defs/raw/payments.ts': tsAsset(`key: 'raw/payments'`),
    'defs/staging/orders.sql': '-- description: orders\nselect * from raw.orders',
    'defs/staging/payments.sql': 'select * from raw.payments;\n',
  };

  it("is written in the project's .strata folder with the tables of every SQL asset", async () => {
    const dir = writeProject(CACHE_PROJECT);
    await loadProject(dir);
    const cache = readCache(join(dir, '.strata', 'sql-dependencies.json'));
    expect(cache.format).toBe(1);
    expect(Object.keys(cache.entries)).toHaveLength(2);
    for (const hash of Object.keys(cache.entries)) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(cache.entries).sort((a, b) => (a[0]?.table ?? '').localeCompare(b[0]?.table ?? ''))).toEqual([
      [{ schema: 'raw', table: 'orders' }],
      [{ schema: 'raw', table: 'payments' }],
    ]);
  });

  it("stays in the project's .strata folder whatever the storage path of strata.json", async () => {
    const dir = writeProject({ ...CACHE_PROJECT, 'strata.json': JSON.stringify({ storage: 'state/db/runs.sqlite' }) });
    await loadProject(dir);
    expect(existsSync(join(dir, '.strata', 'sql-dependencies.json'))).toBe(true);
    expect(existsSync(join(dir, 'state', 'db', 'sql-dependencies.json'))).toBe(false);
  });

  it('answers from the cache with a new storage file (STRATA_STORAGE elsewhere)', async () => {
    const dir = writeProject(CACHE_PROJECT);
    const path = join(dir, '.strata', 'sql-dependencies.json');
    await loadProject(dir);
    // Make the cache claim that staging/orders reads raw.payments: only a cache hit can give that.
    const cache = readCache(path);
    const hash = Object.keys(cache.entries).find((h) => cache.entries[h]?.[0]?.table === 'orders') as string;
    cache.entries[hash] = [{ schema: 'raw', table: 'payments' }];
    writeFileSync(path, JSON.stringify(cache));
    const elsewhere = mkdtempSync(join(tmpdir(), 'strata-other-storage-'));
    created.push(elsewhere);
    vi.stubEnv('STRATA_STORAGE', join(elsewhere, 'fresh', 'strata.db'));
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/orders').deps).toEqual(['raw/payments']);
    expect(existsSync(join(elsewhere, 'fresh', 'sql-dependencies.json'))).toBe(false);
  });

  it('still loads when the cache cannot be written', async () => {
    const dir = writeProject({ ...CACHE_PROJECT, '.strata/sql-dependencies.json/blocker': 'a folder where the cache file would go' });
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/orders').deps).toEqual(['raw/orders']);
  });

  it('gives the same deps on a second load and leaves an up-to-date cache file alone', async () => {
    const dir = writeProject(CACHE_PROJECT);
    const path = join(dir, '.strata', 'sql-dependencies.json');
    const first = await loadProject(dir);
    const written = readFileSync(path, 'utf8');
    const modified = statSync(path).mtimeMs;
    const second = await loadProject(dir);
    expect(depsOf(second)).toEqual(depsOf(first));
    expect(second.graph.spec('staging/orders').deps).toEqual(['raw/orders']);
    expect(readFileSync(path, 'utf8')).toBe(written);
    expect(statSync(path).mtimeMs).toBe(modified);
  });

  it('answers from the cache for unchanged SQL instead of parsing it again', async () => {
    const dir = writeProject(CACHE_PROJECT);
    const path = join(dir, '.strata', 'sql-dependencies.json');
    await loadProject(dir);
    // Make the cache claim that staging/orders reads raw.payments: only a cache hit can give that.
    const cache = readCache(path);
    const hash = Object.keys(cache.entries).find((h) => cache.entries[h]?.[0]?.table === 'orders') as string;
    cache.entries[hash] = [{ schema: 'raw', table: 'payments' }];
    writeFileSync(path, JSON.stringify(cache));
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/orders').deps).toEqual(['raw/payments']);
  });

  it('replaces the entry of an edited SQL file', async () => {
    const dir = writeProject(CACHE_PROJECT);
    const path = join(dir, '.strata', 'sql-dependencies.json');
    await loadProject(dir);
    const before = Object.keys(readCache(path).entries);
    writeFiles(dir, { 'defs/staging/orders.sql': 'select * from raw.orders join raw.payments using (order_id)' });
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/orders').deps).toEqual(['raw/orders', 'raw/payments']);
    const after = readCache(path).entries;
    expect(Object.keys(after)).toHaveLength(2);
    expect(Object.keys(after).filter((h) => before.includes(h))).toHaveLength(1);
    expect(Object.values(after)).toContainEqual([
      { schema: 'raw', table: 'orders' },
      { schema: 'raw', table: 'payments' },
    ]);
  });

  it('starts from an empty cache when the file is corrupt, and rewrites it', async () => {
    const dir = writeProject({ ...CACHE_PROJECT, '.strata/sql-dependencies.json': '{ not json' });
    const project = await loadProject(dir);
    expect(project.graph.spec('staging/payments').deps).toEqual(['raw/payments']);
    expect(Object.keys(readCache(join(dir, '.strata', 'sql-dependencies.json')).entries)).toHaveLength(2);
  });

  it('is not written for a project with definition errors', async () => {
    const dir = writeProject({ ...CACHE_PROJECT, 'defs/marts/x.ts': tsAsset(`key: 'marts/x', deps: ['raw/nothing']`) });
    await definitionErrors(dir);
    expect(existsSync(join(dir, '.strata', 'sql-dependencies.json'))).toBe(false);
  });
});

describe('strata.json errors', () => {
  it('rejects invalid JSON, naming the file', async () => {
    const dir = writeProject({ 'strata.json': '{ "name": "shop", ', 'defs/raw/orders.sql': 'select 1' });
    const error = await configError(dir);
    const file = join(dir, 'strata.json');
    expect(error.code).toBe('config_invalid');
    expect(error.context.file).toBe(file);
    expect(error.message).toContain(`${file} is not valid JSON`);
  });

  it('rejects an unknown field, naming the file and the field', async () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ name: 'shop', asset: 'defs' }) });
    const error = await configError(dir);
    expect(error.context.file).toBe(join(dir, 'strata.json'));
    expect(error.message).toContain(join(dir, 'strata.json'));
    expect(error.message).toContain('"asset"');
  });

  it('rejects a field of the wrong type or range, naming it', async () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ concurrency: 0 }) });
    const error = await configError(dir);
    expect(error.message).toContain('concurrency');
  });

  it('rejects a folder without strata.json, naming the file it looked for', async () => {
    const dir = writeProject({ 'defs/raw/orders.sql': 'select 1' });
    const error = await configError(dir);
    expect(error.context.file).toBe(join(dir, 'strata.json'));
    expect(error.message).toContain(`no strata.json in ${dir}`);
  });

  it('fills defaults and makes paths absolute', () => {
    const dir = writeProject({ 'strata.json': '{}' });
    expect(loadProjectConfig(dir)).toEqual({
      name: 'strata-project',
      dir,
      assetsDir: join(dir, 'defs'),
      landingDir: join(dir, 'landing'),
      seeds: { dir: join(dir, 'seeds'), explicit: false, columnTypes: {} },
      storageFile: join(dir, '.strata', 'strata.db'),
      warehouseFile: join(dir, '.strata', 'warehouse.duckdb'),
      warehouseSettings: {},
      concurrency: 4,
      retries: { maxRetries: 0, delayMs: 1000, backoff: 'exponential', jitter: 0, maxDelayMs: 300000 },
      heartbeat: { intervalMs: 5000, timeoutMs: 60000 },
      daemon: { tickSeconds: 30, maxConcurrentRuns: 2, pools: {} },
    });
  });

  it('rejects a storage or warehouse path that is a folder, naming the path and where it came from', () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ warehouse: 'defs' }), 'defs/raw/orders.sql': 'select 1' });
    const file = join(dir, 'strata.json');
    expect(() => loadProjectConfig(dir)).toThrow(
      `"warehouse" in ${file} is ${join(dir, 'defs')}, a folder: name a file, e.g. ${join(dir, 'defs', 'warehouse.duckdb')}`,
    );
    vi.stubEnv('STRATA_STORAGE', dir);
    vi.stubEnv('STRATA_WAREHOUSE', ':memory:');
    const error = (() => {
      try {
        loadProjectConfig(dir);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe(`STRATA_STORAGE is ${dir}, a folder: name a file, e.g. ${join(dir, 'strata.db')}`);
    expect(error?.context.file).toBeUndefined();
  });

  it('accepts state files whose folders do not exist yet, and creates nothing while loading', () => {
    const dir = writeProject({ 'strata.json': JSON.stringify({ storage: 'state/deep/strata.db' }) });
    expect(loadProjectConfig(dir).storageFile).toBe(join(dir, 'state', 'deep', 'strata.db'));
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('lets STRATA_STORAGE and STRATA_WAREHOUSE override the storage and warehouse paths', () => {
    const dir = writeProject({ 'strata.json': '{}' });
    vi.stubEnv('STRATA_STORAGE', 'elsewhere/state.db');
    vi.stubEnv('STRATA_WAREHOUSE', ':memory:');
    const config = loadProjectConfig(dir);
    expect(config.storageFile).toBe(join(dir, 'elsewhere', 'state.db'));
    expect(config.warehouseFile).toBe(':memory:');
  });
});

describe('symbolic links in the asset folder', () => {
  it('follows a linked folder and a linked file: their assets are keyed by where the link is', async () => {
    const shared = writeProject({
      'sales/orders.sql': 'select 1 as order_id\n',
      'sales/totals.ts': tsAsset(`key: 'shared/totals', deps: ['shared/sales/orders']`),
    });
    const dir = writeProject({
      'strata.json': '{}',
      'defs/marts/report.sql': 'select * from shared.sales__orders\n',
      'elsewhere/one.sql': 'select 1 as one\n',
    });
    symlinkSync(shared, join(dir, 'defs', 'shared'));
    symlinkSync(join(dir, 'elsewhere', 'one.sql'), join(dir, 'defs', 'marts', 'one.sql'));
    const project = await loadProject(dir);
    expect(depsOf(project)).toEqual({
      'marts/one': [],
      'marts/report': ['shared/sales/orders'],
      'shared/sales/orders': [],
      'shared/totals': ['shared/sales/orders'],
    });
    expect(project.definitions.get('shared/sales/orders')?.file).toBe('defs/shared/sales/orders.sql');
  });

  it('reports a link that leads back to a folder it is in, and a broken link, naming each', async () => {
    const dir = writeProject({ 'strata.json': '{}', 'defs/raw/orders.sql': 'select 1 as id\n' });
    symlinkSync(join(dir, 'defs'), join(dir, 'defs', 'raw', 'again'));
    symlinkSync(join(dir, 'gone.sql'), join(dir, 'defs', 'raw', 'gone.sql'));
    const error = await definitionErrors(dir);
    expect(error.errors.map((e) => [e.code, formatLocated(e)])).toEqual([
      ['symlink_loop', `defs/raw/again: symbolic link to ${join(dir, 'defs')}, a folder it is inside of: it would be loaded forever (remove the link)`],
      ['symlink_broken', `defs/raw/gone.sql: symbolic link to ${join(dir, 'gone.sql')}, which does not exist`],
    ]);
  });
});
