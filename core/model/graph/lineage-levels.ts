import type { AssetGraph } from './asset-graph.ts';

/**
 * Every asset within `depth` levels up or down from `key`, with its shortest distance, in
 * breadth-first order (neighbours sorted by key), through data and check dependencies alike.
 *
 * @example
 * lineageLevels(graph, 'marts/fct_sales', 2, 'up') // [{ key: 'staging/order_items', depth: 1 }, …]
 */
export function lineageLevels(graph: AssetGraph, key: string, depth: number, direction: 'up' | 'down'): { key: string; depth: number }[] {
  const found: { key: string; depth: number }[] = [];
  const seen = new Set([key]);
  let frontier = [key];
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    const next: string[] = [];
    for (const k of frontier) {
      for (const { key: n } of direction === 'up' ? graph.dependencies(k) : graph.dependents(k)) {
        if (seen.has(n)) continue;
        seen.add(n);
        next.push(n);
        found.push({ key: n, depth: level });
      }
    }
    frontier = next;
  }
  return found;
}
