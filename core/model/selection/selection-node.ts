/**
 * The asset selection tree: small frozen nodes, each resolving itself against an
 * {@link AssetGraph} and printing itself back to the selection grammar that
 * `parseSelection` reads. Printing is canonical: `parseSelection(String(node))` yields a
 * tree that prints the same and resolves to the same keys.
 */
import type { AssetSpec } from '../definitions/asset-spec.ts';
import type { AssetGraph } from '../graph/asset-graph.ts';
import { globMatcher } from './glob-pattern.ts';
import { DBT_KIND } from '../dbt/dbt-model-mapping.ts';
import { dbtPathValues } from './dbt-path.ts';

/** Where a node was written in the selection text: 0-based offsets, `end` exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Any node of a selection tree. Every node has `resolve(graph)`, returning the keys it selects,
 * `toString()`, printing it back to the grammar, and `operands`, its child nodes.
 */
export type SelectionNode = KeyNode | AttributeNode | TagNode | NotNode | AndNode | OrNode | TraversalNode | FunctionNode;

/** A node that matches assets by their own fields rather than by combining other nodes. */
export type LeafNode = KeyNode | AttributeNode | TagNode;

/** Attributes matched by {@link AttributeNode}. */
export type AttributeName = 'group' | 'owner' | 'kind' | 'path';

/** Functions applied to a sub-selection by {@link FunctionNode}. */
export type FunctionName = 'roots' | 'sinks';

const NO_OPERANDS: readonly SelectionNode[] = Object.freeze([]);
const BARE_WORD = /^[A-Za-z0-9_/*.\-@]+$/;
const RESERVED = new Set(['and', 'or', 'not', 'roots', 'sinks']);

/** Binding strength of each node type when printed; a child weaker than needed gets parentheses. */
const PRECEDENCE: Readonly<Record<SelectionNode['type'], number>> = {
  or: 1,
  and: 2,
  not: 3,
  traversal: 4,
  key: 5,
  attribute: 5,
  tag: 5,
  function: 5,
};

/**
 * Assets whose key matches `pattern` (`*` is a wildcard). A pattern without `/` that matches no
 * key (every key has a `/`) is a dbt model or seed name, as dbt's selection writes it: the assets
 * of kind `dbt` whose key ends in `/<pattern>` (`+stg_orders` is `+staging/stg_orders`). Prints
 * bare (`marts/*`) when it can, otherwise as `key:"..."`.
 */
export class KeyNode {
  readonly type = 'key';
  readonly operands = NO_OPERANDS;

  constructor(
    readonly pattern: string,
    readonly span?: Span,
  ) {
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const keys = new Set(graph.keys.filter(globMatcher(this.pattern)));
    if (keys.size > 0 || this.pattern.includes('/')) return keys;
    const name = globMatcher(this.pattern);
    return new Set(graph.keys.filter((key) => graph.spec(key).kinds.includes(DBT_KIND) && name(key.slice(key.lastIndexOf('/') + 1))));
  }

  toString(): string {
    const bare = BARE_WORD.test(this.pattern) && !RESERVED.has(this.pattern.toLowerCase()) && !/^\d+$/.test(this.pattern);
    return bare ? this.pattern : `key:${printValue(this.pattern)}`;
  }
}

/**
 * Assets whose group, one of whose kinds or one of whose owners matches `value` (`group:marts`,
 * `kind:duckdb`, `owner:"team:data"`), or whose dbt node's file is `value` or under it
 * (`path:models/staging`, see ./dbt-path.ts).
 */
export class AttributeNode {
  readonly type = 'attribute';
  readonly operands = NO_OPERANDS;

  constructor(
    readonly attribute: AttributeName,
    readonly value: string,
    readonly span?: Span,
  ) {
    Object.freeze(this);
  }

  /** The values `spec` has for this node's attribute (several owners, several kinds, one group, its dbt file and folders). */
  valuesOf(spec: AssetSpec): readonly string[] {
    if (this.attribute === 'owner') return spec.owners;
    if (this.attribute === 'path') return dbtPathValues(spec.dbtPath);
    return this.attribute === 'kind' ? spec.kinds : [spec.group];
  }

  resolve(graph: AssetGraph): Set<string> {
    const matches = globMatcher(this.value);
    return new Set(graph.keys.filter((key) => this.valuesOf(graph.spec(key)).some(matches)));
  }

  toString(): string {
    return `${this.attribute}:${printValue(this.value)}`;
  }
}

/**
 * As in Dagster: `tag:pii` selects assets with the key-only tag `pii` (no value; header
 * `tags: pii`), `tag:tier=gold` those whose tag `tier` is exactly `gold`. A `*` in the name or
 * value is a wildcard (`tag:tier=*`: any value of `tier`, empty included).
 */
export class TagNode {
  readonly type = 'tag';
  readonly operands = NO_OPERANDS;

  constructor(
    readonly name: string,
    readonly value?: string,
    readonly span?: Span,
  ) {
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const nameMatches = globMatcher(this.name);
    const valueMatches = this.value === undefined ? (value: string) => value === '' : globMatcher(this.value);
    return new Set(graph.keys.filter((key) => Object.entries(graph.spec(key).tags).some(([name, value]) => nameMatches(name) && valueMatches(value))));
  }

  toString(): string {
    return `tag:${printValue(this.name)}${this.value === undefined ? '' : `=${printValue(this.value)}`}`;
  }
}

/** Every asset not selected by `operand` (`not group:raw`). */
export class NotNode {
  readonly type = 'not';
  readonly operands: readonly SelectionNode[];

  constructor(readonly operand: SelectionNode) {
    this.operands = Object.freeze([operand]);
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const excluded = this.operand.resolve(graph);
    return new Set(graph.keys.filter((key) => !excluded.has(key)));
  }

  toString(): string {
    return `not ${wrap(this.operand, PRECEDENCE.not)}`;
  }
}

/** Assets selected by every operand (`group:marts and tag:tier=gold`). */
export class AndNode {
  readonly type = 'and';
  readonly operands: readonly SelectionNode[];

  constructor(operands: readonly SelectionNode[]) {
    this.operands = Object.freeze([...operands]);
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const [first, ...rest] = this.operands.map((operand) => operand.resolve(graph));
    return new Set([...(first ?? [])].filter((key) => rest.every((set) => set.has(key))));
  }

  toString(): string {
    return this.operands.map((operand) => wrap(operand, PRECEDENCE.and + 1)).join(' and ');
  }
}

/** Assets selected by any operand (`raw/* or group:staging`; also written `a, b`). */
export class OrNode {
  readonly type = 'or';
  readonly operands: readonly SelectionNode[];

  constructor(operands: readonly SelectionNode[]) {
    this.operands = Object.freeze([...operands]);
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    return new Set(this.operands.flatMap((operand) => [...operand.resolve(graph)]));
  }

  toString(): string {
    return this.operands.map((operand) => wrap(operand, PRECEDENCE.or + 1)).join(' or ');
  }
}

/**
 * `operand` plus its ancestors up to `upstreamDepth` levels and its descendants up to
 * `downstreamDepth` levels; `undefined` walks nowhere, `Infinity` walks all the way.
 * Written `+x` (all upstream), `2+x`, `x+`, `x+1`, `+x+`.
 */
export class TraversalNode {
  readonly type = 'traversal';
  readonly operands: readonly SelectionNode[];

  constructor(
    readonly operand: SelectionNode,
    readonly upstreamDepth?: number,
    readonly downstreamDepth?: number,
  ) {
    this.operands = Object.freeze([operand]);
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const selected = this.operand.resolve(graph);
    const result = new Set(selected);
    if (this.upstreamDepth !== undefined) for (const key of graph.upstream(selected, this.upstreamDepth)) result.add(key);
    if (this.downstreamDepth !== undefined) for (const key of graph.downstream(selected, this.downstreamDepth)) result.add(key);
    return result;
  }

  toString(): string {
    const { upstreamDepth: up, downstreamDepth: down } = this;
    const before = up === undefined ? '' : up === Infinity ? '+' : `${up}+`;
    const after = down === undefined ? '' : down === Infinity ? '+' : `+${down}`;
    return `${before}${wrap(this.operand, PRECEDENCE.key)}${after}`;
  }
}

/**
 * `roots(x)`: members of `x` with no ancestor inside `x`; `sinks(x)`: members of `x` with no
 * descendant inside `x` — through any path, also one through assets outside `x` (Dagster's
 * `fetch_sources` / `fetch_sinks`).
 */
export class FunctionNode {
  readonly type = 'function';
  readonly operands: readonly SelectionNode[];

  constructor(
    readonly name: FunctionName,
    readonly operand: SelectionNode,
  ) {
    this.operands = Object.freeze([operand]);
    Object.freeze(this);
  }

  resolve(graph: AssetGraph): Set<string> {
    const subset = this.operand.resolve(graph);
    return this.name === 'roots' ? graph.roots(subset) : graph.sinks(subset);
  }

  toString(): string {
    return `${this.name}(${this.operand})`;
  }
}

/** The leaves of `node` in the order they were written. */
export function leavesOf(node: SelectionNode): LeafNode[] {
  if (node.type === 'key' || node.type === 'attribute' || node.type === 'tag') return [node];
  return node.operands.flatMap(leavesOf);
}

function wrap(node: SelectionNode, minimum: number): string {
  return PRECEDENCE[node.type] >= minimum ? node.toString() : `(${node})`;
}

function printValue(value: string): string {
  return BARE_WORD.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
