import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../core/model/definitions/asset-spec.ts';
import type { AssetSpec } from '../../core/model/definitions/asset-spec.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { graphProblems } from '../../core/model/graph/graph-problems.ts';
import { closestKeys, editDistance } from '../../core/model/collections/key-compare.ts';
import { DefinitionError, DefinitionErrors } from '../../core/model/errors.ts';
import { customSql, relationships, withReads, type CheckSpec } from '../../core/model/definitions/check-spec.ts';

function spec(key: string, deps: string[] = []): AssetSpec {
  return buildSpec(key, { deps, tags: {}, owners: [] }, 'sql');
}

/** A deterministic shuffle (mulberry32 + Fisher–Yates), so failures reproduce. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function problems(specs: readonly AssetSpec[], fileOf: (key: string) => string | undefined = () => undefined): string[] {
  return graphProblems(specs, fileOf).map((e) => `${e.code} ${e.context.assetKey}: ${e.message}`);
}

/**
 * raw/orders ───> staging/orders ───┐
 * raw/payments ─> staging/payments ─┼─> marts/fct_sales ─> marts/daily_revenue
 * raw/items ────> staging/items ────┴─> marts/dim_items
 * raw/unused (isolated)
 */
const SPECS: readonly AssetSpec[] = [
  spec('raw/orders'),
  spec('raw/payments'),
  spec('raw/items'),
  spec('raw/unused'),
  spec('staging/orders', ['raw/orders']),
  spec('staging/payments', ['raw/payments']),
  spec('staging/items', ['raw/items']),
  spec('marts/fct_sales', ['staging/payments', 'staging/orders', 'staging/items']),
  spec('marts/dim_items', ['staging/items']),
  spec('marts/daily_revenue', ['marts/fct_sales']),
];

const LAYERS = [
  ['raw/items', 'raw/orders', 'raw/payments', 'raw/unused'],
  ['staging/items', 'staging/orders', 'staging/payments'],
  ['marts/dim_items', 'marts/fct_sales'],
  ['marts/daily_revenue'],
];

describe('AssetGraph order', () => {
  const graph = AssetGraph.build(SPECS);

  it('lists keys layer by layer, sorted inside each layer', () => {
    expect(graph.layers).toEqual(LAYERS);
    expect(graph.keys).toEqual(LAYERS.flat());
    expect(graph.size).toBe(10);
    expect(graph.layerOf('raw/unused')).toBe(0);
    expect(graph.layerOf('staging/orders')).toBe(1);
    expect(graph.layerOf('marts/dim_items')).toBe(2);
    expect(graph.layerOf('marts/daily_revenue')).toBe(3);
  });

  it('gives the same order whatever the insertion order', () => {
    for (const seed of [1, 2, 3, 42, 1234, 99_999]) {
      const other = AssetGraph.build(shuffled(SPECS, seed));
      expect(other.keys).toEqual(graph.keys);
      expect(other.layers).toEqual(graph.layers);
      for (const key of graph.keys) {
        expect(other.parents(key)).toEqual(graph.parents(key));
        expect(other.children(key)).toEqual(graph.children(key));
      }
    }
    expect(AssetGraph.build([...SPECS].reverse()).keys).toEqual(graph.keys);
  });

  it('places a node by its longest path from a root, not its shortest', () => {
    const skip = AssetGraph.build([spec('a/a'), spec('a/b', ['a/a']), spec('a/c', ['a/b']), spec('a/d', ['a/a', 'a/c'])]);
    expect(skip.layers).toEqual([['a/a'], ['a/b'], ['a/c'], ['a/d']]);
  });

  it('returns specs in topological order and looks them up by key', () => {
    expect(graph.specs().map((s) => s.key)).toEqual(graph.keys);
    expect(graph.spec('marts/fct_sales').deps).toEqual(['staging/items', 'staging/orders', 'staging/payments']);
    expect(graph.has('raw/orders')).toBe(true);
    expect(graph.has('raw/nothing')).toBe(false);
    expect(() => graph.spec('raw/nothing')).toThrow('unknown asset raw/nothing');
  });

  it('has frozen order and layers', () => {
    expect(Object.isFrozen(graph.keys)).toBe(true);
    for (const layer of graph.layers) expect(Object.isFrozen(layer)).toBe(true);
  });

  it('builds an empty graph', () => {
    const empty = AssetGraph.build([]);
    expect(empty.keys).toEqual([]);
    expect(empty.layers).toEqual([]);
    expect(empty.size).toBe(0);
  });
});

describe('AssetGraph navigation', () => {
  const graph = AssetGraph.build(shuffled(SPECS, 7));

  it('lists parents and children sorted', () => {
    expect(graph.parents('marts/fct_sales')).toEqual(['staging/items', 'staging/orders', 'staging/payments']);
    expect(graph.children('staging/items')).toEqual(['marts/dim_items', 'marts/fct_sales']);
    expect(graph.parents('raw/orders')).toEqual([]);
    expect(graph.children('marts/daily_revenue')).toEqual([]);
  });

  it('does not let callers change the graph through returned arrays', () => {
    graph.parents('marts/fct_sales').pop();
    expect(graph.parents('marts/fct_sales')).toHaveLength(3);
  });

  it('walks upstream, all the way or to a depth', () => {
    expect([...graph.upstream(['marts/daily_revenue'])].sort()).toEqual([
      'marts/fct_sales',
      'raw/items',
      'raw/orders',
      'raw/payments',
      'staging/items',
      'staging/orders',
      'staging/payments',
    ]);
    expect([...graph.upstream(['marts/daily_revenue'], 1)]).toEqual(['marts/fct_sales']);
    expect([...graph.upstream(['marts/daily_revenue'], 2)].sort()).toEqual(['marts/fct_sales', 'staging/items', 'staging/orders', 'staging/payments']);
    expect(graph.upstream(['marts/daily_revenue'], 0).size).toBe(0);
    expect(graph.upstream(['raw/orders']).size).toBe(0);
  });

  it('walks downstream, all the way or to a depth', () => {
    expect([...graph.downstream(['raw/items'])].sort()).toEqual(['marts/daily_revenue', 'marts/dim_items', 'marts/fct_sales', 'staging/items']);
    expect([...graph.downstream(['raw/items'], 1)]).toEqual(['staging/items']);
    expect([...graph.downstream(['raw/items'], 2)].sort()).toEqual(['marts/dim_items', 'marts/fct_sales', 'staging/items']);
    expect(graph.downstream(['raw/unused']).size).toBe(0);
  });

  it('includes a start key only when another start key reaches it', () => {
    expect([...graph.upstream(['marts/daily_revenue', 'staging/orders'])].sort()).toEqual([
      'marts/fct_sales',
      'raw/items',
      'raw/orders',
      'raw/payments',
      'staging/items',
      'staging/orders',
      'staging/payments',
    ]);
    expect(graph.upstream(['staging/orders', 'staging/items']).has('staging/orders')).toBe(false);
  });

  it('finds the roots and sinks of a subset', () => {
    const subset = new Set(['staging/orders', 'staging/items', 'marts/fct_sales', 'marts/dim_items', 'marts/daily_revenue']);
    expect([...graph.roots(subset)].sort()).toEqual(['staging/items', 'staging/orders']);
    expect([...graph.sinks(subset)].sort()).toEqual(['marts/daily_revenue', 'marts/dim_items']);
    // A subset with a gap: raw/orders reaches marts/fct_sales only through staging/orders,
    // outside the subset; that path still counts (Dagster's fetch_sources / fetch_sinks).
    const gappy = new Set(['raw/orders', 'marts/fct_sales']);
    expect([...graph.roots(gappy)]).toEqual(['raw/orders']);
    expect([...graph.sinks(gappy)]).toEqual(['marts/fct_sales']);
    const unrelated = new Set(['raw/unused', 'marts/fct_sales']);
    expect([...graph.roots(unrelated)].sort()).toEqual(['marts/fct_sales', 'raw/unused']);
    expect(graph.roots(new Set()).size).toBe(0);
  });

  it('sorts any keys topologically with the graph’s tie-break', () => {
    expect(graph.sortTopologically(['marts/daily_revenue', 'raw/unused', 'staging/orders', 'marts/dim_items', 'raw/items'])).toEqual([
      'raw/items',
      'raw/unused',
      'staging/orders',
      'marts/dim_items',
      'marts/daily_revenue',
    ]);
    expect(graph.sortTopologically(new Set(['staging/payments', 'staging/items']))).toEqual(['staging/items', 'staging/payments']);
  });
});

describe('graphProblems', () => {
  it('finds nothing wrong in a valid graph', () => {
    expect(graphProblems(SPECS, () => undefined)).toEqual([]);
  });

  it('reports an unknown dep with a did-you-mean, naming the asset and its file', () => {
    const found = graphProblems([spec('raw/orders'), spec('staging/orders', ['raw/order'])], (key) => `defs/${key}.sql`);
    expect(found).toHaveLength(1);
    const [error] = found as [DefinitionError];
    expect(error).toBeInstanceOf(DefinitionError);
    expect(error.code).toBe('unknown_dep');
    expect(error.context).toEqual({ assetKey: 'staging/orders', file: 'defs/staging/orders.sql' });
    expect(error.message).toBe('depends on unknown asset "raw/order" (did you mean "raw/orders"?)');
  });

  it('suggests keys that end with an unqualified name', () => {
    expect(problems([spec('raw/orders'), spec('marts/x', ['orders'])])).toEqual([
      'unknown_dep marts/x: depends on unknown asset "orders" (did you mean "raw/orders"?)',
    ]);
  });

  it('gives no suggestion when nothing is close', () => {
    expect(problems([spec('raw/orders'), spec('marts/x', ['finance/ledger_entries'])])).toEqual([
      'unknown_dep marts/x: depends on unknown asset "finance/ledger_entries"',
    ]);
  });

  it('reports a 2-cycle once, starting at its smallest key', () => {
    const found = graphProblems([spec('loop/b', ['loop/a']), spec('loop/a', ['loop/b'])], (key) => `defs/${key}.ts`);
    expect(found.map((e) => e.message)).toEqual(['dependency cycle: loop/a (defs/loop/a.ts) -> loop/b (defs/loop/b.ts) -> loop/a']);
    expect(found[0]?.code).toBe('cycle');
    expect(found[0]?.context).toEqual({ assetKey: 'loop/a', file: 'defs/loop/a.ts' });
  });

  it('reports a 3-cycle once, printing the path along the edges (upstream -> downstream)', () => {
    // c/b reads c/a, c/c reads c/b, c/a reads c/c.
    const specs = [spec('c/a', ['c/c']), spec('c/b', ['c/a']), spec('c/c', ['c/b'])];
    for (const seed of [1, 2, 3]) {
      expect(problems(shuffled(specs, seed))).toEqual(['cycle c/a: dependency cycle: c/a -> c/b -> c/c -> c/a']);
    }
  });

  it('reports two separate cycles, each once', () => {
    const specs = [spec('a/x', ['a/y']), spec('a/y', ['a/x']), spec('b/p', ['b/r']), spec('b/q', ['b/p']), spec('b/r', ['b/q']), spec('c/ok', ['a/x', 'b/p'])];
    expect(problems(specs)).toEqual(['cycle a/x: dependency cycle: a/x -> a/y -> a/x', 'cycle b/p: dependency cycle: b/p -> b/q -> b/r -> b/p']);
  });

  it('reports one cycle for a strongly connected component with several loops', () => {
    const specs = [spec('s/a', ['s/b', 's/c']), spec('s/b', ['s/a']), spec('s/c', ['s/a'])];
    const found = problems(specs);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^cycle s\/a: dependency cycle: s\/a -> s\/[bc] -> s\/a$/);
  });

  it('does not start a cycle at an asset that only feeds into it', () => {
    // a/before (smallest key) is upstream of the cycle but not on it.
    const specs = [spec('a/before'), spec('z/x', ['a/before', 'z/y']), spec('z/y', ['z/x'])];
    expect(problems(specs)).toEqual(['cycle z/x: dependency cycle: z/x -> z/y -> z/x']);
  });

  it('reports a self-dependency', () => {
    expect(problems([spec('raw/orders', ['raw/orders'])])).toEqual(['cycle raw/orders: dependency cycle: raw/orders -> raw/orders']);
  });

  it('reports unknown deps and cycles together', () => {
    const specs = [spec('a/x', ['a/y', 'a/missing']), spec('a/y', ['a/x'])];
    expect(problems(specs)).toEqual(['unknown_dep a/x: depends on unknown asset "a/missing"', 'cycle a/x: dependency cycle: a/x -> a/y -> a/x']);
  });
});

describe('AssetGraph.build errors', () => {
  it('throws DefinitionErrors listing every problem', () => {
    const specs = [
      spec('raw/orders'),
      spec('staging/orders', ['raw/order']),
      spec('loop/a', ['loop/b']),
      spec('loop/b', ['loop/a']),
      spec('self/x', ['self/x']),
    ];
    let thrown: unknown;
    try {
      AssetGraph.build(specs, (key) => `defs/${key}.sql`);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DefinitionErrors);
    const errors = (thrown as DefinitionErrors).errors;
    expect(errors.map((e) => e.code).sort()).toEqual(['cycle', 'cycle', 'unknown_dep']);
    const message = (thrown as DefinitionErrors).message;
    expect(message.split('\n')[0]).toBe('3 definition errors:');
    expect(message).toContain('  - staging/orders in defs/staging/orders.sql: depends on unknown asset "raw/order" (did you mean "raw/orders"?)');
    expect(message).toContain('  - loop/a in defs/loop/a.sql: dependency cycle: loop/a (defs/loop/a.sql) -> loop/b (defs/loop/b.sql) -> loop/a');
    expect(message).toContain('  - self/x in defs/self/x.sql: dependency cycle: self/x (defs/self/x.sql) -> self/x');
  });
});

/** `layers` × `width` nodes; each node reads two nodes of the layer before. */
function layeredSpecs(layers: number, width: number): AssetSpec[] {
  const key = (layer: number, i: number) => `l${String(layer).padStart(3, '0')}/n${String(i).padStart(3, '0')}`;
  const specs: AssetSpec[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      specs.push(spec(key(layer, i), layer === 0 ? [] : [key(layer - 1, i), key(layer - 1, (i + 1) % width)]));
    }
  }
  return specs;
}

describe('large graphs', () => {
  it('builds a 10,000-node layered graph', () => {
    const graph = AssetGraph.build(shuffled(layeredSpecs(100, 100), 5));
    expect(graph.size).toBe(10_000);
    expect(graph.layers).toHaveLength(100);
    for (const layer of graph.layers) expect(layer).toHaveLength(100);
    expect(graph.keys[0]).toBe('l000/n000');
    expect(graph.keys.at(-1)).toBe('l099/n099');
    expect(graph.layerOf('l050/n007')).toBe(50);
    expect(graph.parents('l050/n099')).toEqual(['l049/n000', 'l049/n099']);
    // Layer 99 - d holds min(d + 1, 100) ancestors of l099/n000: 2 + 3 + ... + 100.
    expect(graph.upstream(['l099/n000']).size).toBe(5049);
    expect(graph.downstream(['l000/n000']).size).toBe(5049);
  });

  it('reports a cycle in a 10,000-node graph quickly', () => {
    const specs = layeredSpecs(100, 100);
    specs[0] = spec('l000/n000', ['l099/n000']);
    const started = performance.now();
    const found = graphProblems(specs, () => undefined);
    const elapsed = performance.now() - started;
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(/^dependency cycle: l000\/n000 -> l001\/n000 -> .* -> l099\/n000 -> l000\/n000$/);
    expect(elapsed).toBeLessThan(5_000);
  });
});

describe('did-you-mean helpers', () => {
  it('computes edit distances', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('raw/orders', 'raw/order')).toBe(1);
  });

  it('suggests at most three keys, closest first, ties by key', () => {
    const known = ['raw/ab', 'raw/ac', 'raw/ad', 'raw/ae', 'raw/orders'];
    expect(closestKeys('raw/aa', known)).toEqual(['raw/ab', 'raw/ac', 'raw/ad']);
    expect(closestKeys('raw/ordrs', known)).toEqual(['raw/orders']);
    expect(closestKeys('zzzzzzzzzz', known)).toEqual([]);
  });
});

describe('check dependencies (assets a check reads)', () => {
  function checked(key: string, deps: string[], checks: CheckSpec[]): AssetSpec {
    return buildSpec(key, { deps, tags: {}, owners: [], checks }, 'sql');
  }

  /** staging/customers <-(check)- marts/orders <- raw/orders; marts/orders' custom check also reads raw/regions. */
  const graph = AssetGraph.build([
    spec('raw/orders'),
    spec('raw/regions'),
    spec('staging/customers'),
    checked(
      'marts/orders',
      ['raw/orders'],
      [
        relationships('customer_id', { to: 'staging/customers', field: 'customer_id' }),
        relationships('order_id', { to: 'raw/orders', field: 'order_id' }),
        withReads(customSql('known_regions', 'select * from {{ this }} where region not in (select region from raw.regions)'), ['raw/regions', 'marts/orders']),
      ],
    ),
  ]);

  it('keeps parents() to data dependencies and lists the check-only ones apart', () => {
    expect(graph.parents('marts/orders')).toEqual(['raw/orders']);
    expect(graph.checkParents('marts/orders')).toEqual(['raw/regions', 'staging/customers']);
    expect(graph.children('staging/customers')).toEqual([]);
    expect(graph.checkChildren('staging/customers')).toEqual(['marts/orders']);
    expect(graph.dependencies('marts/orders')).toEqual([
      { key: 'raw/orders', via: 'data' },
      { key: 'raw/regions', via: 'check' },
      { key: 'staging/customers', via: 'check' },
    ]);
  });

  it('orders the check targets first and walks them upstream and downstream', () => {
    expect(graph.keys.indexOf('staging/customers')).toBeLessThan(graph.keys.indexOf('marts/orders'));
    expect(graph.upstream(['marts/orders'])).toEqual(new Set(['raw/orders', 'raw/regions', 'staging/customers']));
    expect(graph.downstream(['staging/customers'])).toEqual(new Set(['marts/orders']));
    expect(graph.edges(new Set(['marts/orders', 'staging/customers', 'raw/orders']))).toEqual([
      { upstream: 'raw/orders', downstream: 'marts/orders', via: 'data' },
      { upstream: 'staging/customers', downstream: 'marts/orders', via: 'check' },
    ]);
  });

  it('reports a cycle through a check as a definition error naming both assets and the check', () => {
    const specs = [spec('marts/b', ['marts/a']), checked('marts/a', [], [relationships('b_id', { to: 'marts/b', field: 'id' })])];
    expect(problems(specs)).toEqual([
      'cycle marts/a: dependency cycle: marts/a -> marts/b -(check relationships(b_id, marts/b.id))-> marts/a (a check runs after the assets it reads, so they cannot depend on its asset)',
    ]);
    expect(() => AssetGraph.build(specs)).toThrow(DefinitionErrors);
  });

  it('reports a check reading an unknown asset, with suggestions', () => {
    expect(problems([spec('staging/customers'), checked('marts/orders', [], [relationships('customer_id', { to: 'staging/customer', field: 'id' })])])).toEqual(
      [
        'check_invalid marts/orders: check relationships(customer_id, staging/customer.id): "staging/customer" is not an asset (did you mean "staging/customers"?)',
      ],
    );
  });
});
