/**
 * Traces one expression of DuckDB's parse tree: the upstream columns its value comes from and
 * how (a bare column is `identity`, anything computed `transformation`, an aggregate's or an
 * aggregate window function's arguments `aggregation`). Window partitions and orders, and
 * aggregate `filter (where …)` clauses, are indirect uses. Subqueries are traced in a scope whose
 * parent is the current one (correlated references), lambdas bind their parameters.
 */
import { strongerKind, type DirectKind } from './column-lineage.ts';
import { mergeSources, resolveColumn, type Scope, type SourceMap, type TracedColumn } from './column-trace-scope.ts';
import type { TraceState } from './column-lineage-trace.ts';

/** What a traced expression yields. */
export interface Traced {
  readonly sources: SourceMap;
  /** Why some references could not be traced. */
  readonly unknown: string[];
  /** It contains an aggregate (outside any window): not part of `group by all`. */
  readonly aggregated: boolean;
}

/** Where an expression is traced. */
export interface ExpressionContext {
  readonly scope: Scope;
  /** Select items a reference may name when no column of the scope has that name (DuckDB's alias references). */
  readonly aliases: readonly TracedColumn[];
  readonly state: TraceState;
  readonly ctes: ReadonlyMap<string, { readonly columns: TracedColumn[] | null; readonly unknown?: string }>;
  /** Traces a subquery (injected: the query tracer imports this file). */
  readonly trace: (
    node: unknown,
    outer: Scope | undefined,
    ctes: ExpressionContext['ctes'],
    state: TraceState,
  ) => { readonly columns: TracedColumn[] | null; readonly unknown?: string };
}

/**
 * Traces `value` (a parse-tree expression) in `context`; every source is at least as strong as `kind`.
 *
 * @example
 * traceExpression({ class: 'COLUMN_REF', column_names: ['amount'] }, context, 'identity');
 */
export function traceExpression(value: unknown, context: ExpressionContext, kind: DirectKind): Traced {
  const out: Traced = { sources: new Map(), unknown: [], aggregated: false };
  const aggregated = walk(value, context, kind, out);
  return { ...out, aggregated };
}

/** Walks `value`, adding to `out`; returns whether it met an aggregate. */
function walk(value: unknown, context: ExpressionContext, kind: DirectKind, out: Traced): boolean {
  if (Array.isArray(value)) return value.reduce((found: boolean, item) => walk(item, context, kind, out) || found, false);
  if (typeof value !== 'object' || value === null) return false;
  const node = value as Record<string, unknown>;
  switch (node.class) {
    case 'COLUMN_REF':
      reference(node, context, kind, out);
      return false;
    case 'CONSTANT':
    case 'PARAMETER':
    case 'DEFAULT':
      return false;
    case 'STAR':
      out.unknown.push('a * inside an expression is not traced');
      return false;
    case 'FUNCTION': {
      const name = String(node.function_name).toLowerCase();
      if (node.is_operator !== true && context.state.options.aggregates.has(name)) {
        walk(node.children, context, 'aggregation', out);
        walk(record(node.order_bys)?.orders, context, 'aggregation', out);
        indirect(node.filter, context, 'filter', out);
        return true;
      }
      return walk(node.children, context, strongerKind(kind, 'transformation'), out);
    }
    case 'WINDOW': {
      walk(node.children, context, node.type === 'WINDOW_AGGREGATE' ? 'aggregation' : strongerKind(kind, 'transformation'), out);
      walk([node.offset_expr, node.default_expr], context, strongerKind(kind, 'transformation'), out);
      indirect(node.partitions, context, 'window', out);
      indirect(Array.isArray(node.orders) ? node.orders.map((o) => record(o)?.expression) : [], context, 'window', out);
      indirect(node.filter_expr, context, 'filter', out);
      return false;
    }
    case 'SUBQUERY':
      subquery(node, context, kind, out);
      return false;
    case 'LAMBDA': {
      const params = lambdaParams(node.lhs);
      const scope: Scope = { relations: [{ alias: '', columns: params.map((name) => ({ name, sources: new Map() })) }], parent: context.scope };
      return walk(node.expr, { ...context, scope }, strongerKind(kind, 'transformation'), out);
    }
    default: {
      let found = false;
      const inner = node.class === undefined ? kind : strongerKind(kind, 'transformation');
      for (const [property, child] of Object.entries(node)) {
        if (property !== 'alias' && typeof child === 'object' && child !== null) found = walk(child, context, inner, out) || found;
      }
      return found;
    }
  }
}

function reference(node: Record<string, unknown>, context: ExpressionContext, kind: DirectKind, out: Traced): void {
  const parts = Array.isArray(node.column_names) ? node.column_names.filter((p): p is string => typeof p === 'string') : [];
  const resolved = resolveColumn(parts, context.scope);
  if (resolved.ok && resolved.assumed && parts.length === 1 && context.aliases.some((a) => a.name?.toLowerCase() === parts[0]?.toLowerCase())) {
    out.unknown.push(`"${parts[0]}" may be a column of a table whose columns are not known or the select item of that name`);
    return;
  }
  if (resolved.ok) {
    mergeSources(out.sources, resolved.sources, kind);
    if (resolved.unknown !== undefined) out.unknown.push(resolved.unknown);
    return;
  }
  const alias = resolved.notFound && parts.length === 1 ? context.aliases.find((a) => a.name?.toLowerCase() === parts[0]?.toLowerCase()) : undefined;
  if (alias !== undefined) {
    mergeSources(out.sources, alias.sources, kind);
    if (alias.unknown !== undefined) out.unknown.push(alias.unknown);
    return;
  }
  out.unknown.push(resolved.why);
}

/** Traces `value` and records its sources as indirect uses of kind `kind` (not part of the value). */
function indirect(value: unknown, context: ExpressionContext, kind: 'window' | 'filter', out: Traced): void {
  if (value === undefined || value === null) return;
  const traced = traceExpression(value, context, 'identity');
  context.state.addIndirect(traced.sources, kind);
  out.unknown.push(...traced.unknown);
}

/** A scalar subquery's value, or an `exists` / `in` test: its output columns feed the value, its own filters are indirect. */
function subquery(node: Record<string, unknown>, context: ExpressionContext, kind: DirectKind, out: Traced): void {
  walk(node.child, context, strongerKind(kind, 'transformation'), out);
  const inner = context.trace(record(node.subquery)?.node, context.scope, context.ctes, context.state);
  if (inner.columns === null) {
    out.unknown.push(inner.unknown ?? 'a subquery whose columns are not known');
    return;
  }
  const used =
    node.subquery_type === 'SCALAR' ? inner.columns.slice(0, 1) : node.subquery_type === 'EXISTS' || node.subquery_type === 'NOT_EXISTS' ? [] : inner.columns;
  for (const c of used) {
    mergeSources(out.sources, c.sources, strongerKind(kind, 'transformation'));
    if (c.unknown !== undefined) out.unknown.push(c.unknown);
  }
}

/** Parameter names of a lambda's left side: `x -> …` or `(x, i) -> …`. */
function lambdaParams(lhs: unknown): string[] {
  const node = record(lhs);
  if (node?.class === 'COLUMN_REF' && Array.isArray(node.column_names)) return node.column_names.filter((p): p is string => typeof p === 'string').slice(-1);
  if (Array.isArray(node?.children)) return node.children.flatMap(lambdaParams);
  return [];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
