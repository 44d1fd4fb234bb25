import { lineageLevels } from '../core/model/graph/lineage-levels.ts';
import type { AssetGraph, DependencyEdge } from '../core/model/graph/asset-graph.ts';

/** Which way {@link lineageOf} walks from the asset. */
export type LineageDirection = 'up' | 'down' | 'both';

/** A lineage node: `depth` 0 is the asset itself; upstream nodes have `direction: 'up'`. */
export interface LineageNode {
  readonly key: string;
  readonly depth: number;
  readonly direction: 'self' | 'up' | 'down';
}

/** `GET /api/lineage/*key`: the nodes within `depth` levels and the edges among them. */
export interface Lineage {
  readonly key: string;
  readonly direction: LineageDirection;
  /** `null`: unlimited. */
  readonly depth: number | null;
  readonly nodes: readonly LineageNode[];
  /** `via: 'check'`: only the downstream asset's checks read the upstream one. */
  readonly edges: readonly DependencyEdge[];
}

/**
 * The assets within `depth` levels of `key` (shortest distance), upstream, downstream or both,
 * and every dependency edge (data or check) between two of them. Pure; `key` must be in `graph`.
 *
 * @example
 * lineageOf(graph, 'staging/orders', 1, 'up').nodes; // [{ key: 'staging/orders', depth: 0, … }, { key: 'raw/orders', depth: 1, direction: 'up' }]
 */
export function lineageOf(graph: AssetGraph, key: string, depth: number, direction: LineageDirection): Lineage {
  const up = direction === 'down' ? [] : lineageLevels(graph, key, depth, 'up').map((n) => ({ ...n, direction: 'up' as const }));
  const down = direction === 'up' ? [] : lineageLevels(graph, key, depth, 'down').map((n) => ({ ...n, direction: 'down' as const }));
  const nodes: LineageNode[] = [{ key, depth: 0, direction: 'self' }, ...up, ...down];
  const members = new Set(nodes.map((n) => n.key));
  const edges = graph.edges(members);
  return { key, direction, depth: Number.isFinite(depth) ? depth : null, nodes, edges };
}
