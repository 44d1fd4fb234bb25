/**
 * Loading partitioned projects from temp folders: SQL headers and TypeScript assets with
 * partitions become specs, and the partition problems only the loader can see (a mapping that
 * names something other than a dependency, template variables the asset's partitions cannot
 * bind, a partitioned view) are collected across files, each naming its asset and file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DefinitionErrors, type DefinitionError } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';

/** TypeScript assets in temp projects import `asset` as 'strata' (vitest's alias) and the partition factories by path: the public API does not export them. */
const PARTITIONS_MODULE = fileURLToPath(new URL('../../core/model/partitions/index.ts', import.meta.url));

const created: string[] = [];

function writeProject(files: Readonly<Record<string, string>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-partitions-load-'));
  created.push(dir);
  const all = { 'package.json': '{"type":"module"}', 'strata.json': JSON.stringify({ name: 'partitions-load' }), ...files };
  for (const [file, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

async function loadErrors(dir: string): Promise<readonly DefinitionError[]> {
  const error = await loadProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DefinitionErrors);
  return (error as DefinitionErrors).errors;
}

function located(errors: readonly DefinitionError[]): { assetKey?: string; file?: string; message: string }[] {
  return errors.map((e) => ({ ...e.context, message: e.message }));
}

beforeEach(() => {
  vi.stubEnv('STRATA_STORAGE', undefined);
  vi.stubEnv('STRATA_WAREHOUSE', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const RAW_EVENTS = [
  '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
  '-- partition_column: day',
  '-- backfill_policy: single_run(max=10)',
  "select DATE '2025-01-01' + (i % 31)::INTEGER as day, i as id from range(0, 62) t(i)",
  'where day >= {{ partition_start }} and day < {{ partition_end }}',
].join('\n');

describe('a valid partitioned project', () => {
  it('loads SQL and TypeScript partitioned assets with their partitions, columns, mappings, policies and inferred deps', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      'defs/raw/rates.ts': `import { asset } from 'strata';\nexport const rates = asset({ key: 'raw/rates', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1.5 as rate') }) });\n`,
      'defs/staging/events.ts': [
        `import { asset } from 'strata';`,
        `import { daily } from ${JSON.stringify(PARTITIONS_MODULE)};`,
        `export const events = asset({`,
        `  key: 'staging/events',`,
        `  deps: ['raw/events', 'raw/rates'],`,
        `  partitions: daily({ start: '2025-01-01', end: '2025-02-01' }),`,
        `  partitionColumn: 'day',`,
        `  materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replacePartitions('select * from raw.events') }),`,
        `});`,
      ].join('\n'),
      'defs/marts/weekly.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
        '-- partition_column: day',
        '-- partition_mapping: staging/events = window(-6, 0)',
        'select {{ partition_start }}::date as day, count(*) as n from staging.events',
        'where day > {{ partition_start }} - interval 7 day and day < {{ partition_end }}',
      ].join('\n'),
      'defs/marts/by_region.sql': [
        '-- partitioned_by: static(eu, us)',
        '-- partition_column: region',
        'select {{ partition_key }} as region, count(*) as n from raw.events',
      ].join('\n'),
    });
    const project = await loadProject(dir);
    const { graph } = project;
    expect(graph.keys).toEqual(['raw/events', 'raw/rates', 'marts/by_region', 'staging/events', 'marts/weekly']);
    const raw = graph.spec('raw/events');
    expect(String(raw.partitions)).toBe('daily(start=2025-01-01, timezone=UTC, end=2025-02-01)');
    expect(raw.partitionColumn).toBe('day');
    expect(raw.backfillPolicy).toEqual({ type: 'single_run', maxPartitionsPerRun: 10 });
    expect(graph.spec('staging/events').backfillPolicy).toEqual({ type: 'multi_run' });
    const weekly = graph.spec('marts/weekly');
    expect(weekly.deps).toEqual(['staging/events']);
    expect(String(weekly.partitionMappings['staging/events'])).toBe('window(-6, 0)');
    expect(graph.spec('marts/by_region').deps).toEqual(['raw/events']);
    expect(String(graph.spec('marts/by_region').partitions)).toBe('static(eu, us)');
  });
});

describe('partition problems found while loading', () => {
  it('rejects a partition_mapping naming a table the query does not read, naming the asset and file', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      'defs/raw/other.sql': RAW_EVENTS,
      'defs/staging/events.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
        '-- partition_column: day',
        '-- partition_mapping: raw/other = window(-1)',
        'select * from raw.events where day >= {{ partition_start }} and day < {{ partition_end }}',
      ].join('\n'),
    });
    expect(located(await loadErrors(dir))).toEqual([
      { assetKey: 'staging/events', file: 'defs/staging/events.sql', message: 'a partition mapping names "raw/other", which is not a dependency' },
    ]);
  });

  it('rejects a partition mapping naming an asset that does not exist', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      'defs/staging/events.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
        '-- partition_column: day',
        '-- partition_mapping: raw/evnts = identity',
        'select * from raw.events where day >= {{ partition_start }} and day < {{ partition_end }}',
      ].join('\n'),
    });
    const errors = located(await loadErrors(dir));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ assetKey: 'staging/events', file: 'defs/staging/events.sql' });
    expect(errors[0]?.message).toContain('"raw/evnts"');
  });

  it('rejects template variables the asset cannot bind, and a partitioned view, collecting all of them', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      // No partitions at all: no variable can be bound.
      'defs/staging/plain.sql': 'select * from raw.events where day = {{ partition_key }}',
      // Static partitions have a key but no window.
      'defs/staging/regions.sql': [
        '-- partitioned_by: static(eu, us)',
        '-- partition_column: region',
        'select {{ partition_key }} as region, * from raw.events where day >= {{ partition_start }}',
      ].join('\n'),
      'defs/staging/typo.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
        '-- partition_column: day',
        'select * from raw.events where day >= {{ partition_start }} and day < {{ ds_end }}',
      ].join('\n'),
      'defs/staging/view.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-02-01)',
        '-- partition_column: day',
        '-- materialization: view',
        'select * from raw.events where day >= {{ partition_start }} and day < {{ partition_end }}',
      ].join('\n'),
    });
    expect(located(await loadErrors(dir))).toEqual([
      {
        assetKey: 'staging/plain',
        file: 'defs/staging/plain.sql',
        message: '{{ partition_key }} is used, but the asset is not partitioned (add partitioned_by)',
      },
      {
        assetKey: 'staging/regions',
        file: 'defs/staging/regions.sql',
        message: '{{ partition_start }} needs time-window partitions; static partitions only have {{ partition_key }}',
      },
      {
        assetKey: 'staging/typo',
        file: 'defs/staging/typo.sql',
        message:
          'unknown template variable {{ ds_end }} (use {{ partition_key }}, {{ partition_start }}, {{ partition_end }}, {{ landing }}, {{ project_dir }}, {{ this }}, {{ is_incremental }}, {{ watermark }})',
      },
      {
        assetKey: 'staging/view',
        file: 'defs/staging/view.sql',
        message: 'a partitioned SQL asset is written partition by partition, so it cannot be a view',
      },
    ]);
  });

  it('reports header errors of several files together, each with its asset and file', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      'defs/staging/a.sql': ['-- partitioned_by: fortnightly(start=2025-01-01)', '-- partition_column: day', 'select * from raw.events'].join('\n'),
      'defs/staging/b.sql': ['-- partitioned_by: daily(start=2025-01-01)', 'select * from raw.events'].join('\n'),
      'defs/staging/c.sql': [
        '-- partitioned_by: daily(start=2025-01-01)',
        '-- partition_column: day',
        '-- backfill_policy: single-run',
        'select * from raw.events',
      ].join('\n'),
      'defs/staging/d.sql': [
        '-- partitioned_by: daily(start=2025-01-01, timezone=Europe/Atlantis)',
        '-- partition_column: day',
        'select * from raw.events',
      ].join('\n'),
    });
    const errors = located(await loadErrors(dir));
    expect(errors.map((e) => e.file)).toEqual(['defs/staging/a.sql', 'defs/staging/b.sql', 'defs/staging/c.sql', 'defs/staging/d.sql']);
    expect(errors.map((e) => e.assetKey)).toEqual(['staging/a', 'staging/b', 'staging/c', 'staging/d']);
    expect(errors[0]?.message).toContain('unknown partitions "fortnightly"');
    expect(errors[1]?.message).toContain('needs partition_column');
    expect(errors[2]?.message).toContain('not "single-run"');
    expect(errors[3]?.message).toContain('unknown time zone "Europe/Atlantis"');
  });

  it('reads a TypeScript dependency given with a mapping, and rejects bad partitions in a module with its file', async () => {
    const dir = writeProject({
      'defs/raw/events.sql': RAW_EVENTS,
      'defs/staging/events.ts': [
        `import { asset } from 'strata';`,
        `import { daily, timeWindow } from ${JSON.stringify(PARTITIONS_MODULE)};`,
        `export const events = asset({`,
        `  key: 'staging/events',`,
        `  deps: [{ key: 'raw/events', mapping: timeWindow({ startOffset: -1, endOffset: 0 }) }],`,
        `  partitions: daily({ start: '2025-01-01', end: '2025-02-01' }),`,
        `  partitionColumn: 'day',`,
        `  materialize: () => undefined,`,
        `});`,
      ].join('\n'),
    });
    const spec = (await loadProject(dir)).graph.spec('staging/events');
    expect(spec.deps).toEqual(['raw/events']);
    expect(String(spec.partitionMappings['raw/events'])).toBe('window(-1, 0)');

    // A new folder: Node caches the module imported from the first one.
    const broken = writeProject({
      'defs/staging/events.ts': [
        `import { asset } from 'strata';`,
        `import { daily } from ${JSON.stringify(PARTITIONS_MODULE)};`,
        `export const events = asset({ key: 'staging/events', partitions: daily({ start: '2025-01-01', timezone: 'Mars/Olympus' }), materialize: () => undefined });`,
      ].join('\n'),
    });
    const errors = located(await loadErrors(broken));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.file).toBe('defs/staging/events.ts');
    expect(errors[0]?.message).toContain('unknown time zone "Mars/Olympus"');
  });
});
