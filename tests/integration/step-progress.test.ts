/**
 * Progress inside a long step: while a step's statement runs, DuckDB's estimate of its progress
 * reaches `onEvent` as `step_progress` events, at most one a second, and none is stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProject } from '../../core/model/project.ts';
import type { EventRecord } from '../../storage/storage.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  // One thread: the scan below takes a few seconds.
  workspace = await openTempWorkspace('strata-step-progress-', { name: 'progress-test', warehouse: { threads: 1 } });
  await workspace.warehouse.query('create schema raw; create table raw.big as select range as x from range(80000000)');
});

afterEach(() => workspace.close());

describe('step_progress', () => {
  it('a long statement reports its percentage live, throttled, and nothing of it is stored', async () => {
    const project = buildProject(workspace.config, [
      sqlAsset('marts/buckets', 'select x % 1000003 as k, count(*) as n, sum(x * 7 % 13) as s from raw.big group by 1', []),
    ]);
    const live: EventRecord[] = [];
    const started = Date.now();
    const result = await workspace.run(project, ['marts/buckets'], { onEvent: (event) => live.push(event) });
    const elapsed = Date.now() - started;
    expect(result.status, result.error).toBe('success');

    const progress = live.filter((e) => e.type === 'step_progress');
    expect(progress.length, `no step_progress in ${elapsed} ms`).toBeGreaterThan(0);
    for (const event of progress) {
      expect(event.assetKey).toBe('marts/buckets');
      expect(event.data?.percentage).toBeGreaterThanOrEqual(0);
      expect(event.data?.percentage).toBeLessThanOrEqual(100);
    }
    expect(progress.some((e) => Number(e.data?.percentage) > 0 && Number(e.data?.percentage) < 100)).toBe(true);
    // At most one a second (timer jitter aside).
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.timestamp - progress[i - 1]!.timestamp).toBeGreaterThanOrEqual(900);
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000));

    const stored = await workspace.storage.listEvents(result.runId);
    expect(stored.some((e) => e.type === 'step_success')).toBe(true);
    expect(stored.filter((e) => e.type === 'step_progress')).toEqual([]);
  }, 60_000);
});
