/**
 * The name scopes of column lineage tracing: which relations a query's FROM clause brings in,
 * their columns (each with the upstream columns it carries), and how a column reference such as
 * `o.order_id` or `amount` resolves against them, as DuckDB's binder would. A reference that
 * DuckDB could bind in more than one way given what is known is unresolved, never guessed.
 */
import { strongerKind, type DirectKind, type DirectSource } from './column-lineage.ts';

/** Upstream columns by `asset\0column`, each with the strongest way it feeds the value. */
export type SourceMap = Map<string, DirectSource>;

/** A column of a relation in scope, or an output column of a query. */
export interface TracedColumn {
  /** `null`: an expression without alias (DuckDB names it after the expression text). */
  readonly name: string | null;
  readonly sources: SourceMap;
  /** Why some sources are not known. */
  readonly unknown?: string;
}

/** A relation of a FROM clause: a table, a CTE, a subquery or a table function. */
export interface Relation {
  /** Lowercased name references use (`o` in `orders as o`, else the table or CTE name). */
  readonly alias: string;
  /** `null`: its columns are not known. */
  readonly columns: readonly TracedColumn[] | null;
  /** The asset a base table is: a reference to one of its columns is that column, even when its schema is unknown. */
  readonly asset?: string;
  /** Why its columns are not known. */
  readonly unknown?: string;
  /** Lowercased names an unqualified reference and `*` skip (the right side of `join … using`). */
  readonly hidden?: ReadonlySet<string>;
}

/** The relations visible at one point of a query; `parent` is the enclosing query (correlated subqueries, lambdas). */
export interface Scope {
  readonly relations: readonly Relation[];
  readonly parent?: Scope;
}

/** A resolved reference: its sources, or why it could not be resolved. */
export type Resolution =
  | {
      readonly ok: true;
      readonly sources: SourceMap;
      readonly unknown?: string;
      /** Resolved only because the one table in scope, whose columns are not known, must hold it (if nothing else does). */
      readonly assumed?: boolean;
    }
  | { readonly ok: false; readonly why: string; readonly notFound: boolean };

/** A source map holding one upstream column. */
export function singleSource(asset: string, column: string, kind: DirectKind = 'identity'): SourceMap {
  return new Map([[`${asset}\u0000${column}`, { asset, column, kind }]]);
}

/** Adds `from` to `into`, each source at least as strong as `kind`. */
export function mergeSources(into: SourceMap, from: SourceMap, kind: DirectKind = 'identity'): SourceMap {
  for (const [id, source] of from) {
    const next = strongerKind(source.kind, kind);
    const previous = into.get(id);
    into.set(id, { asset: source.asset, column: source.column, kind: previous === undefined ? next : strongerKind(previous.kind, next) });
  }
  return into;
}

/**
 * Resolves the column reference `parts` (`['o', 'order_id']`, `['amount']`,
 * `['raw', 'orders', 'id']`, or a struct field `['address', 'city']`) in `scope`, then in the
 * enclosing scopes. Struct fields make the reference a transformation of its column.
 */
export function resolveColumn(parts: readonly string[], scope: Scope): Resolution {
  const lower = parts.map((p) => p.toLowerCase());
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    const found = resolveIn(lower, parts, current);
    // A table of unknown columns may not hold it after all when an enclosing query has it.
    if (found.ok && found.assumed && current.parent !== undefined && resolveColumn(parts, current.parent).ok) {
      return {
        ok: false,
        why: `column "${parts.join('.')}" may be a column of this query's table (its columns are not known) or of the enclosing query`,
        notFound: false,
      };
    }
    if (found.ok || !found.notFound) return found;
  }
  return { ok: false, why: `column "${parts.join('.')}" is not a column of any table in scope`, notFound: true };
}

function resolveIn(lower: readonly string[], parts: readonly string[], scope: Scope): Resolution {
  // `t.col[.field…]` and `schema.t.col[.field…]` name a relation first; else `col[.field…]`.
  for (const at of [0, 1]) {
    if (lower.length < at + 2) continue;
    const relation = scope.relations.find((r) => r.alias === lower[at]);
    if (relation === undefined) continue;
    const column = inRelation(relation, lower[at + 1] as string, parts[at + 1] as string);
    if (!column.ok) return column;
    const sources = lower.length > at + 2 ? mergeSources(new Map(), column.sources, 'transformation') : column.sources;
    return withUnknown({ ok: true, sources }, column.unknown);
  }
  const name = lower[0] as string;
  const known: TracedColumn[] = [];
  const opaque: Relation[] = [];
  for (const relation of scope.relations) {
    if (relation.hidden?.has(name)) continue;
    if (relation.columns === null) opaque.push(relation);
    else {
      const column = relation.columns.find((c) => c.name?.toLowerCase() === name);
      if (column !== undefined) known.push(column);
    }
  }
  let sources: SourceMap | undefined;
  let assumed = false;
  const unknown = known.length === 1 && opaque.length === 0 ? known[0]?.unknown : undefined;
  if (known.length === 1 && opaque.length === 0) sources = known[0]?.sources;
  else if (known.length === 0 && opaque.length === 1 && scope.relations.length === 1 && opaque[0]?.asset !== undefined) {
    sources = singleSource(opaque[0].asset, parts[0] as string);
    assumed = true;
  } else if (known.length > 1) return { ok: false, why: `column "${parts[0]}" is ambiguous`, notFound: false };
  else if (opaque.length > 0) {
    const why = opaque.map((r) => r.unknown ?? `the columns of "${r.alias}" are not known`).join('; ');
    return { ok: false, why: `column "${parts[0]}" cannot be traced: ${why}`, notFound: false };
  }
  if (sources === undefined) return { ok: false, why: `column "${parts[0]}" is not a column of any table in scope`, notFound: true };
  const resolved = {
    ok: true as const,
    sources: lower.length > 1 ? mergeSources(new Map(), sources, 'transformation') : sources,
    ...(assumed ? { assumed } : {}),
  };
  return withUnknown(resolved, unknown);
}

function withUnknown(resolution: Resolution, unknown: string | undefined): Resolution {
  return unknown === undefined || !resolution.ok ? resolution : { ...resolution, unknown };
}

function inRelation(relation: Relation, name: string, spelled: string): Resolution {
  if (relation.columns === null) {
    if (relation.asset !== undefined) return { ok: true, sources: singleSource(relation.asset, spelled) };
    return {
      ok: false,
      why: `column "${relation.alias}.${spelled}" cannot be traced: ${relation.unknown ?? `the columns of "${relation.alias}" are not known`}`,
      notFound: false,
    };
  }
  const column = relation.columns.find((c) => c.name?.toLowerCase() === name);
  if (column === undefined) return { ok: false, why: `"${relation.alias}" has no column "${spelled}"`, notFound: false };
  return withUnknown({ ok: true, sources: column.sources }, column.unknown);
}

/** The columns `*` (or `alias.*`) expands to, in order, or why they are not known. */
export function starColumns(scope: Scope, relationName?: string): { ok: true; columns: TracedColumn[] } | { ok: false; why: string } {
  const relations = relationName === undefined ? scope.relations : scope.relations.filter((r) => r.alias === relationName.toLowerCase());
  if (relationName !== undefined && relations.length === 0) return { ok: false, why: `"${relationName}.*" names no table in scope` };
  const columns: TracedColumn[] = [];
  for (const relation of relations) {
    if (relation.columns === null) {
      return { ok: false, why: `the columns of "${relation.alias}" are not known${relation.unknown ? ` (${relation.unknown})` : ''}, so * cannot be expanded` };
    }
    for (const column of relation.columns) {
      if (relationName === undefined && column.name !== null && relation.hidden?.has(column.name.toLowerCase())) continue;
      columns.push(column);
    }
  }
  return { ok: true, columns };
}
