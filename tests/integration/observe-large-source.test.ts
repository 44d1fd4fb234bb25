/**
 * A source with hundreds of thousands of partitions (an hourly feed since 2000) is observed in
 * one pass: every partition's data version is recorded. Real SQLite storage in a temp project.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import { hourly } from '../../core/model/partitions/index.ts';
import { buildProject } from '../../core/model/project.ts';
import { observeSources } from '../../core/engine/staleness/observe-sources.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const HOURS_SINCE_2000 = (NOW.getTime() - Date.UTC(2000, 0, 1)) / 3_600_000;

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-large-source-', { name: 'large-source' });
});

afterEach(() => workspace.close());

describe('observing a source of more than 200,000 partitions', () => {
  // Bug: observeSources appended a source's observations with records.push(...mine), which
  // overflows the stack past about 120,000 partitions.
  it('records a data version for every hour since 2000', async () => {
    const project = buildProject(workspace.config, [
      sourceAsset({
        key: 'landing/ticks',
        partitions: hourly({ start: '2000-01-01', timezone: 'UTC' }),
        observe: (ctx) => (ctx.partitions ?? []).map((hour) => ({ partition: hour, dataVersion: `v-${hour}` })),
      }),
    ]);
    const result = await observeSources({ project, storage: workspace.storage, landing: new FileLandingZone(workspace.config.landingDir), now: NOW });
    expect(result.observed).toBe(HOURS_SINCE_2000);
    const latest = await workspace.storage.latestObservations();
    expect(latest).toHaveLength(HOURS_SINCE_2000);
  });
});
