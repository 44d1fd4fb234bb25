/**
 * Scheduling: bounded concurrency, dependency order and deterministic plans, with real DuckDB
 * and SQLite files in a temp dir, for projects built in code and loaded from a folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset, type AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import type { ExecuteRunOptions, RunResult } from '../../core/engine/execution/executor.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { ProjectConfig } from '../../core/model/config/project-config.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import type { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import type { SqliteStorage } from '../../storage/index.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';

let dir: string;
let config: ProjectConfig;
let storage: SqliteStorage;
let warehouse: DuckDBWarehouse;

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-executor-scheduling-', { name: 'scheduling-test', concurrency: 2 });
  ({ dir, config, storage, warehouse } = workspace);
});

afterEach(() => workspace.close());

function run(project: Project, keys?: readonly string[], extra?: Partial<ExecuteRunOptions>): Promise<RunResult> {
  return workspace.run(project, keys, extra);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Span {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Six independent assets `raw/job_1..6` that each take ~`ms` and write a one-row table, then
 * `marts/all_jobs` that reads them all and `marts/final` after it. Every asset records when it ran.
 */
function timedProject(spans: Span[], ms = 120): Project {
  const timed = (key: string, deps: string[], write: (table: string) => string) =>
    asset({
      key,
      deps,
      async materialize(ctx) {
        const start = performance.now();
        await sleep(ms);
        const rowCount = await ctx.warehouse.replaceTable(write(ctx.table));
        spans.push({ key, start, end: performance.now() });
        return { rowCount };
      },
    });
  const jobs = [1, 2, 3, 4, 5, 6].map((i) => timed(`raw/job_${i}`, [], () => `select ${i} as job`));
  const jobKeys = jobs.map((j) => j.spec.key);
  return buildProject(config, [
    ...jobs,
    timed('marts/all_jobs', jobKeys, () => jobKeys.map((k) => `select job from ${k.replace('/', '.')}`).join(' union all ')),
    timed('marts/final', ['marts/all_jobs'], () => 'select sum(job) as total from marts.all_jobs'),
  ]);
}

/** The most spans running at any one moment. */
function maxOverlap(spans: readonly Span[]): number {
  const edges = spans.flatMap((s) => [
    { at: s.start, delta: 1 },
    { at: s.end, delta: -1 },
  ]);
  // Ends sort before starts at the same instant: touching spans do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const e of edges) {
    running += e.delta;
    most = Math.max(most, running);
  }
  return most;
}

describe('bounded concurrency', () => {
  it('never runs more than `concurrency` steps at once, and uses that many', async () => {
    const spans: Span[] = [];
    const project = timedProject(spans);
    const result = await run(project, project.graph.keys, { concurrency: 2 });

    expect(result.status).toBe('success');
    expect(spans).toHaveLength(8);
    expect(maxOverlap(spans)).toBe(2);
    // Six 120 ms jobs two at a time take at least three rounds.
    const jobs = spans.filter((s) => s.key.startsWith('raw/'));
    expect(Math.max(...jobs.map((s) => s.end)) - Math.min(...jobs.map((s) => s.start))).toBeGreaterThanOrEqual(3 * 120 - 10);
    expect(await warehouse.query('select total from marts.final')).toEqual([{ total: 21 }]);
  });

  it('respects dependency order whatever the concurrency', async () => {
    for (const concurrency of [1, 3, 8]) {
      const spans: Span[] = [];
      const project = timedProject(spans, 60);
      const result = await run(project, project.graph.keys, { concurrency });
      expect(result.status).toBe('success');
      const span = (key: string) => spans.find((s) => s.key === key) as Span;
      const lastJobEnd = Math.max(...spans.filter((s) => s.key.startsWith('raw/')).map((s) => s.end));
      expect(span('marts/all_jobs').start, `concurrency ${concurrency}`).toBeGreaterThanOrEqual(lastJobEnd);
      expect(span('marts/final').start).toBeGreaterThanOrEqual(span('marts/all_jobs').end);
      expect(maxOverlap(spans)).toBe(Math.min(concurrency, 6));
    }
  });

  it("defaults to the project's concurrency", async () => {
    const spans: Span[] = [];
    const project = timedProject(spans, 60);
    expect(project.config.concurrency).toBe(2);
    expect((await run(project)).status).toBe('success');
    expect(maxOverlap(spans)).toBe(2);
  });

  it('starts ready steps in plan order when slots are scarce', async () => {
    const spans: Span[] = [];
    const project = timedProject(spans, 20);
    await run(project, project.graph.keys, { concurrency: 1 });
    expect(spans.map((s) => s.key)).toEqual(buildPlan(project.graph, project.graph.keys).steps.map((s) => s.key));
  });
});

describe('deterministic plans', () => {
  const definitions = (): AssetDefinition[] => [
    sqlAsset('staging/b', 'select 1 as x', ['raw/b']),
    sqlAsset('staging/a', 'select 1 as x', ['raw/a', 'raw/b']),
    sqlAsset('marts/z', 'select 1 as x', ['staging/a']),
    sqlAsset('marts/m', 'select 1 as x', ['staging/b', 'raw/c']),
    asset({ key: 'raw/c', materialize: () => undefined }),
    asset({ key: 'raw/b', materialize: () => undefined }),
    asset({ key: 'raw/a', materialize: () => undefined }),
  ];

  it('orders steps by layer, then key, however the definitions were listed', () => {
    const forward = buildProject(config, definitions());
    const backward = buildProject(config, definitions().reverse());
    const shuffled = buildProject(
      config,
      [...definitions()].sort((a, b) => (a.spec.key.length % 3) - (b.spec.key.length % 3) || (a.spec.key > b.spec.key ? -1 : 1)),
    );

    const plan = buildPlan(forward.graph, forward.graph.keys);
    expect(plan.steps.map((s) => s.key)).toEqual(['raw/a', 'raw/b', 'raw/c', 'staging/a', 'staging/b', 'marts/m', 'marts/z']);
    for (const other of [backward, shuffled]) {
      expect(buildPlan(other.graph, other.graph.keys)).toEqual(plan);
      expect(other.definitionVersion).toBe(forward.definitionVersion);
      expect(Object.fromEntries(other.codeVersions)).toEqual(Object.fromEntries(forward.codeVersions));
    }
    // A partial selection waits for its nearest planned ancestors, also deterministically.
    const partial = buildPlan(backward.graph, new Set(['marts/z', 'raw/a', 'marts/m', 'raw/b']));
    expect(partial.steps).toEqual([
      { id: 'raw/a', key: 'raw/a', partitions: null, waitsFor: [] },
      { id: 'raw/b', key: 'raw/b', partitions: null, waitsFor: [] },
      { id: 'marts/m', key: 'marts/m', partitions: null, waitsFor: ['raw/b'] },
      { id: 'marts/z', key: 'marts/z', partitions: null, waitsFor: ['raw/a', 'raw/b'] },
    ]);
    expect(Object.isFrozen(partial) && Object.isFrozen(partial.steps) && Object.isFrozen(partial.steps[0])).toBe(true);
  });

  it('loads a project folder (SQL and TypeScript assets) into the same plan twice, and runs it', async () => {
    const defs = path.join(dir, 'defs');
    fs.mkdirSync(path.join(defs, 'staging'), { recursive: true });
    fs.mkdirSync(path.join(defs, 'marts'), { recursive: true });
    fs.mkdirSync(path.join(defs, 'raw'), { recursive: true });
    fs.writeFileSync(
      path.join(defs, 'raw', 'cities.ts'),
      `import { asset } from 'strata';
export const cities = asset({
  key: 'raw/cities',
  async materialize(ctx) {
    await ctx.warehouse.replaceTable("select * from (values ('Lyon', 'fr'), ('Porto', 'pt'), ('Nice', 'fr')) as t(city, country)");
  },
});
`,
    );
    fs.writeFileSync(path.join(defs, 'staging', 'cities.sql'), '-- group: staging\nselect city, upper(country) as country from raw.cities\n');
    fs.writeFileSync(path.join(defs, 'marts', 'countries.sql'), 'select country, count(*) as cities from staging.cities group by country\n');
    fs.writeFileSync(
      path.join(defs, 'marts', 'report.ts'),
      `import { asset } from 'strata';
export const report = asset({
  key: 'marts/report',
  deps: ['marts/countries', 'staging/cities'],
  async materialize(ctx) {
    const rowCount = await ctx.warehouse.replaceTable('select country, cities from marts.countries where cities > 1');
    return { rowCount, metadata: { note: 'countries with several cities' } };
  },
});
`,
    );

    const first = await loadProject(dir);
    const second = await loadProject(dir);
    const keys = ['raw/cities', 'staging/cities', 'marts/countries', 'marts/report'];
    expect(buildPlan(first.graph, first.graph.keys).steps.map((s) => s.key)).toEqual(keys);
    expect(buildPlan(second.graph, second.graph.keys)).toEqual(buildPlan(first.graph, first.graph.keys));
    expect(second.definitionVersion).toBe(first.definitionVersion);
    expect(Object.fromEntries(second.codeVersions)).toEqual(Object.fromEntries(first.codeVersions));
    expect(first.graph.parents('marts/countries')).toEqual(['staging/cities']);
    expect(first.definitions.get('marts/report')?.file).toBe('defs/marts/report.ts');

    const result = await run(first);
    expect(result.status).toBe('success');
    expect(result.steps.map((s) => [s.key, s.rowCount])).toEqual([
      ['raw/cities', 3],
      ['staging/cities', 3],
      ['marts/countries', 2],
      ['marts/report', 1],
    ]);
    expect(await warehouse.query('select * from marts.report')).toEqual([{ country: 'FR', cities: 2 }]);
    const latest = await storage.latestMaterializations(['marts/report']);
    expect(latest[0]).toMatchObject({ rowCount: 1, metadata: { note: 'countries with several cities' }, codeVersion: first.codeVersions.get('marts/report') });
  });
});
