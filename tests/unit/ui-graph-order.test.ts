/**
 * The lineage graph's node ordering for big graphs (ui/static/js/graph-order.js), run on dagre's
 * own graph type as `dagre.layout(g, { customOrder: fastOrder })` hands it over: it orders every
 * rank, draws forests without crossings, and cuts the crossings of generated layered graphs.
 */
import dagre from '@dagrejs/dagre';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastOrder } from '../../ui/static/js/graph-order.js';

/** A layered graph: nodes `r.i` by rank, edges between consecutive ranks, listed in input order. */
interface Layered {
  readonly ranks: readonly (readonly string[])[];
  readonly edges: readonly (readonly [string, string])[];
}

/**
 * Layered graphs of 2 to 7 ranks; each node of a rank below the first gets up to `maxParents`
 * distinct parents in the rank above (0 allowed: nodes without parents).
 */
function layeredGraphs(maxParents: number, maxWidth = 12): fc.Arbitrary<Layered> {
  return fc.array(fc.integer({ min: 1, max: maxWidth }), { minLength: 2, maxLength: 7 }).chain((sizes) =>
    fc
      .tuple(
        ...sizes.slice(1).map((size, r) => fc.array(fc.uniqueArray(fc.nat(sizes[r]! - 1), { maxLength: maxParents }), { minLength: size, maxLength: size })),
      )
      .map((parents) => ({
        ranks: sizes.map((size, r) => Array.from({ length: size }, (_, i) => `${r}.${i}`)),
        edges: parents.flatMap((rank, r) => rank.flatMap((ps, i) => ps.map((p) => [`${r}.${p}`, `${r + 1}.${i}`] as const))),
      })),
  );
}

/** The graph as dagre's layout has it when it calls `customOrder`: ranked nodes, one-rank edges. */
function dagreGraph(graph: Layered): InstanceType<typeof dagre.graphlib.Graph> {
  const g = new dagre.graphlib.Graph();
  graph.ranks.forEach((rank, r) => rank.forEach((v) => g.setNode(v, { rank: r })));
  for (const [v, w] of graph.edges) g.setEdge(v, w);
  return g;
}

/** Pairs of edges between the same two ranks whose ends are in opposite orders. */
function crossings(graph: Layered, order: (v: string) => number): number {
  const rankOf = (v: string) => Number(v.split('.')[0]);
  let total = 0;
  graph.edges.forEach(([a, b], i) => {
    for (const [c, d] of graph.edges.slice(i + 1)) {
      if (rankOf(a) === rankOf(c) && (order(a) - order(c)) * (order(b) - order(d)) < 0) total++;
    }
  });
  return total;
}

/** Runs fastOrder and returns each node's `order`. */
function ordered(graph: Layered): (v: string) => number {
  const g = dagreGraph(graph);
  fastOrder(g);
  return (v) => (g.node(v) as { order: number }).order;
}

const inputOrder = (v: string) => Number(v.split('.')[1]);

describe('fastOrder', () => {
  it('gives each rank the orders 0..n-1', () => {
    fc.assert(
      fc.property(layeredGraphs(3), (graph) => {
        const order = ordered(graph);
        return graph.ranks.every((rank) => expect(rank.map(order).sort((a, b) => a - b)).toEqual(rank.map((_, i) => i)));
      }),
    );
  });

  it('uncrosses the smallest crossing: two nodes whose edges swap', () => {
    const graph: Layered = {
      ranks: [
        ['0.0', '0.1'],
        ['1.0', '1.1'],
      ],
      edges: [
        ['0.0', '1.1'],
        ['0.1', '1.0'],
      ],
    };
    expect(crossings(graph, inputOrder)).toBe(1);
    expect(crossings(graph, ordered(graph))).toBe(0);
  });

  it('draws any forest (at most one parent per node) without crossings, whatever the input order', () => {
    fc.assert(fc.property(layeredGraphs(1, 20), (forest) => crossings(forest, ordered(forest)) === 0));
  });

  it('is deterministic: the same graph gets the same order', () => {
    fc.assert(
      fc.property(layeredGraphs(3), (graph) => {
        const [first, second] = [ordered(graph), ordered(graph)];
        return graph.ranks.flat().every((v) => first(v) === second(v));
      }),
    );
  });

  it('cuts the crossings of generated layered graphs to well under half of the input order', () => {
    // A fixed sample: sweeps are a heuristic, so one graph in about a thousand ends up with a
    // few more crossings than its input order; the sample pins the aggregate behaviour.
    const graphs = fc.sample(layeredGraphs(3), { numRuns: 300, seed: 1_308 });
    let before = 0;
    let after = 0;
    let fewerOrEqual = 0;
    for (const graph of graphs) {
      const [input, fast] = [crossings(graph, inputOrder), crossings(graph, ordered(graph))];
      before += input;
      after += fast;
      if (fast <= input) fewerOrEqual++;
    }
    expect(before).toBeGreaterThan(10_000);
    expect(after).toBeLessThan(before * 0.45);
    expect(fewerOrEqual / graphs.length).toBeGreaterThanOrEqual(0.98);
  });
});
