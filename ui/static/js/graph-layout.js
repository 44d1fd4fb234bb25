// Layout of the asset graph with dagre (window.dagre, from /static/vendor/dagre.min.js),
// left to right. Big graphs use the longest-path ranker (far faster than network simplex)
// and a fast ordering (./graph-order.js).

import { fastOrder } from './graph-order.js';

/** Graphs with more nodes than this get the fast ranker and ordering. */
export const BIG_GRAPH = 250;

export const NODE_HEIGHT = 30;
const CHAR_WIDTH = 7.3;

/** Resolves once dagre's script has run (it is a deferred classic script). */
export function dagreReady() {
  if (window.dagre) return Promise.resolve(window.dagre);
  return new Promise((resolve, reject) => {
    const check = () => (window.dagre ? resolve(window.dagre) : reject(new Error('the graph layout library (dagre) did not load')));
    if (document.readyState === 'complete') check();
    else window.addEventListener('load', check, { once: true });
  });
}

/** The label drawn in a node: the key, shortened in the middle when long. */
export function nodeLabel(key) {
  return key.length <= 38 ? key : `${key.slice(0, 17)}…${key.slice(-18)}`;
}

/** Width of a node for its label (the text is measured by character count, not the DOM). */
export function nodeWidth(key) {
  return Math.round(Math.min(330, Math.max(110, nodeLabel(key).length * CHAR_WIDTH + 40)));
}

/**
 * Positions `assets` (objects with `key` and `deps`); edges to assets outside the list are
 * left out. Returns node boxes (centre x/y), edge polylines and the drawing size.
 *
 * @returns {{ nodes: Map<string, {x:number,y:number,width:number,height:number}>,
 *   edges: {from:string,to:string,points:{x:number,y:number}[]}[], width:number, height:number, ms:number }}
 */
export function layoutGraph(dagre, assets) {
  const started = performance.now();
  const big = assets.length > BIG_GRAPH;
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: 'LR',
    nodesep: big ? 8 : 14,
    ranksep: big ? 48 : 64,
    edgesep: 6,
    marginx: 24,
    marginy: 24,
    ranker: big ? 'longest-path' : 'network-simplex',
  });
  g.setDefaultEdgeLabel(() => ({}));
  const present = new Set(assets.map((a) => a.key));
  for (const a of assets) g.setNode(a.key, { width: nodeWidth(a.key), height: NODE_HEIGHT });
  for (const a of assets) for (const dep of a.deps) if (present.has(dep) && dep !== a.key) g.setEdge(dep, a.key);
  // A check dependency (only the asset's checks read `dep`) is drawn dashed.
  for (const a of assets) for (const dep of a.checkDeps ?? []) if (present.has(dep) && !g.hasEdge(dep, a.key)) g.setEdge(dep, a.key, { check: true });
  dagre.layout(g, big ? { customOrder: fastOrder } : undefined);
  const nodes = new Map();
  for (const key of g.nodes()) {
    const n = g.node(key);
    nodes.set(key, { x: n.x, y: n.y, width: n.width, height: n.height });
  }
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [], check: g.edge(e).check === true }));
  const { width = 0, height = 0 } = g.graph();
  return { nodes, edges, width, height, ms: performance.now() - started };
}

/** Upstream and downstream closures of `key` over `assets` (only keys in the list). */
export function relatives(assets, key) {
  const parents = new Map();
  const children = new Map();
  const present = new Set(assets.map((a) => a.key));
  for (const a of assets) {
    const deps = [...a.deps, ...(a.checkDeps ?? [])];
    parents.set(
      a.key,
      deps.filter((d) => present.has(d)),
    );
    for (const d of deps) if (present.has(d)) (children.get(d) ?? children.set(d, []).get(d)).push(a.key);
  }
  const walk = (start, next) => {
    const seen = new Set();
    const stack = [...(next.get(start) ?? [])];
    while (stack.length) {
      const k = stack.pop();
      if (seen.has(k)) continue;
      seen.add(k);
      stack.push(...(next.get(k) ?? []));
    }
    return seen;
  };
  return { up: walk(key, parents), down: walk(key, children) };
}
