/**
 * The executor end to end in-process: a small chain of SQL and TypeScript assets runs against
 * a real DuckDB file and a real SQLite file in a temp dir, and everything it records (tables,
 * materializations with code / data / input versions, the event log, lineage) is checked.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { executeRun, type ExecuteRunOptions, type RunResult } from '../../core/engine/execution/executor.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { ProjectConfig } from '../../core/model/config/project-config.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import type { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import type { SqliteStorage } from '../../storage/index.ts';
import { openTempWorkspace, sqlAsset, withoutSchema, type TempWorkspace } from './temp-workspace.ts';
import type { EventRecord, MaterializationRecord } from '../../storage/index.ts';

let config: ProjectConfig;
let storage: SqliteStorage;
let warehouse: DuckDBWarehouse;

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-executor-', { name: 'executor-test', concurrency: 2 });
  ({ config, storage, warehouse } = workspace);
});

afterEach(() => workspace.close());

/** Runs `selection` (a list of keys) of `project`, recording every event seen live. */
async function run(project: Project, keys: readonly string[], extra: Partial<ExecuteRunOptions> = {}): Promise<{ result: RunResult; live: EventRecord[] }> {
  const live: EventRecord[] = [];
  const result = await executeRun({
    project,
    plan: buildPlan(project.graph, keys),
    storage,
    warehouse,
    landing: new FileLandingZone(config.landingDir),
    selection: keys.join(', '),
    onEvent: (event) => live.push(event),
    ...extra,
  });
  return { result, live };
}

/** raw/numbers (TS) → staging/evens (SQL) → marts/summary (TS, also reads raw/labels) and marts/evens_view (SQL view). */
function chainProject(): Project {
  return buildProject(config, [
    asset({
      key: 'raw/numbers',
      async materialize(ctx) {
        await ctx.warehouse.replaceTable('select range::integer as n from range(1, 11)');
        return { metadata: { source: 'range' } };
      },
    }),
    asset({
      key: 'raw/labels',
      codeVersion: 'labels-v1',
      async materialize(ctx) {
        await ctx.warehouse.run(`create or replace table ${ctx.table} (parity varchar, label varchar)`);
        await ctx.warehouse.run(`insert into ${ctx.table} values ($1, $2), ($3, $4)`, ['even', 'Even numbers', 'odd', 'Odd numbers']);
        return { rowCount: 2 };
      },
    }),
    sqlAsset('staging/evens', 'select n from raw.numbers where n % 2 = 0', ['raw/numbers']),
    sqlAsset('marts/evens_view', 'select n * 10 as n10 from staging.evens', ['staging/evens'], 'view'),
    asset({
      key: 'marts/summary',
      deps: ['staging/evens', 'raw/labels'],
      async materialize(ctx) {
        const rowCount = await ctx.warehouse.replaceTable(
          `select l.label, count(*)::integer as numbers, sum(e.n)::integer as total
           from ${ctx.warehouse.tableOf('staging/evens')} as e
           join ${ctx.warehouse.tableOf('raw/labels')} as l on l.parity = 'even'
           group by l.label`,
        );
        ctx.log.info(`summarised ${rowCount} row(s)`);
        return { rowCount };
      },
    }),
  ]);
}

const CHAIN_KEYS = ['raw/labels', 'raw/numbers', 'staging/evens', 'marts/evens_view', 'marts/summary'];

function byKey(list: readonly MaterializationRecord[]): Map<string, MaterializationRecord> {
  return new Map(list.map((m) => [m.assetKey, m]));
}

describe('executeRun on a chain of SQL and TypeScript assets', () => {
  it('writes every table and reports success for every step in plan order', async () => {
    const project = chainProject();
    const { result } = await run(project, CHAIN_KEYS);

    expect(result.status).toBe('success');
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['raw/labels', 'success'],
      ['raw/numbers', 'success'],
      ['staging/evens', 'success'],
      ['marts/evens_view', 'success'],
      ['marts/summary', 'success'],
    ]);
    expect(Object.fromEntries(result.steps.map((s) => [s.key, s.rowCount]))).toEqual({
      'raw/labels': 2,
      'raw/numbers': 10,
      'staging/evens': 5,
      'marts/evens_view': null,
      'marts/summary': 1,
    });

    expect(await warehouse.query('select n from staging.evens order by n')).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }, { n: 8 }, { n: 10 }]);
    expect(await warehouse.query('select n10 from marts.evens_view order by n10')).toEqual([{ n10: 20 }, { n10: 40 }, { n10: 60 }, { n10: 80 }, { n10: 100 }]);
    expect(await warehouse.query('select * from marts.summary')).toEqual([{ label: 'Even numbers', numbers: 5, total: 30 }]);
    expect(await warehouse.query(`select table_schema || '.' || table_name as name, table_type from information_schema.tables order by name`)).toEqual([
      { name: '_strata.commits', table_type: 'BASE TABLE' },
      { name: 'marts.evens_view', table_type: 'VIEW' },
      { name: 'marts.summary', table_type: 'BASE TABLE' },
      { name: 'raw.labels', table_type: 'BASE TABLE' },
      { name: 'raw.numbers', table_type: 'BASE TABLE' },
      { name: 'staging.evens', table_type: 'BASE TABLE' },
    ]);
    // Storage recorded every step: the warehouse's own record of the commits is gone.
    expect(await warehouse.query('select * from _strata.commits')).toEqual([]);

    const stored = await storage.getRun(result.runId);
    expect(stored).toMatchObject({ id: result.runId, status: 'success', trigger: 'manual', error: null, assetKeys: CHAIN_KEYS });
    expect(stored?.endedAt).toBeGreaterThanOrEqual(stored?.startedAt ?? Infinity);
  });

  it('records one materialization per asset with row counts, code versions and input data versions', async () => {
    const project = chainProject();
    const { result } = await run(project, CHAIN_KEYS);
    const latest = byKey(await storage.latestMaterializations());

    expect([...latest.keys()].sort()).toEqual([...CHAIN_KEYS].sort());
    for (const key of CHAIN_KEYS) {
      const m = latest.get(key) as MaterializationRecord;
      expect(m.runId).toBe(result.runId);
      expect(m.partition).toBeNull();
      expect(m.codeVersion).toBe(project.codeVersions.get(key));
      expect(m.dataVersion).toMatch(/^[0-9a-f]{16}$/);
      expect(await storage.materializationHistory(key)).toHaveLength(1);
    }
    expect(latest.get('raw/labels')?.codeVersion).toBe('labels-v1');
    expect(withoutSchema(latest.get('raw/numbers')?.metadata)).toEqual({ source: 'range' });
    expect(Object.fromEntries([...latest].map(([k, m]) => [k, m.rowCount]))).toEqual({
      'raw/labels': 2,
      'raw/numbers': 10,
      'staging/evens': 5,
      'marts/evens_view': null,
      'marts/summary': 1,
    });

    const version = (key: string) => latest.get(key)?.dataVersion as string;
    expect(latest.get('raw/numbers')?.inputDataVersions).toEqual({});
    expect(latest.get('raw/labels')?.inputDataVersions).toEqual({});
    expect(latest.get('staging/evens')?.inputDataVersions).toEqual({ 'raw/numbers': version('raw/numbers') });
    expect(latest.get('marts/evens_view')?.inputDataVersions).toEqual({ 'staging/evens': version('staging/evens') });
    expect(latest.get('marts/summary')?.inputDataVersions).toEqual({
      'raw/labels': version('raw/labels'),
      'staging/evens': version('staging/evens'),
    });
  });

  it('names the stored upstream data versions when only downstream assets run, and derives data versions deterministically', async () => {
    const project = chainProject();
    await run(project, CHAIN_KEYS);
    const first = byKey(await storage.latestMaterializations());

    // Only staging/evens and its downstream: raw/* are not planned, their stored versions are inputs.
    const { result } = await run(project, ['staging/evens', 'marts/evens_view', 'marts/summary']);
    expect(result.status).toBe('success');
    const second = byKey(await storage.latestMaterializations());
    expect(second.get('raw/numbers')).toEqual(first.get('raw/numbers'));
    expect(second.get('staging/evens')?.runId).toBe(result.runId);
    expect(second.get('staging/evens')?.inputDataVersions).toEqual({ 'raw/numbers': first.get('raw/numbers')?.dataVersion });
    expect(second.get('marts/summary')?.inputDataVersions).toEqual({
      'raw/labels': first.get('raw/labels')?.dataVersion,
      'staging/evens': second.get('staging/evens')?.dataVersion,
    });
    // Same code, same inputs: same data.
    for (const key of ['staging/evens', 'marts/evens_view', 'marts/summary']) {
      expect(second.get(key)?.dataVersion, key).toBe(first.get(key)?.dataVersion);
      expect(await storage.materializationHistory(key), key).toHaveLength(2);
    }

    // A root asset without inputs writes new data every run, and the change flows downstream.
    const { result: third } = await run(project, ['raw/numbers', 'staging/evens']);
    const after = byKey(await storage.latestMaterializations());
    expect(third.status).toBe('success');
    expect(after.get('raw/numbers')?.dataVersion).not.toBe(first.get('raw/numbers')?.dataVersion);
    expect(after.get('staging/evens')?.dataVersion).not.toBe(first.get('staging/evens')?.dataVersion);
    expect(after.get('staging/evens')?.inputDataVersions).toEqual({ 'raw/numbers': after.get('raw/numbers')?.dataVersion });
  });

  it('appends events in order: run_start, then start/log/materialization/success per step, then run_success', async () => {
    const project = chainProject();
    const { result, live } = await run(project, CHAIN_KEYS);
    const events = await storage.listEvents(result.runId);

    expect(events.every((e) => e.runId === result.runId)).toBe(true);
    const ids = events.map((e) => e.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events[0]).toMatchObject({ type: 'run_start', assetKey: null, data: { steps: 5 } });
    expect(events.at(-1)).toMatchObject({ type: 'run_success', assetKey: null, level: 'info' });
    expect(events.filter((e) => e.type.startsWith('run_'))).toHaveLength(2);

    for (const key of CHAIN_KEYS) {
      const own = events.filter((e) => e.assetKey === key).map((e) => e.type);
      const expected = key === 'marts/summary' ? ['step_start', 'log', 'materialization', 'step_success'] : ['step_start', 'materialization', 'step_success'];
      expect(own, key).toEqual(expected);
    }
    // A step starts only after each of its upstream steps has succeeded.
    const at = (type: string, key: string) => events.findIndex((e) => e.type === type && e.assetKey === key);
    for (const key of CHAIN_KEYS) {
      for (const parent of project.graph.parents(key)) expect(at('step_success', parent), `${parent} before ${key}`).toBeLessThan(at('step_start', key));
    }

    const latest = byKey(await storage.latestMaterializations());
    for (const e of events.filter((x) => x.type === 'materialization')) {
      const m = latest.get(e.assetKey as string);
      expect(e.data).toMatchObject({ dataVersion: m?.dataVersion, codeVersion: m?.codeVersion, rowCount: m?.rowCount });
    }
    expect(events.find((e) => e.type === 'log')).toMatchObject({ assetKey: 'marts/summary', level: 'info', message: 'summarised 1 row(s)' });

    // The live feed saw every stored event (logs as they happened, so possibly earlier).
    const strip = (e: EventRecord) => `${e.type}|${e.assetKey}|${e.message}`;
    expect(live.map(strip).sort()).toEqual(events.map(strip).sort());
    expect(live[0]?.type).toBe('run_start');
    expect(live.at(-1)?.type).toBe('run_success');
  });

  it('records the lineage edges of the definition version', async () => {
    const project = chainProject();
    await run(project, ['raw/numbers']);

    expect(project.definitionVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(await storage.latestDefinitionVersion()).toBe(project.definitionVersion);
    const edges = (await storage.lineage(project.definitionVersion)).map((e) => `${e.upstream} -> ${e.downstream}`).sort();
    // The whole graph's edges, not only those of the planned steps.
    expect(edges).toEqual([
      'raw/labels -> marts/summary',
      'raw/numbers -> staging/evens',
      'staging/evens -> marts/evens_view',
      'staging/evens -> marts/summary',
    ]);

    // A changed graph is a new definition version with its own edges; the old one is kept.
    const grown = buildProject(config, [
      ...chainProject().definitions.values(),
      sqlAsset('marts/odds', 'select n from raw.numbers where n % 2 = 1', ['raw/numbers']),
    ]);
    expect(grown.definitionVersion).not.toBe(project.definitionVersion);
    await run(grown, ['raw/numbers']);
    expect(await storage.latestDefinitionVersion()).toBe(grown.definitionVersion);
    expect(await storage.lineage(grown.definitionVersion)).toContainEqual({ upstream: 'raw/numbers', downstream: 'marts/odds', via: 'data' });
    expect(await storage.lineage(project.definitionVersion)).toHaveLength(4);
  });
});
