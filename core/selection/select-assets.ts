import { closestKeys } from '../graph/asset-graph.ts';
import type { AssetGraph } from '../graph/asset-graph.ts';
import type { SelectionError } from '../errors.ts';
import { hasWildcard } from './glob-pattern.ts';
import { leavesOf } from './selection-node.ts';
import type { LeafNode, SelectionNode } from './selection-node.ts';
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
  return selectionError(text, span, `unknown ${noun} "${name}"`, closestKeys(name, known));
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
      return leaf.value === undefined
        ? { noun: 'tag', name: leaf.name, known: new Set(tags.map(([name]) => name)) }
        : { noun: 'tag', name: `${leaf.name}=${leaf.value}`, known: new Set(tags.map(([name, value]) => `${name}=${value}`)) };
    }
  }
}
