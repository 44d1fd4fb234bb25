/**
 * Asset selection: a Dagster-compatible text grammar (`+marts/fct_sales and not group:raw`),
 * parsed into a small immutable tree that resolves itself against the asset graph and prints
 * back to the same grammar.
 */
export { AndNode, AttributeNode, FunctionNode, KeyNode, NotNode, OrNode, TagNode, TraversalNode, leavesOf } from './selection-node.ts';
export type { AttributeName, FunctionName, LeafNode, SelectionNode, Span } from './selection-node.ts';
export { parseSelection, SELECTION_ATTRIBUTES, SELECTION_FUNCTIONS } from './selection-parser.ts';
export { selectAssets } from './select-assets.ts';
export type { AssetSelection } from './select-assets.ts';
export { globMatcher, hasWildcard } from './glob-pattern.ts';
