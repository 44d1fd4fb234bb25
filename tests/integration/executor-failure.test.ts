/**
 * How the executor fails and cancels, against a real DuckDB file and a real SQLite file: a
 * failed step skips everything downstream but not its siblings, and a failed or canceled step
 * leaves its previous table exactly as it was.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import type { ExecuteRunOptions, RunResult } from '../../core/engine/execution/executor.ts';
import type { ProjectConfig } from '../../core/model/config/project-config.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import type { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import type { SqliteStorage } from '../../storage/index.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';
import type { EventRecord } from '../../storage/index.ts';

let config: ProjectConfig;
let storage: SqliteStorage;
let warehouse: DuckDBWarehouse;

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-executor-failure-', { name: 'executor-failure-test', concurrency: 1 });
  ({ config, storage, warehouse } = workspace);
});

afterEach(() => workspace.close());

function run(project: Project, keys?: readonly string[], extra?: Partial<ExecuteRunOptions>): Promise<RunResult> {
  return workspace.run(project, keys, extra);
}

function statuses(result: RunResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.key, s.status]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function tableExists(key: string): Promise<boolean> {
  const [schema, table] = key.split('/');
  const rows = await warehouse.query('select count(*) as n from information_schema.tables where table_schema = $1 and table_name = $2', [
    schema ?? '',
    table ?? '',
  ]);
  return rows[0]?.n === 1;
}

const WORDS = asset({
  key: 'raw/words',
  async materialize(ctx) {
    await ctx.warehouse.replaceTable(`select * from (values ('alpha'), ('beta'), ('gamma')) as t(word)`);
  },
});

describe('a failing step', () => {
  it('fails the run, stores the error, skips everything downstream and lets siblings finish', async () => {
    const project = buildProject(config, [
      WORDS,
      // Fails at run time: the words are not integers.
      sqlAsset('staging/bad', 'select cast(word as integer) / 2 as half from raw.words', ['raw/words']),
      sqlAsset('marts/after_bad', 'select * from staging.bad', ['staging/bad']),
      asset({ key: 'marts/deeper', deps: ['marts/after_bad'], materialize: (ctx) => ctx.warehouse.replaceTable('select 1 as x').then(() => undefined) }),
      // Reads a failed and a healthy parent: skipped too.
      sqlAsset('marts/mixed', 'select * from staging.bad, staging.good', ['staging/bad', 'staging/good']),
      sqlAsset('staging/good', 'select upper(word) as word from raw.words', ['raw/words']),
      sqlAsset('marts/after_good', 'select count(*) as words from staging.good', ['staging/good']),
    ]);
    const result = await run(project);

    expect(result.status).toBe('failed');
    expect(result.error).toBe('1 step failed: staging/bad');
    expect(statuses(result)).toEqual({
      'raw/words': 'success',
      'staging/bad': 'failed',
      'staging/good': 'success',
      'marts/after_bad': 'skipped',
      'marts/after_good': 'success',
      'marts/mixed': 'skipped',
      'marts/deeper': 'skipped',
    });
    const failed = result.steps.find((s) => s.key === 'staging/bad');
    expect(failed?.error).toMatch(/Conversion Error.*alpha/s);

    const stored = await storage.getRun(result.runId);
    expect(stored).toMatchObject({ status: 'failed', error: '1 step failed: staging/bad' });
    expect(stored?.endedAt).not.toBeNull();

    const events = await storage.listEvents(result.runId);
    expect(events[0]?.type).toBe('run_start');
    expect(events.at(-1)).toMatchObject({ type: 'run_failure', level: 'error', message: '1 step failed: staging/bad' });
    const failure = events.find((e) => e.type === 'step_failure');
    expect(failure).toMatchObject({ assetKey: 'staging/bad', level: 'error', data: { error: failed?.error, canceled: false } });
    expect(failure?.message).toContain('staging/bad failed: Conversion Error');
    const skipped = events.filter((e) => e.type === 'step_skipped');
    expect(skipped.map((e) => e.assetKey).sort()).toEqual(['marts/after_bad', 'marts/deeper', 'marts/mixed']);
    for (const e of skipped) expect(e).toMatchObject({ level: 'warn', data: { reason: 'upstream staging/bad did not succeed' } });
    // Nothing downstream of the failure ever started.
    expect(
      events
        .filter((e) => e.type === 'step_start')
        .map((e) => e.assetKey)
        .sort(),
    ).toEqual(['marts/after_good', 'raw/words', 'staging/bad', 'staging/good']);

    const materialized = (await storage.latestMaterializations()).map((m) => m.assetKey).sort();
    expect(materialized).toEqual(['marts/after_good', 'raw/words', 'staging/good']);
    expect(await tableExists('staging/bad')).toBe(false);
    expect(await tableExists('marts/after_bad')).toBe(false);
    expect(await warehouse.query('select words from marts.after_good')).toEqual([{ words: 3 }]);
  });

  it('reports every failed step when several fail', async () => {
    const project = buildProject(config, [
      WORDS,
      sqlAsset('staging/no_such_column', 'select missing from raw.words', ['raw/words']),
      asset({
        key: 'staging/throws',
        deps: ['raw/words'],
        materialize() {
          throw new Error('the upstream API said no');
        },
      }),
    ]);
    const result = await run(project);
    expect(result.status).toBe('failed');
    expect(result.error).toBe('2 steps failed: staging/no_such_column, staging/throws');
    expect(result.steps.find((s) => s.key === 'staging/throws')?.error).toBe('the upstream API said no');
    expect(result.steps.find((s) => s.key === 'staging/no_such_column')?.error).toMatch(/Binder Error.*missing/s);
  });

  it('leaves the previous table intact when a TypeScript asset writes and then throws', async () => {
    let mode: 'good' | 'bad' = 'good';
    const project = buildProject(config, [
      WORDS,
      asset({
        key: 'marts/flaky',
        deps: ['raw/words'],
        async materialize(ctx) {
          if (mode === 'good') {
            await ctx.warehouse.replaceTable(`select word, length(word) as len from ${ctx.warehouse.tableOf('raw/words')}`);
            return;
          }
          // Replace the table, add more rows, log, then fail: none of it may be visible afterwards.
          await ctx.warehouse.replaceTable(`select 'half-written' as word, 0 as len`);
          await ctx.warehouse.run(`insert into ${ctx.table} values ('more', 4)`);
          await ctx.warehouse.run('create table raw.side_effect as select 1 as x');
          ctx.log.warn('about to fail');
          throw new Error('boom after writing');
        },
      }),
      sqlAsset('marts/after_flaky', 'select count(*) as n from marts.flaky', ['marts/flaky']),
    ]);

    const first = await run(project);
    expect(first.status).toBe('success');
    const before = await warehouse.query('select word, len from marts.flaky order by word');
    expect(before).toEqual([
      { word: 'alpha', len: 5 },
      { word: 'beta', len: 4 },
      { word: 'gamma', len: 5 },
    ]);
    const materializedBefore = await storage.latestMaterializations(['marts/flaky']);

    mode = 'bad';
    const second = await run(project, ['marts/flaky', 'marts/after_flaky']);
    expect(second.status).toBe('failed');
    expect(statuses(second)).toEqual({ 'marts/flaky': 'failed', 'marts/after_flaky': 'skipped' });
    expect(second.steps[0]?.error).toBe('boom after writing');

    expect(await warehouse.query('select word, len from marts.flaky order by word')).toEqual(before);
    expect(await tableExists('raw/side_effect')).toBe(false);
    expect(await warehouse.query('select n from marts.after_flaky')).toEqual([{ n: 3 }]);
    expect(await storage.latestMaterializations(['marts/flaky'])).toEqual(materializedBefore);

    // The log line written before the throw is kept with the failure.
    const events = await storage.listEvents(second.runId);
    expect(events.filter((e) => e.assetKey === 'marts/flaky').map((e) => e.type)).toEqual(['step_start', 'log', 'step_failure']);
    expect(events.find((e) => e.type === 'step_failure')?.data).toMatchObject({ error: 'boom after writing', canceled: false });
  });
});

/** An event listener that aborts `controller` `ms` after the step of `key` starts. */
function abortAfterStart(controller: AbortController, key: string, ms: number): (event: EventRecord) => void {
  return (event) => {
    if (event.type === 'step_start' && event.assetKey === key) setTimeout(() => controller.abort(), ms);
  };
}

describe('canceling a run', () => {
  /**
   * raw/words → staging/slow → marts/after_slow, plus staging/zz_later (independent, after
   * staging/slow in plan order). Concurrency 1, so staging/zz_later has not started when
   * staging/slow is canceled. `slow` decides what staging/slow does on its second run.
   */
  function cancelProject(slow: 'heavy-query' | 'wait-for-signal', state: { mode: 'first' | 'second' }): Project {
    return buildProject(config, [
      WORDS,
      asset({
        key: 'staging/slow',
        deps: ['raw/words'],
        async materialize(ctx) {
          if (state.mode === 'first') {
            await ctx.warehouse.replaceTable(`select 'original' as version`);
            return;
          }
          await ctx.warehouse.replaceTable(`select 'replacement' as version`);
          if (slow === 'heavy-query') {
            await ctx.warehouse.all('select sum(range) as total from range(20000000000) as t1');
          } else {
            await new Promise((_resolve, reject) => {
              ctx.signal.throwIfAborted();
              ctx.signal.addEventListener('abort', () => reject(new Error('stopped waiting')), { once: true });
            });
          }
        },
      }),
      sqlAsset('marts/after_slow', 'select * from staging.slow', ['staging/slow']),
      sqlAsset('staging/zz_later', 'select count(*) as n from raw.words', ['raw/words']),
    ]);
  }

  it('records the run as canceled, not failed, when it is canceled while observing its sources', async () => {
    const controller = new AbortController();
    const project = buildProject(config, [
      sourceAsset({
        key: 'landing/slow',
        observe: (ctx) =>
          new Promise((_resolve, reject) => {
            controller.abort();
            ctx.signal.addEventListener('abort', () => reject(new Error('This operation was aborted')), { once: true });
            if (ctx.signal.aborted) reject(new Error('This operation was aborted'));
          }),
      }),
      asset({ key: 'raw/after', deps: ['landing/slow'], materialize: () => undefined }),
    ]);
    const result = await run(project, ['raw/after'], { signal: controller.signal });
    expect(result.status).toBe('canceled');
    expect(result.error).toBe('run canceled');
    expect((await storage.getRun(result.runId))?.status).toBe('canceled');
  });

  for (const slow of ['heavy-query', 'wait-for-signal'] as const) {
    it(`rolls back the running step and skips the rest (${slow})`, async () => {
      const state: { mode: 'first' | 'second' } = { mode: 'first' };
      const project = cancelProject(slow, state);
      expect((await run(project, ['raw/words', 'staging/slow'])).status).toBe('success');
      const materializedBefore = await storage.latestMaterializations(['staging/slow']);

      state.mode = 'second';
      const controller = new AbortController();
      const started = performance.now();
      // Give the step time to write its replacement table and get stuck, then cancel.
      const result = await run(project, project.graph.keys, { signal: controller.signal, onEvent: abortAfterStart(controller, 'staging/slow', 300) });
      expect(performance.now() - started).toBeLessThan(10_000);

      expect(result.status).toBe('canceled');
      expect(result.error).toBe('run canceled');
      const outcome = statuses(result);
      expect(outcome['raw/words']).toBe('success');
      expect(outcome['staging/slow']).toBe('canceled');
      expect(outcome['staging/zz_later']).toBe('canceled');
      expect(outcome['marts/after_slow']).toBe('canceled');
      expect(result.steps.find((s) => s.key === 'staging/slow')?.error).toMatch(/canceled.*rolled back/);

      // The table still holds the first run's data, and no new materialization was recorded.
      expect(await warehouse.query('select version from staging.slow')).toEqual([{ version: 'original' }]);
      expect(await storage.latestMaterializations(['staging/slow'])).toEqual(materializedBefore);
      expect(await tableExists('staging/zz_later')).toBe(false);
      expect(await tableExists('marts/after_slow')).toBe(false);

      expect(await storage.getRun(result.runId)).toMatchObject({ status: 'canceled', error: 'run canceled' });
      const events = await storage.listEvents(result.runId);
      expect(events.at(-1)).toMatchObject({ type: 'run_canceled', level: 'error' });
      expect(events.find((e) => e.type === 'step_failure')).toMatchObject({ assetKey: 'staging/slow', data: { canceled: true } });
      expect(events.filter((e) => e.type === 'step_start').map((e) => e.assetKey)).toEqual(['raw/words', 'staging/slow']);
      expect(
        events
          .filter((e) => e.type === 'step_skipped')
          .map((e) => e.assetKey)
          .sort(),
      ).toEqual(['marts/after_slow', 'staging/zz_later']);
      for (const e of events.filter((x) => x.type === 'step_skipped')) expect(e.data, e.assetKey ?? '').toEqual({ reason: 'run canceled' });

      // The warehouse is usable after the interrupt: the next run succeeds.
      state.mode = 'first';
      expect((await run(project)).status).toBe('success');
    });
  }

  it('rolls back a step that ignores the signal and finishes after the cancel', async () => {
    const project = buildProject(config, [
      asset({
        key: 'raw/stubborn',
        async materialize(ctx) {
          await ctx.warehouse.replaceTable(`select 'written after cancel' as note`);
          await sleep(400);
        },
      }),
    ]);
    const controller = new AbortController();
    const result = await run(project, project.graph.keys, { signal: controller.signal, onEvent: abortAfterStart(controller, 'raw/stubborn', 100) });
    expect(result.status).toBe('canceled');
    expect(statuses(result)).toEqual({ 'raw/stubborn': 'canceled' });
    expect(await tableExists('raw/stubborn')).toBe(false);
    expect(await storage.latestMaterializations()).toEqual([]);
  });

  for (const when of ['before its first statement', 'between two statements'] as const) {
    it(`does not let a step run a warehouse statement issued after the cancel (${when})`, async () => {
      let queryFinished = false;
      const project = buildProject(config, [
        asset({
          key: 'raw/late_query',
          async materialize(ctx) {
            if (when === 'between two statements') await ctx.warehouse.run('select 1');
            // Work that does not watch the signal (an HTTP call, file I/O); the cancel comes meanwhile.
            await sleep(300);
            await ctx.warehouse.all('select sum(range) as total from range(1500000000) as t');
            queryFinished = true;
          },
        }),
      ]);
      const controller = new AbortController();
      const started = performance.now();
      const result = await run(project, project.graph.keys, { signal: controller.signal, onEvent: abortAfterStart(controller, 'raw/late_query', 50) });

      expect(result.status).toBe('canceled');
      // The statement came after the cancel: it must fail at once, not run to the end.
      expect(queryFinished).toBe(false);
      expect(performance.now() - started).toBeLessThan(1200);
    });
  }

  it('runs nothing when the signal is already aborted', async () => {
    const project = buildProject(config, [WORDS, sqlAsset('staging/copy', 'select * from raw.words', ['raw/words'])]);
    const result = await run(project, project.graph.keys, { signal: AbortSignal.abort() });
    expect(result.status).toBe('canceled');
    expect(statuses(result)).toEqual({ 'raw/words': 'canceled', 'staging/copy': 'canceled' });
    expect(await tableExists('raw/words')).toBe(false);
    expect((await storage.listEvents(result.runId)).map((e) => e.type)).toEqual(['run_start', 'step_skipped', 'step_skipped', 'run_canceled']);
  });
});
