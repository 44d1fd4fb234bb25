/**
 * Plans of hundreds of thousands of steps: an hourly asset since 2000 (over 220,000 partitions)
 * planned one step per partition, with an hourly child reading it. Pure: specs built in code,
 * the clock passed in. (`npm run bench -- large-plan` measures a plan of a million steps.)
 */
import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../core/model/definitions/asset-spec.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { countPartitions } from '../../core/engine/execution/backfill-runner.ts';
import { hourly } from '../../core/model/partitions/index.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const HOURS_SINCE_2000 = (NOW.getTime() - Date.UTC(2000, 0, 1)) / 3_600_000;

describe('a plan of more than 200,000 steps', () => {
  // Bug: buildPlan appended an asset's steps with steps.push(...mine), which throws
  // "Maximum call stack size exceeded" past about 120,000 steps of one asset.
  it('plans an hourly asset since 2000 and its hourly child, one step per partition', () => {
    const partitions = hourly({ start: '2000-01-01' });
    const graph = AssetGraph.build([
      buildSpec('raw/ticks', { deps: [], tags: {}, owners: [], partitions }, 'sql'),
      buildSpec('staging/ticks', { deps: ['raw/ticks'], tags: {}, owners: [], partitions }, 'sql'),
    ]);
    const plan = buildPlan(graph, ['raw/ticks', 'staging/ticks'], { now: NOW, grouping: 'per_partition' });

    expect(HOURS_SINCE_2000).toBeGreaterThan(200_000);
    expect(plan.steps).toHaveLength(2 * HOURS_SINCE_2000);
    expect(countPartitions(plan)).toBe(2 * HOURS_SINCE_2000);
    expect(plan.steps[0]?.id).toBe('raw/ticks@2000-01-01-00:00');
    expect(plan.steps[HOURS_SINCE_2000 - 1]?.id).toBe('raw/ticks@2025-05-31-23:00');
    expect(plan.steps.at(-1)).toMatchObject({ id: 'staging/ticks@2025-05-31-23:00', waitsFor: ['raw/ticks@2025-05-31-23:00'] });
  });

  it('finds the parent step of the same hour when the parent has gaps (skipped hours) and across a daylight-saving change', () => {
    const partitions = hourly({ start: '2024-03-30', timezone: 'Europe/Berlin' });
    const graph = AssetGraph.build([
      buildSpec('raw/ticks', { deps: [], tags: {}, owners: [], partitions }, 'sql'),
      buildSpec('staging/ticks', { deps: ['raw/ticks'], tags: {}, owners: [], partitions }, 'sql'),
    ]);
    const now = new Date('2024-04-02T00:00:00Z');
    // Every third raw hour is done already; clocks go forward on the 31st (no 02:00 that day).
    const skip = (key: string, partition: string | null) => key === 'raw/ticks' && Number(partition?.slice(11, 13)) % 3 === 0;
    const plan = buildPlan(graph, ['raw/ticks', 'staging/ticks'], { now, grouping: 'per_partition', skip });
    const raw = new Set(plan.steps.filter((s) => s.key === 'raw/ticks').map((s) => s.partitions?.[0]));
    const staging = plan.steps.filter((s) => s.key === 'staging/ticks');
    expect(staging.length).toBe(partitions.keys(now).length);
    expect(staging.some((s) => s.partitions?.[0] === '2024-03-31-02:00')).toBe(false);
    for (const step of staging) {
      const hour = step.partitions?.[0] as string;
      expect(step.waitsFor, hour).toEqual(raw.has(hour) ? [`raw/ticks@${hour}`] : []);
    }
  });
});
