/**
 * Step retries against a real DuckDB file and a real SQLite file: a flaky TypeScript asset
 * succeeds on its third attempt (each failed attempt rolled back), an asset that keeps failing
 * fails after its retries, a project default applies to assets without a policy, and a run
 * canceled while waiting to retry stops at once. Sleeps and randomness are injected, except
 * in the cancel test, which waits for real.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { retryPolicySchema } from '../../core/model/definitions/retry-policy.ts';
import type { ExecuteRunOptions } from '../../core/engine/execution/executor.ts';
import { buildProject } from '../../core/model/project.ts';
import type { EventRecord } from '../../storage/index.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-retries-', { name: 'retries-test', concurrency: 2 });
});

afterEach(() => workspace.close());

/** Timing that records each retry delay instead of waiting. */
function recordedSleeps(random = 0.5): { delays: number[]; timing: ExecuteRunOptions['timing'] } {
  const delays: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal): Promise<boolean> => {
    delays.push(ms);
    return !signal?.aborted;
  };
  return { delays, timing: { random: () => random, sleep } };
}

/** A TypeScript asset that writes its table, then throws on its first `failures` attempts. */
function flaky(key: string, failures: number, retryPolicy?: Parameters<typeof asset>[0]['retryPolicy']) {
  let attempts = 0;
  const definition = asset({
    key,
    ...(retryPolicy ? { retryPolicy } : {}),
    async materialize(ctx) {
      attempts++;
      await ctx.warehouse.replaceTable(`select ${attempts} as attempt`);
      ctx.log.info(`attempt ${attempts}`);
      if (attempts <= failures) throw new Error(`flaky failure ${attempts}`);
      return { rowCount: 1 };
    },
  });
  return { definition, attempts: () => attempts };
}

const types = (events: readonly EventRecord[]) => events.map((e) => e.type);

describe('step retries', () => {
  it("retries a failing step until it succeeds: two step_retry events, no step_failure, the last attempt's rows", async () => {
    const step = flaky('raw/flaky', 2, { maxRetries: 3, delay: '1s', backoff: 'exponential', jitter: 0.5, maxDelay: '1m' });
    const downstream = asset({
      key: 'marts/after',
      deps: ['raw/flaky'],
      materialize: (ctx) => ctx.warehouse.replaceTable('select * from raw.flaky').then(() => undefined),
    });
    const project = buildProject(workspace.config, [step.definition, downstream]);
    const { delays, timing } = recordedSleeps(0.5);
    const result = await workspace.run(project, undefined, { timing });

    expect(result.status).toBe('success');
    expect(step.attempts()).toBe(3);
    // 1 s then 2 s (exponential), each with half of jitter 0.5 taken off.
    expect(delays).toEqual([750, 1_500]);
    const events = await workspace.storage.listEvents(result.runId);
    const ofStep = events.filter((e) => e.assetKey === 'raw/flaky');
    expect(types(ofStep)).toEqual(['step_start', 'log', 'step_retry', 'log', 'step_retry', 'log', 'materialization', 'step_success']);
    const retries = ofStep.filter((e) => e.type === 'step_retry');
    expect(retries.map((e) => e.data)).toEqual([
      { attempt: 1, maxAttempts: 4, delayMs: 750, error: 'flaky failure 1' },
      { attempt: 2, maxAttempts: 4, delayMs: 1_500, error: 'flaky failure 2' },
    ]);
    expect(retries[0]?.message).toBe('raw/flaky failed (attempt 1 of 4), retrying in 750ms: flaky failure 1');
    expect(retries.every((e) => e.level === 'warn')).toBe(true);
    expect(types(events)).not.toContain('step_failure');
    // Failed attempts rolled back; the table holds the third attempt's row, and downstream read it.
    expect(await workspace.warehouse.query('select attempt from raw.flaky')).toEqual([{ attempt: 3 }]);
    expect(await workspace.warehouse.query('select attempt from marts.after')).toEqual([{ attempt: 3 }]);
  });

  it('fails the step once its retries are used up, recording step_failure only for the last attempt', async () => {
    const step = flaky('raw/broken', 100, { maxRetries: 2, delay: 100, backoff: 'linear' });
    const downstream = asset({ key: 'marts/after', deps: ['raw/broken'], materialize: () => undefined });
    const project = buildProject(workspace.config, [step.definition, downstream]);
    const { delays, timing } = recordedSleeps(0);
    const result = await workspace.run(project, undefined, { timing });

    expect(result.status).toBe('failed');
    expect(step.attempts()).toBe(3);
    expect(delays).toEqual([100, 200]);
    expect(result.steps.map((s) => [s.key, s.status, s.error])).toEqual([
      ['raw/broken', 'failed', 'flaky failure 3'],
      ['marts/after', 'skipped', 'upstream raw/broken did not succeed'],
    ]);
    const events = await workspace.storage.listEvents(result.runId);
    expect(types(events.filter((e) => e.assetKey === 'raw/broken'))).toEqual(['step_start', 'log', 'step_retry', 'log', 'step_retry', 'log', 'step_failure']);
    expect((await workspace.storage.latestStepFailures(['raw/broken']))[0]?.message).toBe('raw/broken failed: flaky failure 3');
    const tables = await workspace.warehouse.query("select count(*) as n from information_schema.tables where table_schema = 'raw'");
    expect(tables).toEqual([{ n: 0 }]);
  });

  it('uses the project default for assets without a policy, and an asset policy of 0 retries turns it off', async () => {
    const defaulted = flaky('raw/defaulted', 1);
    const noRetries = flaky('raw/no_retries', 1, { maxRetries: 0 });
    const project = buildProject({ ...workspace.config, retries: retryPolicySchema.parse({ maxRetries: 1, delay: '5s', backoff: 'constant' }) }, [
      defaulted.definition,
      noRetries.definition,
    ]);
    const { delays, timing } = recordedSleeps();
    const result = await workspace.run(project, undefined, { timing });
    expect(Object.fromEntries(result.steps.map((s) => [s.key, s.status]))).toEqual({ 'raw/defaulted': 'success', 'raw/no_retries': 'failed' });
    expect(delays).toEqual([5_000]);
  });

  it('never retries a canceled step, and a cancel during the retry wait stops the run at once', async () => {
    const step = flaky('raw/flaky', 100, { maxRetries: 5, delay: '1m' });
    const project = buildProject(workspace.config, [step.definition]);
    const controller = new AbortController();
    const started = performance.now();
    const result = await workspace.run(project, undefined, {
      signal: controller.signal,
      // Real sleeps: the one-minute wait must end when the run is canceled.
      onEvent: (event) => {
        if (event.type === 'step_retry') setTimeout(() => controller.abort(), 50);
      },
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe('canceled');
    expect(step.attempts()).toBe(1);
    expect(result.steps[0]).toMatchObject({ status: 'canceled', error: 'canceled while waiting to retry' });
    const events = await workspace.storage.listEvents(result.runId);
    expect(types(events)).toEqual(['run_start', 'step_start', 'log', 'step_retry', 'step_failure', 'run_canceled']);
    expect(events.find((e) => e.type === 'step_failure')?.data).toMatchObject({ canceled: true });
    expect((await workspace.storage.getRun(result.runId))?.status).toBe('canceled');
    expect(await workspace.storage.listLeases()).toEqual([]);
  });
});
