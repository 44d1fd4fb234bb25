/**
 * Model-based tests of selection resolution: on random DAGs with random tags and kinds,
 * `roots()`, `sinks()`, `tag:` and `kind:` resolve to what a brute-force oracle computes from the definition
 * (reachability by a naive transitive closure over the edge matrix).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { parseSelection } from '../../core/model/selection/index.ts';
import { spec } from './selection-fixture.ts';

const TAG_NAMES = ['pii', 'tier', 'domain'] as const;
const TAG_VALUES = ['', 'gold', 'silver'] as const;
const KINDS = ['sql', 'duckdb', 'typescript', 'python'] as const;

interface Model {
  readonly keys: readonly string[];
  /** `edge[i][j]`: asset i is a direct upstream of asset j (only i < j, so the graph is acyclic). */
  readonly edge: readonly (readonly boolean[])[];
  readonly tags: readonly Readonly<Record<string, string>>[];
  readonly kinds: readonly (readonly string[])[];
}

const modelArbitrary: fc.Arbitrary<Model> = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc
    .record({
      edges: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      tags: fc.array(fc.dictionary(fc.constantFrom(...TAG_NAMES), fc.constantFrom(...TAG_VALUES), { maxKeys: 3 }), { minLength: n, maxLength: n }),
      kinds: fc.array(fc.uniqueArray(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 3 }), { minLength: n, maxLength: n }),
    })
    .map(({ edges, tags, kinds }) => ({
      keys: Array.from({ length: n }, (_, i) => `layer/a${i}`),
      edge: edges.map((row, i) => row.map((on, j) => on && i < j)),
      tags,
      kinds,
    })),
);

function buildGraph(model: Model): AssetGraph {
  return AssetGraph.build(
    model.keys.map((key, j) =>
      spec(
        key,
        model.keys.filter((_, i) => model.edge[i]?.[j]),
        { tags: model.tags[j] ?? {}, kinds: model.kinds[j] ?? [] },
      ),
    ),
  );
}

/** `reach[i][j]`: a path of one edge or more leads from i to j (Floyd–Warshall on booleans). */
function closure(model: Model): boolean[][] {
  const reach = model.edge.map((row) => [...row]);
  const n = model.keys.length;
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (reach[i]![k] && reach[k]![j]) reach[i]![j] = true;
  return reach;
}

/** A non-empty subset of the model's assets, as indexes. */
const withSubset = modelArbitrary.chain((model) =>
  fc.tuple(fc.constant(model), fc.uniqueArray(fc.integer({ min: 0, max: model.keys.length - 1 }), { minLength: 1, maxLength: model.keys.length })),
);

const sorted = (keys: Iterable<string>) => [...keys].sort();
const RUNS = { seed: 20_250_611, numRuns: 300 };

describe('selection resolution against a brute-force oracle on random DAGs', () => {
  it('roots(S): members of S with no ancestor in S through any path; sinks(S): with no descendant in S', () => {
    fc.assert(
      fc.property(withSubset, ([model, subset]) => {
        const graph = buildGraph(model);
        const reach = closure(model);
        const inner = subset.map((i) => model.keys[i]).join(' or ');
        const roots = subset.filter((j) => !subset.some((i) => reach[i]![j])).map((j) => model.keys[j]!);
        const sinks = subset.filter((i) => !subset.some((j) => reach[i]![j])).map((i) => model.keys[i]!);
        expect(sorted(parseSelection(`roots(${inner})`).resolve(graph))).toEqual(sorted(roots));
        expect(sorted(parseSelection(`sinks(${inner})`).resolve(graph))).toEqual(sorted(sinks));
      }),
      RUNS,
    );
  });

  it('tag:k matches key-only tags, tag:k=v the exact value', () => {
    fc.assert(
      fc.property(modelArbitrary, fc.constantFrom(...TAG_NAMES), fc.constantFrom(...TAG_VALUES), (model, name, value) => {
        const graph = buildGraph(model);
        const text = value === '' ? `tag:${name}` : `tag:${name}=${value}`;
        const expected = model.keys.filter((_, i) => Object.hasOwn(model.tags[i]!, name) && model.tags[i]![name] === value);
        expect(sorted(parseSelection(text).resolve(graph)), text).toEqual(sorted(expected));
      }),
      RUNS,
    );
  });

  it('kind:k matches assets with k among their kinds', () => {
    fc.assert(
      fc.property(modelArbitrary, fc.constantFrom(...KINDS), (model, kind) => {
        const graph = buildGraph(model);
        const expected = model.keys.filter((_, i) => model.kinds[i]!.includes(kind));
        expect(sorted(parseSelection(`kind:${kind}`).resolve(graph))).toEqual(sorted(expected));
      }),
      RUNS,
    );
  });
});
