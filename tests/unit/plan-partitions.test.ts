/**
 * Partition-aware planning: which steps a plan holds for partitioned assets (one per
 * partition, or ranges under the single-run policy, split at gaps and at the per-run maximum),
 * which steps each one waits for through its partition mappings, and how a `--partition` key
 * or a `--from`/`--to` range is checked. Pure: specs built in code, the clock passed in.
 */
import { describe, expect, it } from 'vitest';
import { buildSpec, type AssetSpec, type BackfillPolicy } from '../../core/model/definitions/asset-spec.ts';
import { StrataError } from '../../core/model/errors.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { daily, monthly, staticPartitions, timeWindow, type PartitionMapping, type PartitionsDefinition } from '../../core/model/partitions/index.ts';
import { buildPlan, type Plan, type PlanOptions } from '../../core/model/planning/plan.ts';

/** Every daily/monthly partition used below is complete at this instant. */
const NOW = new Date('2025-06-01T00:00:00Z');

const JANUARY = daily({ start: '2025-01-01', end: '2025-02-01' });
const REGIONS = staticPartitions(['eu', 'us', 'apac', 'latam']);

interface SpecOptions {
  readonly deps?: readonly string[];
  readonly partitions?: PartitionsDefinition;
  readonly policy?: BackfillPolicy;
  readonly mappings?: Readonly<Record<string, PartitionMapping>>;
}

function spec(key: string, options: SpecOptions = {}): AssetSpec {
  return buildSpec(
    key,
    {
      deps: [...(options.deps ?? [])],
      tags: {},
      owners: [],
      ...(options.partitions ? { partitions: options.partitions } : {}),
      ...(options.policy ? { backfillPolicy: options.policy } : {}),
      ...(options.mappings ? { partitionMappings: options.mappings } : {}),
    },
    'sql',
  );
}

function plan(specs: readonly AssetSpec[], selected: readonly string[], options: PlanOptions = {}): Plan {
  return buildPlan(AssetGraph.build(specs), selected, { now: NOW, ...options });
}

function ids(p: Plan, key?: string): string[] {
  return p.steps.filter((s) => key === undefined || s.key === key).map((s) => s.id);
}

function waitsOf(p: Plan, id: string): readonly string[] {
  const step = p.steps.find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id} in ${ids(p).join(', ')}`);
  return step.waitsFor;
}

/** `2025-01-dd` for each day number. */
function days(...numbers: number[]): string[] {
  return numbers.map((n) => `2025-01-${String(n).padStart(2, '0')}`);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The StrataError `fn` throws (failing when it throws something else, or nothing). */
function strataError(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError);
    return error as StrataError;
  }
  throw new Error('expected an error');
}

const FIVE_DAYS = { from: '2025-01-01', to: '2025-01-05' };

describe('grouping partitions into steps', () => {
  it('gives a multi-run asset (the default policy) one step per partition, in order', () => {
    const p = plan([spec('raw/a', { partitions: JANUARY })], ['raw/a'], { partitions: FIVE_DAYS });
    expect(ids(p)).toEqual(days(1, 2, 3, 4, 5).map((d) => `raw/a@${d}`));
    expect(p.steps.map((s) => s.partitions)).toEqual(days(1, 2, 3, 4, 5).map((d) => [d]));
  });

  it('gives a single-run asset one step over the whole range', () => {
    const p = plan([spec('raw/a', { partitions: JANUARY, policy: { type: 'single_run' } })], ['raw/a'], { partitions: FIVE_DAYS });
    expect(ids(p)).toEqual(['raw/a@2025-01-01..2025-01-05']);
    expect(p.steps[0]?.partitions).toEqual(days(1, 2, 3, 4, 5));
  });

  it('cuts a single-run range into chunks of at most max partitions', () => {
    const policy: BackfillPolicy = { type: 'single_run', maxPartitionsPerRun: 2 };
    const p = plan([spec('raw/a', { partitions: JANUARY, policy })], ['raw/a'], { partitions: FIVE_DAYS });
    expect(ids(p)).toEqual(['raw/a@2025-01-01..2025-01-02', 'raw/a@2025-01-03..2025-01-04', 'raw/a@2025-01-05']);
    expect(p.steps.map((s) => s.partitions)).toEqual([days(1, 2), days(3, 4), days(5)]);
  });

  it('plans every partition that exists at now when no range is given', () => {
    const open = daily({ start: '2025-01-01' });
    const p = buildPlan(AssetGraph.build([spec('raw/a', { partitions: open, policy: { type: 'single_run' } })]), ['raw/a'], {
      now: new Date('2025-01-04T12:00:00Z'),
    });
    // 2025-01-04 is not complete yet at noon on the 4th.
    expect(p.steps.map((s) => s.partitions)).toEqual([days(1, 2, 3)]);
  });

  it('splits a single-run range at the gaps skip leaves, so no step jumps over a partition', () => {
    const policy: BackfillPolicy = { type: 'single_run', maxPartitionsPerRun: 3 };
    const done = new Set(days(3, 7));
    const p = plan([spec('raw/a', { partitions: JANUARY, policy })], ['raw/a'], {
      partitions: { from: '2025-01-01', to: '2025-01-10' },
      skip: (_key, partition) => partition !== null && done.has(partition),
    });
    expect(p.steps.map((s) => s.partitions)).toEqual([days(1, 2), days(4, 5, 6), days(8, 9, 10)]);
    expect(ids(p)).toEqual(['raw/a@2025-01-01..2025-01-02', 'raw/a@2025-01-04..2025-01-06', 'raw/a@2025-01-08..2025-01-10']);
  });

  it('plans no step for an asset whose partitions are all skipped, and none for a skipped unpartitioned asset', () => {
    const p = plan(
      [
        spec('raw/a', { partitions: JANUARY, policy: { type: 'single_run' } }),
        spec('raw/dim'),
        spec('staging/b', { deps: ['raw/a', 'raw/dim'], partitions: JANUARY }),
      ],
      ['raw/a', 'raw/dim', 'staging/b'],
      { partitions: FIVE_DAYS, skip: (key) => key !== 'staging/b' },
    );
    expect(ids(p)).toEqual(days(1, 2, 3, 4, 5).map((d) => `staging/b@${d}`));
    expect(p.steps.every((s) => s.waitsFor.length === 0)).toBe(true);
  });

  it("forces one step per partition with grouping 'per_partition', whatever the policy", () => {
    const p = plan([spec('raw/a', { partitions: JANUARY, policy: { type: 'single_run' } })], ['raw/a'], { partitions: FIVE_DAYS, grouping: 'per_partition' });
    expect(ids(p)).toEqual(days(1, 2, 3, 4, 5).map((d) => `raw/a@${d}`));
  });

  it('gives static partitions one step per key in list order, even with the single-run policy', () => {
    const policy: BackfillPolicy = { type: 'single_run' };
    const all = plan([spec('raw/r', { partitions: REGIONS, policy })], ['raw/r']);
    expect(all.steps.map((s) => s.partitions)).toEqual([['eu'], ['us'], ['apac'], ['latam']]);
    expect(ids(all)).toEqual(['raw/r@eu', 'raw/r@us', 'raw/r@apac', 'raw/r@latam']);
    const gap = plan([spec('raw/r', { partitions: REGIONS, policy })], ['raw/r'], { skip: (_key, partition) => partition === 'us' });
    expect(gap.steps.map((s) => s.partitions)).toEqual([['eu'], ['apac'], ['latam']]);
  });

  it('gives an unpartitioned asset one step with partitions null, even when a range is requested', () => {
    const p = plan([spec('raw/dim'), spec('raw/a', { partitions: JANUARY })], ['raw/dim', 'raw/a'], { partitions: { from: '2025-01-01', to: '2025-01-02' } });
    expect(p.steps.find((s) => s.key === 'raw/dim')).toEqual({ id: 'raw/dim', key: 'raw/dim', partitions: null, waitsFor: [] });
  });

  it('is deterministic: the same inputs give the same plan', () => {
    const specs = [
      spec('raw/a', { partitions: JANUARY, policy: { type: 'single_run', maxPartitionsPerRun: 3 } }),
      spec('staging/b', { deps: ['raw/a'], partitions: JANUARY }),
      spec('marts/c', { deps: ['staging/b'], partitions: JANUARY, mappings: { 'staging/b': timeWindow({ startOffset: -6 }) } }),
    ];
    const options = { partitions: { from: '2025-01-01', to: '2025-01-20' } };
    expect(plan(specs, ['marts/c', 'staging/b', 'raw/a'], options)).toEqual(plan([...specs].reverse(), ['raw/a', 'staging/b', 'marts/c'], options));
  });
});

describe('what a partition step waits for', () => {
  it('identity (same daily partitions): each partition waits for the same upstream partition', () => {
    const p = plan([spec('raw/a', { partitions: JANUARY }), spec('staging/b', { deps: ['raw/a'], partitions: JANUARY })], ['raw/a', 'staging/b'], {
      partitions: FIVE_DAYS,
    });
    for (const day of days(1, 2, 3, 4, 5)) expect(waitsOf(p, `staging/b@${day}`)).toEqual([`raw/a@${day}`]);
    // Upstream steps come first in the plan.
    expect(ids(p)).toEqual([...days(1, 2, 3, 4, 5).map((d) => `raw/a@${d}`), ...days(1, 2, 3, 4, 5).map((d) => `staging/b@${d}`)]);
  });

  it('identity (same static keys): each key waits for the same upstream key', () => {
    const p = plan(
      [spec('raw/r', { partitions: REGIONS }), spec('staging/r', { deps: ['raw/r'], partitions: staticPartitions(['latam', 'apac', 'us', 'eu']) })],
      ['raw/r', 'staging/r'],
    );
    expect(waitsOf(p, 'staging/r@us')).toEqual(['raw/r@us']);
    expect(waitsOf(p, 'staging/r@latam')).toEqual(['raw/r@latam']);
  });

  it('a partition waits for the single-run range step holding its upstream partition', () => {
    const policy: BackfillPolicy = { type: 'single_run', maxPartitionsPerRun: 3 };
    const p = plan([spec('raw/a', { partitions: JANUARY, policy }), spec('staging/b', { deps: ['raw/a'], partitions: JANUARY })], ['raw/a', 'staging/b'], {
      partitions: FIVE_DAYS,
    });
    expect(waitsOf(p, 'staging/b@2025-01-03')).toEqual(['raw/a@2025-01-01..2025-01-03']);
    expect(waitsOf(p, 'staging/b@2025-01-04')).toEqual(['raw/a@2025-01-04..2025-01-05']);
  });

  it('window(-6, 0): a day waits for itself and the six days before, clipped at the first partition and the plan', () => {
    const p = plan(
      [
        spec('staging/b', { partitions: JANUARY }),
        spec('marts/c', { deps: ['staging/b'], partitions: JANUARY, mappings: { 'staging/b': timeWindow({ startOffset: -6, endOffset: 0 }) } }),
      ],
      ['staging/b', 'marts/c'],
      { partitions: { from: '2025-01-01', to: '2025-01-12' } },
    );
    expect(waitsOf(p, 'marts/c@2025-01-10')).toEqual(days(...range(4, 10)).map((d) => `staging/b@${d}`));
    expect(waitsOf(p, 'marts/c@2025-01-03')).toEqual(days(1, 2, 3).map((d) => `staging/b@${d}`));
    expect(waitsOf(p, 'marts/c@2025-01-01')).toEqual(['staging/b@2025-01-01']);
  });

  it('window(-6, 0) over a single-run downstream range: the range waits for every upstream step its days read', () => {
    const p = plan(
      [
        spec('staging/b', { partitions: JANUARY }),
        spec('marts/c', {
          deps: ['staging/b'],
          partitions: JANUARY,
          policy: { type: 'single_run', maxPartitionsPerRun: 5 },
          mappings: { 'staging/b': timeWindow({ startOffset: -6 }) },
        }),
      ],
      ['staging/b', 'marts/c'],
      { partitions: { from: '2025-01-01', to: '2025-01-12' } },
    );
    expect(ids(p, 'marts/c')).toEqual(['marts/c@2025-01-01..2025-01-05', 'marts/c@2025-01-06..2025-01-10', 'marts/c@2025-01-11..2025-01-12']);
    expect(waitsOf(p, 'marts/c@2025-01-06..2025-01-10')).toEqual(days(...range(1, 10)).map((d) => `staging/b@${d}`));
    expect(waitsOf(p, 'marts/c@2025-01-11..2025-01-12')).toEqual(days(...range(5, 12)).map((d) => `staging/b@${d}`));
  });

  it('a window reaching past the planned range waits only for planned steps', () => {
    const p = plan(
      [
        spec('staging/b', { partitions: JANUARY }),
        spec('marts/c', { deps: ['staging/b'], partitions: JANUARY, mappings: { 'staging/b': timeWindow({ startOffset: -6 }) } }),
      ],
      ['staging/b', 'marts/c'],
      { partitions: { from: '2025-01-20', to: '2025-01-21' } },
    );
    expect(waitsOf(p, 'marts/c@2025-01-20')).toEqual(['staging/b@2025-01-20']);
    expect(waitsOf(p, 'marts/c@2025-01-21')).toEqual(['staging/b@2025-01-20', 'staging/b@2025-01-21']);
  });

  it('daily → monthly: a month waits for every day of it (the default mapping)', () => {
    const year = daily({ start: '2025-01-01', end: '2026-01-01' });
    const months = monthly({ start: '2025-01-01', end: '2026-01-01' });
    const p = plan([spec('staging/d', { partitions: year }), spec('marts/m', { deps: ['staging/d'], partitions: months })], ['staging/d', 'marts/m'], {
      partitions: { from: '2025-01-15', to: '2025-02-03' },
    });
    // A monthly asset in a daily range gets the months the range touches; the daily one only the range.
    expect(ids(p, 'marts/m')).toEqual(['marts/m@2025-01-01', 'marts/m@2025-02-01']);
    expect(ids(p, 'staging/d')).toHaveLength(20);
    expect(waitsOf(p, 'marts/m@2025-01-01')).toEqual(days(...range(15, 31)).map((d) => `staging/d@${d}`));
    expect(waitsOf(p, 'marts/m@2025-02-01')).toEqual(['staging/d@2025-02-01', 'staging/d@2025-02-02', 'staging/d@2025-02-03']);
  });

  it('monthly → daily: every day waits for its month', () => {
    const months = monthly({ start: '2025-01-01', end: '2026-01-01' });
    const p = plan([spec('raw/m', { partitions: months }), spec('staging/d', { deps: ['raw/m'], partitions: JANUARY })], ['raw/m', 'staging/d'], {
      partitions: { from: '2025-01-30', to: '2025-01-31' },
    });
    expect(ids(p, 'raw/m')).toEqual(['raw/m@2025-01-01']);
    expect(waitsOf(p, 'staging/d@2025-01-30')).toEqual(['raw/m@2025-01-01']);
  });

  it('an unpartitioned upstream: every partition waits for its single step', () => {
    const p = plan(
      [spec('raw/dim'), spec('staging/b', { deps: ['raw/dim'], partitions: JANUARY, policy: { type: 'single_run', maxPartitionsPerRun: 2 } })],
      ['raw/dim', 'staging/b'],
      { partitions: FIVE_DAYS },
    );
    expect(ids(p)).toEqual(['raw/dim', 'staging/b@2025-01-01..2025-01-02', 'staging/b@2025-01-03..2025-01-04', 'staging/b@2025-01-05']);
    for (const id of ids(p, 'staging/b')) expect(waitsOf(p, id)).toEqual(['raw/dim']);
  });

  it('a partitioned upstream read by an unpartitioned downstream: it waits for all upstream steps', () => {
    const p = plan(
      [spec('staging/b', { partitions: JANUARY, policy: { type: 'single_run', maxPartitionsPerRun: 2 } }), spec('marts/total', { deps: ['staging/b'] })],
      ['staging/b', 'marts/total'],
      { partitions: FIVE_DAYS },
    );
    expect(waitsOf(p, 'marts/total')).toEqual(['staging/b@2025-01-01..2025-01-02', 'staging/b@2025-01-03..2025-01-04', 'staging/b@2025-01-05']);
  });

  it('through an unplanned partitioned asset: every step waits for every step of the nearest planned ancestor', () => {
    const p = plan(
      [
        spec('raw/a', { partitions: JANUARY }),
        spec('staging/b', { deps: ['raw/a'], partitions: JANUARY }),
        spec('marts/c', { deps: ['staging/b'], partitions: JANUARY }),
      ],
      ['raw/a', 'marts/c'],
      { partitions: { from: '2025-01-01', to: '2025-01-03' } },
    );
    expect(ids(p, 'staging/b')).toEqual([]);
    expect(waitsOf(p, 'marts/c@2025-01-02')).toEqual(days(1, 2, 3).map((d) => `raw/a@${d}`));
  });

  it('waits for nothing when the upstream is not in the selection and has no planned ancestor', () => {
    const p = plan([spec('raw/a', { partitions: JANUARY }), spec('staging/b', { deps: ['raw/a'], partitions: JANUARY })], ['staging/b'], {
      partitions: FIVE_DAYS,
    });
    expect(p.steps.every((s) => s.waitsFor.length === 0)).toBe(true);
  });
});

describe('--partition KEY', () => {
  const specs = [spec('raw/dim'), spec('raw/a', { partitions: JANUARY }), spec('staging/b', { deps: ['raw/a', 'raw/dim'], partitions: JANUARY })];

  it('plans that one partition of each partitioned asset, and unpartitioned assets once', () => {
    const p = plan(specs, ['raw/dim', 'raw/a', 'staging/b'], { partitions: { key: '2025-01-07' } });
    expect(ids(p)).toEqual(['raw/a@2025-01-07', 'raw/dim', 'staging/b@2025-01-07']);
    expect(waitsOf(p, 'staging/b@2025-01-07')).toEqual(['raw/a@2025-01-07', 'raw/dim']);
  });

  it.each([
    ['2025-13-01', 'not a valid daily partition key'],
    ['2025-02-30', 'not a valid daily partition key'],
    ['january', 'not a valid daily partition key'],
    ['2024-12-31', 'before the first partition 2025-01-01'],
    ['2025-02-01', 'after the last partition 2025-01-31'],
  ])('rejects %s with an error naming the asset and the key', (key, reason) => {
    const error = strataError(() => plan(specs, ['raw/a'], { partitions: { key } }));
    expect(error.code).toBe('partition_invalid');
    expect(error.message).toContain('raw/a');
    expect(error.message).toContain(`"${key}"`);
    expect(error.message).toContain(reason);
    expect(error.context).toMatchObject({ assetKey: 'raw/a', partition: key });
  });

  it('rejects a partition that is not complete yet at now', () => {
    const open = daily({ start: '2025-01-01' });
    const error = strataError(() =>
      buildPlan(AssetGraph.build([spec('raw/open', { partitions: open })]), ['raw/open'], {
        now: new Date('2025-01-04T12:00:00Z'),
        partitions: { key: '2025-01-04' },
      }),
    );
    expect(error.message).toContain('raw/open');
    expect(error.message).toContain('not complete yet');
  });

  it('rejects an unknown static key, listing the keys', () => {
    const error = strataError(() => plan([spec('raw/r', { partitions: REGIONS })], ['raw/r'], { partitions: { key: 'mars' } }));
    expect(error.message).toContain('raw/r');
    expect(error.message).toContain('"mars"');
    expect(error.message).toContain('eu, us, apac, latam');
  });
});

describe('--from/--to ranges', () => {
  const specs = [spec('raw/a', { partitions: JANUARY })];

  it('rejects a range that starts after it ends, naming both ends', () => {
    const error = strataError(() => plan(specs, ['raw/a'], { partitions: { from: '2025-01-20', to: '2025-01-10' } }));
    expect(error.code).toBe('partition_invalid');
    expect(error.message).toContain('--from 2025-01-20');
    expect(error.message).toContain('--to 2025-01-10');
  });

  it.each([
    [{ from: '2025-02-30', to: '2025-03-01' }, '--from "2025-02-30"'],
    [{ from: '2025-01-01', to: '2025-02-30' }, '--to "2025-02-30"'],
    [{ from: '2025-1-1', to: '2025-01-05' }, '--from "2025-1-1"'],
    [{ from: '2025-01-01', to: 'tomorrow' }, '--to "tomorrow"'],
  ])('rejects a malformed date %j, naming the flag', (request, named) => {
    const error = strataError(() => plan(specs, ['raw/a'], { partitions: request }));
    expect(error.message).toContain(named);
    expect(error.message).toContain('is not a date');
  });

  it('rejects a range entirely outside the definition, naming the asset and its span', () => {
    for (const request of [
      { from: '2024-01-01', to: '2024-12-31' },
      { from: '2025-02-01', to: '2025-03-01' },
    ]) {
      const error = strataError(() => plan(specs, ['raw/a'], { partitions: request }));
      expect(error.message).toContain('raw/a has no partitions between');
      expect(error.message).toContain('2025-01-01 to 2025-01-31');
      expect(error.context.assetKey).toBe('raw/a');
    }
  });

  it('clips a range that overlaps the definition to the partitions that exist', () => {
    const p = plan(specs, ['raw/a'], { partitions: { from: '2024-12-25', to: '2025-01-02' } });
    expect(ids(p)).toEqual(['raw/a@2025-01-01', 'raw/a@2025-01-02']);
    const end = plan(specs, ['raw/a'], { partitions: { from: '2025-01-30', to: '2025-02-10' } });
    expect(ids(end)).toEqual(['raw/a@2025-01-30', 'raw/a@2025-01-31']);
  });

  it('takes a single-day range as that one partition', () => {
    expect(ids(plan(specs, ['raw/a'], { partitions: { from: '2025-01-09', to: '2025-01-09' } }))).toEqual(['raw/a@2025-01-09']);
  });

  it('takes static keys from --from to --to in list order', () => {
    const p = plan([spec('raw/r', { partitions: REGIONS })], ['raw/r'], { partitions: { from: 'us', to: 'latam' } });
    expect(p.steps.map((s) => s.partitions)).toEqual([['us'], ['apac'], ['latam']]);
  });

  it('rejects a reversed or unknown static range, naming the asset', () => {
    const reversed = strataError(() => plan([spec('raw/r', { partitions: REGIONS })], ['raw/r'], { partitions: { from: 'latam', to: 'eu' } }));
    expect(reversed.message).toContain('raw/r');
    expect(reversed.message).toContain('reversed');
    const unknown = strataError(() => plan([spec('raw/r', { partitions: REGIONS })], ['raw/r'], { partitions: { from: 'eu', to: 'mars' } }));
    expect(unknown.message).toContain('raw/r');
    expect(unknown.message).toContain('"mars"');
  });
});
