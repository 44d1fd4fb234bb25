import { DirectedGraph } from 'graphology';
import { hasCycle, topologicalGenerations } from 'graphology-dag';
import { DefinitionError, DefinitionErrors } from '../errors.ts';
import { checkReads } from '../checks/check-spec.ts';
import type { AssetSpec } from '../definitions/asset-spec.ts';

/**
 * Why a downstream asset depends on an upstream one: it reads the upstream's data (`data`), or
 * only its checks read it (`check`: a `relationships` target, a table a custom SQL check reads).
 * Both order the build; only data dependencies count for staleness.
 */
export type DependencyKind = 'data' | 'check';

/** One edge of the graph. */
export interface DependencyEdge {
  readonly upstream: string;
  readonly downstream: string;
  readonly via: DependencyKind;
}

/** A neighbour of an asset and the kind of the edge between them. */
export interface Dependency {
  readonly key: string;
  readonly via: DependencyKind;
}

/**
 * The asset dependency graph, built once from validated specs. Edges point from an upstream
 * asset to the assets that depend on it: data dependencies (`spec.deps`) and check
 * dependencies (assets the spec's checks read, {@link checkDependencies}). Topological order is
 * derived once over both, layer by layer, with keys sorted inside each layer, so plans and
 * output are deterministic.
 *
 * {@link parents} and {@link children} are data dependencies only (what staleness and data
 * versions follow); {@link checkParents} are the check-only ones; {@link upstream},
 * {@link downstream}, {@link keys} and {@link layers} follow both (what ordering and selection follow).
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
  /** Check-only parents per asset (only assets that have some). */
  readonly #checkParents: ReadonlyMap<string, ReadonlySet<string>>;
  /** Check-only children per asset (only assets that have some). */
  readonly #checkChildren: ReadonlyMap<string, ReadonlySet<string>>;

  private constructor(graph: DirectedGraph, specs: ReadonlyMap<string, AssetSpec>, checkEdges: readonly (readonly [string, string])[]) {
    this.#graph = graph;
    this.#specs = specs;
    this.#layers = topologicalGenerations(graph).map((layer) => Object.freeze([...layer].sort()));
    this.#order = Object.freeze(this.#layers.flat());
    this.#position = new Map(this.#order.map((key, i) => [key, i]));
    this.#layerOf = new Map(this.#layers.flatMap((layer, depth) => layer.map((key) => [key, depth] as const)));
    this.#checkParents = indexEdges(checkEdges, 1, 0);
    this.#checkChildren = indexEdges(checkEdges, 0, 1);
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
    const checkEdges: (readonly [string, string])[] = [];
    for (const spec of sorted) graph.addNode(spec.key);
    for (const spec of sorted) {
      for (const dep of spec.deps) graph.addDirectedEdge(dep, spec.key);
      for (const target of checkDependencies(spec)) {
        graph.addDirectedEdge(target, spec.key);
        checkEdges.push([target, spec.key]);
      }
    }
    return new AssetGraph(graph, new Map(sorted.map((s) => [s.key, s])), checkEdges);
  }

  /** Every asset key in topological order (data and check dependencies first). */
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

  /** Direct upstream keys whose data the asset reads (its data dependencies), sorted. */
  parents(key: string): string[] {
    const checkOnly = this.#checkParents.get(key);
    const all = this.#graph.inNeighbors(key);
    return (checkOnly ? all.filter((p) => !checkOnly.has(p)) : all).sort(compareKeys);
  }

  /** Direct downstream keys that read the asset's data, sorted. */
  children(key: string): string[] {
    const checkOnly = this.#checkChildren.get(key);
    const all = this.#graph.outNeighbors(key);
    return (checkOnly ? all.filter((c) => !checkOnly.has(c)) : all).sort(compareKeys);
  }

  /** Assets only the asset's checks read (not also data dependencies), sorted: built before it, not counted for staleness. */
  checkParents(key: string): string[] {
    return [...(this.#checkParents.get(key) ?? [])].sort(compareKeys);
  }

  /** Assets whose checks (only) read this asset, sorted. */
  checkChildren(key: string): string[] {
    return [...(this.#checkChildren.get(key) ?? [])].sort(compareKeys);
  }

  /** Every direct upstream asset, data and check dependencies, sorted by key. */
  dependencies(key: string): Dependency[] {
    const checkOnly = this.#checkParents.get(key);
    return this.#graph
      .inNeighbors(key)
      .sort(compareKeys)
      .map((p) => ({ key: p, via: checkOnly?.has(p) ? 'check' : 'data' }));
  }

  /** Every direct downstream asset, data and check dependents, sorted by key. */
  dependents(key: string): Dependency[] {
    const checkOnly = this.#checkChildren.get(key);
    return this.#graph
      .outNeighbors(key)
      .sort(compareKeys)
      .map((c) => ({ key: c, via: checkOnly?.has(c) ? 'check' : 'data' }));
  }

  /**
   * Every edge (both ends in `members` when given), by downstream asset in topological order,
   * then upstream key.
   */
  edges(members?: ReadonlySet<string>): DependencyEdge[] {
    const keys = members === undefined ? this.#order : this.sortTopologically(members);
    return keys.flatMap((downstream) =>
      this.dependencies(downstream)
        .filter((d) => members === undefined || members.has(d.key))
        .map((d) => ({ upstream: d.key, downstream, via: d.via })),
    );
  }

  /** Ancestors of `keys` through data and check dependencies, up to `depth` levels (all when omitted), not including `keys` themselves unless reached. */
  upstream(keys: Iterable<string>, depth = Infinity): Set<string> {
    return this.#walk(keys, depth, (key) => this.#graph.inNeighbors(key));
  }

  /** Descendants of `keys` through data and check dependencies, up to `depth` levels (all when omitted). */
  downstream(keys: Iterable<string>, depth = Infinity): Set<string> {
    return this.#walk(keys, depth, (key) => this.#graph.outNeighbors(key));
  }

  /**
   * Members of `subset` with no ancestor inside `subset`, through any path of data or check
   * dependencies (also one that leaves the subset): with `a -> b -> c` and subset `{a, c}`, only `a`. One walk downstream
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

/**
 * The assets a spec's checks read that are not also its data dependencies, sorted: its check
 * dependencies (see {@link checkReads}).
 */
export function checkDependencies(spec: AssetSpec): string[] {
  const data = new Set(spec.deps);
  return [...new Set(spec.checks.flatMap((check) => checkReads(check, spec.key)))].filter((key) => !data.has(key)).sort(compareKeys);
}

/** `[a, b]` pairs grouped by element `from` into sets of element `to`. */
function indexEdges(edges: readonly (readonly [string, string])[], from: 0 | 1, to: 0 | 1): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  for (const edge of edges) {
    const set = index.get(edge[from]) ?? new Set<string>();
    set.add(edge[to]);
    index.set(edge[from], set);
  }
  return index;
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
  const unknown = (key: string) => !known.has(key) && !unchecked.has(key);
  const didYouMean = (key: string) => {
    const hint = closestKeys(key, known);
    return hint.length ? ` (did you mean ${hint.map((k) => `"${k}"`).join(', ')}?)` : '';
  };
  for (const spec of specs) {
    for (const dep of spec.deps) {
      if (unknown(dep)) problems.push(new DefinitionError('unknown_dep', `depends on unknown asset "${dep}"${didYouMean(dep)}`, context(spec.key)));
    }
    for (const check of spec.checks) {
      for (const target of checkReads(check, spec.key)) {
        if (unknown(target)) problems.push(new DefinitionError('check_invalid', `check ${check.name}: "${target}" is not an asset${didYouMean(target)}`, context(spec.key)));
      }
    }
  }
  const graph = new DirectedGraph();
  // The check that makes an edge a check dependency, by `upstream \0 downstream` (data edges have none).
  const checkOf = new Map<string, string>();
  for (const spec of specs) if (!graph.hasNode(spec.key)) graph.addNode(spec.key);
  for (const spec of specs) {
    for (const dep of spec.deps) if (known.has(dep)) graph.mergeDirectedEdge(dep, spec.key);
    for (const check of spec.checks) {
      for (const target of checkReads(check, spec.key)) {
        if (!known.has(target) || spec.deps.includes(target)) continue;
        graph.mergeDirectedEdge(target, spec.key);
        if (!checkOf.has(`${target}\0${spec.key}`)) checkOf.set(`${target}\0${spec.key}`, check.name);
      }
    }
  }
  if (hasCycle(graph)) {
    for (const cycle of findCycles(graph)) {
      const first = cycle[0] ?? '';
      const named = cycle.map((key) => (fileOf(key) === undefined ? key : `${key} (${fileOf(key)})`));
      const closed = [...cycle, first];
      let path = named[0] ?? '';
      let throughCheck = false;
      for (let i = 1; i < closed.length; i++) {
        const check = checkOf.get(`${closed[i - 1]}\0${closed[i]}`);
        throughCheck ||= check !== undefined;
        path += `${check === undefined ? ' -> ' : ` -(check ${check})-> `}${i === cycle.length ? first : named[i]}`;
      }
      const note = throughCheck ? ' (a check runs after the assets it reads, so they cannot depend on its asset)' : '';
      problems.push(new DefinitionError('cycle', `dependency cycle: ${path}${note}`, context(first)));
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
