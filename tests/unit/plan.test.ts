import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../core/definitions/asset-spec.ts';
import type { AssetSpec } from '../../core/definitions/asset-spec.ts';
import { AssetGraph } from '../../core/graph/asset-graph.ts';
import { buildPlan } from '../../core/planning/plan.ts';
import type { Plan } from '../../core/planning/plan.ts';

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
    const plan = buildPlan(big, big.keys.filter((k) => k.startsWith('l000/') || k.startsWith('l099/')));
    expect(plan.steps).toHaveLength(200);
    expect(plan.steps.find((s) => s.key === 'l099/n000')?.waitsFor).toHaveLength(100);
  });

  it('plans across a long chain of unplanned assets', () => {
    const key = (i: number) => `c/n${String(i).padStart(5, '0')}`;
    const chain = AssetGraph.build(Array.from({ length: 10_000 }, (_, i) => spec(key(i), i === 0 ? [] : [key(i - 1)])));
    expect(waits(buildPlan(chain, [key(0), key(9_999)]))).toEqual({ [key(0)]: [], [key(9_999)]: [key(0)] });
  });
});
