import type { AssetGraph } from '../graph/asset-graph.ts';

/** One asset to materialize, and the steps of the same plan it must wait for. */
export interface PlanStep {
  readonly key: string;
  /** Nearest planned ancestors: direct parents in the plan, or the planned ancestors of unplanned parents. */
  readonly waitsFor: readonly string[];
}

/** An ordered set of steps: a pure function of the graph and the selection. */
export interface Plan {
  /** Steps in topological order (stable: layer, then key). */
  readonly steps: readonly PlanStep[];
}

/**
 * Builds the plan for `selected` assets. Pure: no I/O.
 *
 * @example
 * buildPlan(graph, ['staging/orders', 'marts/fct_sales']).steps.map((s) => s.key)
 */
export function buildPlan(graph: AssetGraph, selected: Iterable<string>): Plan {
  const planned = new Set(selected);
  // Walk the whole graph once in topological order: each asset's nearest planned ancestors
  // follow from its parents' (no recursion, so long unplanned chains are fine).
  const nearest = new Map<string, readonly string[]>();
  const steps: PlanStep[] = [];
  for (const key of graph.keys) {
    const found = new Set<string>();
    for (const parent of graph.parents(key)) {
      if (planned.has(parent)) found.add(parent);
      else for (const ancestor of nearest.get(parent) ?? []) found.add(ancestor);
    }
    const waitsFor = graph.sortTopologically(found);
    nearest.set(key, waitsFor);
    if (planned.has(key)) steps.push(Object.freeze({ key, waitsFor }));
  }
  return Object.freeze({ steps: Object.freeze(steps) });
}
