import { DirectedGraph } from 'graphology';
import { topologicalGenerations } from 'graphology-dag';
import { DefinitionErrors } from '../errors.ts';
import type { AssetSpec } from '../definitions/asset-spec.ts';
import { checkDependencies } from './check-dependencies.ts';
import { graphProblems } from './graph-problems.ts';
import { compareKeys } from '../collections/key-compare.ts';

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
