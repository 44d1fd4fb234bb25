import { closestKeys, compareKeys } from '../collections/key-compare.ts';
import type { AssetGraph } from '../graph/asset-graph.ts';
import type { SelectionError } from '../errors.ts';
import { hasWildcard } from './glob-pattern.ts';
import { leavesOf } from './selection-node.ts';
import type { LeafNode, SelectionNode, Span } from './selection-node.ts';
import { parseSelection } from './selection-parser.ts';
import { selectionError } from './selection-error.ts';

/** A parsed selection and the asset keys it selects, in topological order. */
export interface AssetSelection {
  readonly node: SelectionNode;
  readonly keys: readonly string[];
}

/**
 * Parses `text`, checks every leaf against `graph` and resolves it. Throws a
 * {@link SelectionError} pointing at the first leaf that names an asset, group, owner, kind or
 * tag that does not exist (with "did you mean" suggestions), or whose wildcard matches nothing.
 *
 * @example
 * selectAssets(graph, '+marts/fct_sales and not group:raw').keys;
 * // ['staging/menu_items', 'staging/orders', 'staging/payments', 'marts/fct_sales']
 */
export function selectAssets(graph: AssetGraph, text: string): AssetSelection {
  const node = parseSelection(text);
  for (const leaf of leavesOf(node)) {
    const problem = leafProblem(graph, text, leaf);
    if (problem) throw problem;
  }
  return Object.freeze({ node, keys: Object.freeze(graph.sortTopologically(node.resolve(graph))) });
}

function leafProblem(graph: AssetGraph, text: string, leaf: LeafNode): SelectionError | undefined {
  if (leaf.resolve(graph).size > 0) return undefined;
  const span = leaf.span ?? { start: 0, end: text.length };
  const { noun, name, known } = describeLeaf(graph, leaf);
  if (hasWildcard(name)) return selectionError(text, span, `"${leaf}" matches no assets`);
  if (leaf.type === 'tag') return tagProblem(graph, text, span, leaf.name, leaf.value);
  return selectionError(text, span, `unknown ${noun} "${name}"`, closestKeys(name, known));
}

/**
 * A tag leaf matched nothing: NAME is a tag written the other way (always with a value for
 * `tag:NAME`, never for `tag:NAME=VALUE`), or it is unknown; suggestions are written as they
 * would select (`pii`, `tier=gold`).
 */
function tagProblem(graph: AssetGraph, text: string, span: Span, name: string, value: string | undefined): SelectionError {
  const written = new Map<string, Set<string>>();
  for (const spec of graph.specs()) {
    for (const [tag, tagValue] of Object.entries(spec.tags)) {
      if (!written.has(tag)) written.set(tag, new Set());
      written.get(tag)?.add(tagValue === '' ? tag : `${tag}=${tagValue}`);
    }
  }
  const writtenOf = (tag: string) => [...(written.get(tag) ?? [])].sort(compareKeys);
  if (value === undefined && writtenOf(name).length > 0) {
    return selectionError(text, span, `tag "${name}" always has a value: write tag:${name}=VALUE`, writtenOf(name).slice(0, 3));
  }
  if (value !== undefined && writtenOf(name).includes(name)) {
    const others = writtenOf(name).filter((tag) => tag !== name);
    return selectionError(
      text,
      span,
      `unknown tag "${name}=${value}" (tag "${name}" is key-only on some assets: write tag:${name})`,
      [name, ...closestKeys(`${name}=${value}`, others)].slice(0, 3),
    );
  }
  const wanted = value === undefined ? name : `${name}=${value}`;
  const candidates = value === undefined ? closestKeys(name, written.keys()).flatMap(writtenOf) : closestKeys(wanted, [...written.keys()].flatMap(writtenOf));
  return selectionError(text, span, `unknown tag "${wanted}"`, candidates.slice(0, 3));
}

/** What a leaf names, and every name of that sort the graph has (for suggestions). */
function describeLeaf(graph: AssetGraph, leaf: LeafNode): { noun: string; name: string; known: Set<string> } {
  const specs = graph.specs();
  switch (leaf.type) {
    case 'key':
      return { noun: 'asset', name: leaf.pattern, known: new Set(graph.keys) };
    case 'attribute':
      return { noun: leaf.attribute, name: leaf.value, known: new Set(specs.flatMap((spec) => leaf.valuesOf(spec))) };
    case 'tag': {
      const tags = specs.flatMap((spec) => Object.entries(spec.tags));
      const written = tags.map(([name, value]) => (value === '' ? name : `${name}=${value}`));
      return { noun: 'tag', name: leaf.value === undefined ? leaf.name : `${leaf.name}=${leaf.value}`, known: new Set(written) };
    }
  }
}
