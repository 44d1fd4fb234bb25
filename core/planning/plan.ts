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
  const nearest = new Map<string, readonly string[]>();
  const nearestPlanned = (key: string): readonly string[] => {
    const known = nearest.get(key);
    if (known) return known;
    const found = new Set<string>();
    for (const parent of graph.parents(key)) {
      if (planned.has(parent)) found.add(parent);
      else for (const ancestor of nearestPlanned(parent)) found.add(ancestor);
    }
    const result = graph.sortTopologically(found);
    nearest.set(key, result);
    return result;
  };
  const steps = graph.sortTopologically(planned).map((key) => Object.freeze({ key, waitsFor: nearestPlanned(key) }));
  return Object.freeze({ steps: Object.freeze(steps) });
}
