import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../core/model/definitions/asset-spec.ts';
import type { AssetSpec } from '../../core/model/definitions/asset-spec.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { Plan } from '../../core/model/planning/plan.ts';
import { relationships } from '../../core/model/definitions/check-spec.ts';
import { daily } from '../../core/model/partitions/index.ts';

function spec(key: string, deps: string[] = []): AssetSpec {
  return buildSpec(key, { deps, tags: {}, owners: [] }, 'sql');
}

function waits(plan: Plan): Record<string, readonly string[]> {
  return Object.fromEntries(plan.steps.map((s) => [s.key, s.waitsFor]));
}

/**
 * raw/a ─> staging/b ─> marts/c ─> marts/d
 * raw/x ─> staging/y ─────────────┘
 * raw/lonely
 */
const graph = AssetGraph.build([
  spec('marts/d', ['marts/c', 'staging/y']),
  spec('marts/c', ['staging/b']),
  spec('staging/b', ['raw/a']),
  spec('staging/y', ['raw/x']),
  spec('raw/x'),
  spec('raw/a'),
  spec('raw/lonely'),
]);

describe('buildPlan', () => {
  it('orders steps topologically, layer then key, whatever the selection order', () => {
    const plan = buildPlan(graph, ['marts/d', 'raw/lonely', 'staging/y', 'raw/a', 'marts/c', 'staging/b', 'raw/x']);
    expect(plan.steps.map((s) => s.key)).toEqual(['raw/a', 'raw/lonely', 'raw/x', 'staging/b', 'staging/y', 'marts/c', 'marts/d']);
    expect(buildPlan(graph, new Set(['staging/b', 'marts/d', 'raw/a'])).steps.map((s) => s.key)).toEqual(['raw/a', 'staging/b', 'marts/d']);
  });

  it('makes every step wait for its planned parents when everything is planned', () => {
    expect(waits(buildPlan(graph, graph.keys))).toEqual({
      'raw/a': [],
      'raw/lonely': [],
      'raw/x': [],
      'staging/b': ['raw/a'],
      'staging/y': ['raw/x'],
      'marts/c': ['staging/b'],
      'marts/d': ['staging/y', 'marts/c'],
    });
  });

  it('waits for the nearest planned ancestor through unplanned ones (a -> b -> c, planning a and c)', () => {
    expect(waits(buildPlan(graph, ['raw/a', 'marts/c']))).toEqual({ 'raw/a': [], 'marts/c': ['raw/a'] });
  });

  it('stops at the nearest planned ancestor and does not also wait for the ones behind it', () => {
    expect(waits(buildPlan(graph, ['raw/a', 'staging/b', 'marts/d']))).toEqual({
      'raw/a': [],
      'staging/b': ['raw/a'],
      'marts/d': ['staging/b'],
    });
  });

  it('collects planned ancestors through several unplanned branches, in topological order', () => {
    expect(waits(buildPlan(graph, ['raw/x', 'raw/a', 'marts/d']))).toEqual({
      'raw/a': [],
      'raw/x': [],
      'marts/d': ['raw/a', 'raw/x'],
    });
    expect(waits(buildPlan(graph, ['staging/b', 'raw/x', 'marts/d']))).toEqual({
      'raw/x': [],
      'staging/b': [],
      'marts/d': ['raw/x', 'staging/b'],
    });
  });

  it('lists an ancestor reached through a diamond once', () => {
    const diamond = AssetGraph.build([spec('d/a'), spec('d/b', ['d/a']), spec('d/c', ['d/a']), spec('d/e', ['d/b', 'd/c'])]);
    expect(waits(buildPlan(diamond, ['d/a', 'd/e']))).toEqual({ 'd/a': [], 'd/e': ['d/a'] });
  });

  it('makes independent assets wait for nothing', () => {
    expect(waits(buildPlan(graph, ['raw/lonely', 'marts/c', 'staging/y']))).toEqual({
      'raw/lonely': [],
      'staging/y': [],
      'marts/c': [],
    });
  });

  it('plans nothing for an empty selection', () => {
    expect(buildPlan(graph, []).steps).toEqual([]);
  });

  it('returns frozen plans and steps and is deterministic', () => {
    const plan = buildPlan(graph, ['raw/a', 'marts/c']);
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.steps)).toBe(true);
    for (const step of plan.steps) expect(Object.isFrozen(step)).toBe(true);
    expect(buildPlan(graph, ['marts/c', 'raw/a'])).toEqual(plan);
  });

  it('plans a 10,000-node layered graph', () => {
    const key = (layer: number, i: number) => `l${String(layer).padStart(3, '0')}/n${String(i).padStart(3, '0')}`;
    const specs: AssetSpec[] = [];
    for (let layer = 0; layer < 100; layer++) {
      for (let i = 0; i < 100; i++) specs.push(spec(key(layer, i), layer === 0 ? [] : [key(layer - 1, i), key(layer - 1, (i + 1) % 100)]));
    }
    const big = AssetGraph.build(specs);
    const plan = buildPlan(
      big,
      big.keys.filter((k) => k.startsWith('l000/') || k.startsWith('l099/')),
    );
    expect(plan.steps).toHaveLength(200);
    expect(plan.steps.find((s) => s.key === 'l099/n000')?.waitsFor).toHaveLength(100);
  });

  it('plans across a long chain of unplanned assets', () => {
    const key = (i: number) => `c/n${String(i).padStart(5, '0')}`;
    const chain = AssetGraph.build(Array.from({ length: 10_000 }, (_, i) => spec(key(i), i === 0 ? [] : [key(i - 1)])));
    expect(waits(buildPlan(chain, [key(0), key(9_999)]))).toEqual({ [key(0)]: [], [key(9_999)]: [key(0)] });
  });
});

describe('check dependencies in plans', () => {
  const days = daily({ start: '2025-01-01', end: '2025-01-03', timezone: 'UTC' });
  /** marts/orders (daily) reads raw/orders; its relationships check reads staging/customers (daily, unplanned through raw/customers). */
  const checkedGraph = AssetGraph.build([
    buildSpec('raw/orders', { deps: [], tags: {}, owners: [], partitions: days }, 'sql'),
    buildSpec('raw/customers', { deps: [], tags: {}, owners: [], partitions: days }, 'sql'),
    buildSpec('staging/customers', { deps: ['raw/customers'], tags: {}, owners: [], partitions: days }, 'sql'),
    buildSpec(
      'marts/orders',
      {
        deps: ['raw/orders'],
        tags: {},
        owners: [],
        partitions: days,
        checks: [relationships('customer_id', { to: 'staging/customers', field: 'customer_id' })],
      },
      'sql',
    ),
  ]);
  const now = new Date('2025-02-01T00:00:00Z');

  it('makes a step wait for the partitions of the asset its check reads, through the default mapping', () => {
    const plan = buildPlan(checkedGraph, ['marts/orders', 'staging/customers', 'raw/orders'], { now });
    expect(plan.steps.find((s) => s.id === 'marts/orders@2025-01-02')?.waitsFor).toEqual(['raw/orders@2025-01-02', 'staging/customers@2025-01-02']);
    // Steps of the target that are not in the plan (already fresh) are not waited for.
    const later = buildPlan(checkedGraph, ['marts/orders', 'staging/customers'], { now, skip: (key, p) => key === 'staging/customers' && p === '2025-01-02' });
    expect(later.steps.find((s) => s.id === 'marts/orders@2025-01-02')?.waitsFor).toEqual([]);
  });

  it('waits for every partition of a partitioned check target when the checked asset is unpartitioned', () => {
    const whole = AssetGraph.build([
      buildSpec('staging/customers', { deps: [], tags: {}, owners: [], partitions: days }, 'sql'),
      buildSpec(
        'marts/summary',
        { deps: [], tags: {}, owners: [], checks: [relationships('customer_id', { to: 'staging/customers', field: 'customer_id' })] },
        'sql',
      ),
    ]);
    expect(waits(buildPlan(whole, ['marts/summary', 'staging/customers'], { now }))['marts/summary']).toEqual([
      'staging/customers@2025-01-01',
      'staging/customers@2025-01-02',
    ]);
  });

  it('waits through an unplanned check target for its nearest planned ancestors', () => {
    const plan = buildPlan(checkedGraph, ['marts/orders', 'raw/customers'], { now });
    expect(plan.steps.find((s) => s.id === 'marts/orders@2025-01-02')?.waitsFor).toEqual(['raw/customers@2025-01-01', 'raw/customers@2025-01-02']);
    // (Through an unplanned asset, every step of the nearest planned ancestors, as for data dependencies.)
  });
});
