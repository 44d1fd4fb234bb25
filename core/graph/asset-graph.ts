import { DirectedGraph } from 'graphology';
import { hasCycle, topologicalGenerations } from 'graphology-dag';
import { DefinitionError, DefinitionErrors } from '../errors.ts';
import type { AssetSpec } from '../definitions/asset-spec.ts';

/**
 * The asset dependency graph, built once from validated specs. Edges point from an upstream
 * asset to the assets that depend on it. Topological order is derived once, layer by layer,
 * with keys sorted inside each layer, so plans and output are deterministic.
 *
 * @example
 * const graph = AssetGraph.build(specs);
 * graph.upstream(['marts/fct_sales']); // every ancestor
 */
export class AssetGraph {
  readonly #graph: DirectedGraph;
  readonly #specs: ReadonlyMap<string, AssetSpec>;
  readonly #order: readonly string[];
  readonly #position: ReadonlyMap<string, number>;
  readonly #layers: readonly (readonly string[])[];
  readonly #layerOf: ReadonlyMap<string, number>;

  private constructor(graph: DirectedGraph, specs: ReadonlyMap<string, AssetSpec>) {
    this.#graph = graph;
    this.#specs = specs;
    this.#layers = topologicalGenerations(graph).map((layer) => Object.freeze([...layer].sort()));
    this.#order = Object.freeze(this.#layers.flat());
    this.#position = new Map(this.#order.map((key, i) => [key, i]));
    this.#layerOf = new Map(this.#layers.flatMap((layer, depth) => layer.map((key) => [key, depth] as const)));
  }

  /** Builds the graph; throws {@link DefinitionErrors} for unknown deps and cycles. */
  static build(specs: readonly AssetSpec[], fileOf: (key: string) => string | undefined = () => undefined): AssetGraph {
    const problems = graphProblems(specs, fileOf);
    if (problems.length > 0) throw new DefinitionErrors(problems);
    return AssetGraph.#assemble(specs);
  }

  static #assemble(specs: readonly AssetSpec[]): AssetGraph {
    const graph = new DirectedGraph();
    const sorted = [...specs].sort((a, b) => compareKeys(a.key, b.key));
    for (const spec of sorted) graph.addNode(spec.key);
    for (const spec of sorted) for (const dep of spec.deps) graph.addDirectedEdge(dep, spec.key);
    return new AssetGraph(graph, new Map(sorted.map((s) => [s.key, s])));
  }

  /** Every asset key in topological order. */
  get keys(): readonly string[] {
    return this.#order;
  }

  /** Asset keys layer by layer: layer 0 has no upstream, layer n depends on layers < n. */
  get layers(): readonly (readonly string[])[] {
    return this.#layers;
  }

  get size(): number {
    return this.#order.length;
  }

  has(key: string): boolean {
    return this.#specs.has(key);
  }

  spec(key: string): AssetSpec {
    const spec = this.#specs.get(key);
    if (!spec) throw new Error(`unknown asset ${key}`);
    return spec;
  }

  /** Every spec in topological order. */
  specs(): AssetSpec[] {
    return this.#order.map((key) => this.spec(key));
  }

  /** The layer (topological generation) of an asset. */
  layerOf(key: string): number {
    return this.#layerOf.get(key) ?? 0;
  }

  /** Direct upstream keys, sorted. */
  parents(key: string): string[] {
    return this.#graph.inNeighbors(key).sort(compareKeys);
  }

  /** Direct downstream keys, sorted. */
  children(key: string): string[] {
    return this.#graph.outNeighbors(key).sort(compareKeys);
  }

  /** Ancestors of `keys` up to `depth` levels (all when omitted), not including `keys` themselves unless reached. */
  upstream(keys: Iterable<string>, depth = Infinity): Set<string> {
    return this.#walk(keys, depth, (key) => this.#graph.inNeighbors(key));
  }

  /** Descendants of `keys` up to `depth` levels (all when omitted). */
  downstream(keys: Iterable<string>, depth = Infinity): Set<string> {
    return this.#walk(keys, depth, (key) => this.#graph.outNeighbors(key));
  }

  /**
   * Members of `subset` with no ancestor inside `subset`, through any path (also one that
   * leaves the subset): with `a -> b -> c` and subset `{a, c}`, only `a`. One walk downstream
   * of the whole subset, so linear in the graph.
   */
  roots(subset: ReadonlySet<string>): Set<string> {
    const below = this.downstream(subset);
    return new Set([...subset].filter((key) => !below.has(key)));
  }

  /** Members of `subset` with no descendant inside `subset`, through any path (see {@link roots}). */
  sinks(subset: ReadonlySet<string>): Set<string> {
    const above = this.upstream(subset);
    return new Set([...subset].filter((key) => !above.has(key)));
  }

  /** `keys` sorted in topological order. */
  sortTopologically(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => (this.#position.get(a) ?? 0) - (this.#position.get(b) ?? 0));
  }

  #walk(start: Iterable<string>, depth: number, next: (key: string) => string[]): Set<string> {
    const seen = new Set<string>();
    let frontier = [...start];
    for (let level = 0; level < depth && frontier.length > 0; level++) {
      const following: string[] = [];
      for (const key of frontier) {
        for (const neighbour of next(key)) {
          if (!seen.has(neighbour)) {
            seen.add(neighbour);
            following.push(neighbour);
          }
        }
      }
      frontier = following;
    }
    return seen;
  }
}

/** Orders keys by their text, the tie-break used everywhere output must be stable. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Unknown dependencies and cycles among `specs`, each naming the asset (and file when known).
 * `unchecked` keys exist but failed to load: deps on them are already reported elsewhere.
 */
export function graphProblems(
  specs: readonly AssetSpec[],
  fileOf: (key: string) => string | undefined,
  unchecked: ReadonlySet<string> = new Set(),
): DefinitionError[] {
  const known = new Set(specs.map((s) => s.key));
  const problems: DefinitionError[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.key)) problems.push(new DefinitionError('duplicate_key', 'asset key is defined twice', { assetKey: spec.key }));
    seen.add(spec.key);
  }
  const context = (key: string) => {
    const file = fileOf(key);
    return file === undefined ? { assetKey: key } : { assetKey: key, file };
  };
  for (const spec of specs) {
    for (const dep of spec.deps) {
      if (!known.has(dep) && !unchecked.has(dep)) {
        const hint = closestKeys(dep, known);
        problems.push(
          new DefinitionError('unknown_dep', `depends on unknown asset "${dep}"${hint.length ? ` (did you mean ${hint.map((k) => `"${k}"`).join(', ')}?)` : ''}`, context(spec.key)),
        );
      }
    }
  }
  const validSpecs = specs.map((s) => ({ key: s.key, deps: s.deps.filter((d) => known.has(d)) }));
  const graph = new DirectedGraph();
  for (const spec of validSpecs) if (!graph.hasNode(spec.key)) graph.addNode(spec.key);
  for (const spec of validSpecs) for (const dep of spec.deps) graph.mergeDirectedEdge(dep, spec.key);
  if (hasCycle(graph)) {
    for (const cycle of findCycles(graph)) {
      const first = cycle[0] ?? '';
      const named = cycle.map((key) => (fileOf(key) === undefined ? key : `${key} (${fileOf(key)})`));
      problems.push(new DefinitionError('cycle', `dependency cycle: ${[...named, first].join(' -> ')}`, context(first)));
    }
  }
  return problems;
}

/** One cycle per strongly connected component that has one, each starting at its smallest key. */
function findCycles(graph: DirectedGraph): string[][] {
  return stronglyConnectedComponents(graph)
    .filter((members) => members.length > 1 || graph.hasDirectedEdge(members[0] as string, members[0] as string))
    .map((members) => {
      const inside = new Set(members);
      const start = [...members].sort(compareKeys)[0] as string;
      return shortestPathBack(graph, start, inside);
    })
    .sort((a, b) => compareKeys(a[0] as string, b[0] as string));
}

/** Tarjan's algorithm, iterative so that 10,000-asset chains do not overflow the stack. */
function stronglyConnectedComponents(graph: DirectedGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.nodes()) {
    if (index.has(root)) continue;
    const work: { node: string; children: string[]; next: number }[] = [];
    const visit = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: graph.outNeighbors(node), next: 0 });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; children: string[]; next: number };
      if (frame.next < frame.children.length) {
        const child = frame.children[frame.next++] as string;
        if (!index.has(child)) visit(child);
        else if (onStack.has(child)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(child) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest path start -> ... -> (back to start) inside one strongly connected component. */
function shortestPathBack(graph: DirectedGraph, start: string, inside: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const key = queue[head] as string;
    for (const child of graph.outNeighbors(key).sort(compareKeys)) {
      if (child === start) {
        const path = [key];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return path;
      }
      if (inside.has(child) && !previous.has(child)) {
        previous.set(child, key);
        queue.push(child);
      }
    }
  }
  return [start];
}

/** Up to three known keys closest to `key` by edit distance (for "did you mean"). */
export function closestKeys(key: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(key.length / 3));
  return [...known]
    .map((candidate) => ({ candidate, distance: editDistance(key, candidate) }))
    .filter((c) => c.distance <= limit || c.candidate.endsWith(`/${key}`))
    .sort((a, b) => a.distance - b.distance || compareKeys(a.candidate, b.candidate))
    .slice(0, max)
    .map((c) => c.candidate);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
