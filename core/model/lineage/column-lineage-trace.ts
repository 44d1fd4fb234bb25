/**
 * Traces column lineage through DuckDB's parse tree of a query (`json_serialize_sql`): CTEs,
 * subqueries, joins, `*` with `exclude` and `replace`, set operations, aggregates, window
 * functions and `qualify`. Pure: the caller says which asset a table reference is, with its
 * columns when known, and which function names are aggregates.
 */
import { sortSources, type AssetColumnLineage, type DirectKind, type IndirectKind, type IndirectSource } from './column-lineage.ts';
import { mergeSources, resolveColumn, starColumns, type Relation, type Scope, type SourceMap, type TracedColumn } from './column-trace-scope.ts';
import { traceExpression, type ExpressionContext, type Traced } from './column-trace-expressions.ts';

/** A table a query reads, as the parse tree spells it. */
export interface TracedTableRef {
  readonly schema: string | null;
  readonly table: string;
  readonly catalog?: string;
}

/** What the tracer knows of a table: the asset it is and its columns (`null` when not known). */
export interface KnownTable {
  readonly asset: string;
  readonly columns: readonly string[] | null;
}

/** The inputs of {@link traceColumnLineage}. */
export interface TraceOptions {
  /** The asset a table reference is, or `undefined` when it is none (then its columns are unknown). */
  readonly table: (ref: TracedTableRef) => KnownTable | undefined;
  /** Lowercased names of aggregate functions (`sum`, `count_star`, …). */
  readonly aggregates: ReadonlySet<string>;
  /**
   * The columns of the asset's own table as the warehouse has them, if it exists: they name the
   * expressions without an alias (DuckDB names those after their text), when the table has
   * exactly the traced columns and every named one at the same place.
   */
  readonly ownColumns?: readonly string[] | null;
}

/** A query's output columns, or why they are not known. */
type QueryColumns = { readonly columns: TracedColumn[] | null; readonly unknown?: string };

/** Collects what every part of the query adds to the asset: indirect uses and reasons for unknowns. */
export class TraceState {
  readonly indirect = new Map<string, IndirectSource>();
  readonly problems = new Set<string>();
  constructor(readonly options: TraceOptions) {}

  addIndirect(sources: SourceMap, kind: IndirectKind): void {
    for (const s of sources.values()) this.indirect.set(`${s.asset}\u0000${s.column}\u0000${kind}`, { asset: s.asset, column: s.column, kind });
  }
}

/**
 * The column lineage of asset `key` from `tree`, the JSON `json_serialize_sql` returns for its
 * query (a parse error or several statements make every column unknown).
 *
 * @example
 * traceColumnLineage('staging/orders', tree, { table: (ref) => ({ asset: 'raw/orders', columns: ['id'] }), aggregates: new Set(['sum']) });
 */
export function traceColumnLineage(key: string, tree: unknown, options: TraceOptions): AssetColumnLineage {
  const root = record(tree);
  const statements = Array.isArray(root?.statements) ? root.statements : [];
  if (root?.error === true || statements.length !== 1) {
    return { key, columns: null, indirect: [], unknown: 'the query is not a single SELECT DuckDB can parse' };
  }
  const state = new TraceState(options);
  const result = traceQuery(record(statements[0])?.node, undefined, new Map(), state);
  const problems = [...state.problems];
  if (result.unknown !== undefined) problems.unshift(result.unknown);
  const names = result.columns === null ? undefined : outputNames(result.columns, options.ownColumns);
  const columns =
    result.columns?.map((c, i) => ({
      name: names?.[i] ?? '',
      sources: sortSources(c.sources.values()),
      ...(c.unknown === undefined ? {} : { unknown: c.unknown }),
    })) ?? null;
  if (columns?.some((c) => c.name === '')) problems.push('an expression without an alias has a name DuckDB makes up: give it an alias to trace it');
  return {
    key,
    columns: columns?.some((c) => c.name === '') ? null : columns,
    indirect: sortSources(state.indirect.values()),
    ...(problems.length === 0 ? {} : { unknown: [...new Set(problems)].join('; ') }),
  };
}

/** The output column names: as traced, unnamed ones from the table when it agrees with every named one. */
function outputNames(columns: readonly TracedColumn[], table: readonly string[] | null | undefined): (string | null)[] {
  const traced = columns.map((c) => c.name);
  if (!traced.includes(null) || table == null || table.length !== traced.length) return traced;
  const agrees = traced.every((name, i) => name === null || name.toLowerCase() === table[i]?.toLowerCase());
  return agrees ? [...table] : traced;
}

/** CTEs visible at a point, by lowercased name. */
type Ctes = ReadonlyMap<string, QueryColumns>;

/**
 * Traces a query node (SELECT, set operation, recursive CTE) in the enclosing `outer` scope
 * (for correlated subqueries) with the CTEs `ctes` visible.
 */
export function traceQuery(value: unknown, outer: Scope | undefined, ctes: Ctes, state: TraceState): QueryColumns {
  const node = record(value);
  if (node === undefined) return { columns: null, unknown: 'a query the tracer cannot read' };
  const visible = withCtes(node, outer, ctes, state);
  switch (node.type) {
    case 'SELECT_NODE':
      return traceSelect(node, outer, visible, state);
    case 'SET_OPERATION_NODE':
      return traceSetOperation(node, outer, visible, state);
    default:
      return { columns: null, unknown: `${String(node.type).toLowerCase().replaceAll('_', ' ')} queries are not traced` };
  }
}

function withCtes(node: Record<string, unknown>, outer: Scope | undefined, ctes: Ctes, state: TraceState): Ctes {
  const entries = record(node.cte_map)?.map;
  if (!Array.isArray(entries) || entries.length === 0) return ctes;
  const visible = new Map(ctes);
  for (const entry of entries) {
    const cte = record(entry);
    if (typeof cte?.key !== 'string') continue;
    const value = record(cte.value);
    const traced = traceQuery(record(value?.query)?.node, outer, visible, state);
    visible.set(cte.key.toLowerCase(), renamed(traced, value?.aliases));
  }
  return visible;
}

/** Applies column aliases (`with c(a, b) as …`, `from (…) as t(a, b)`). */
function renamed(query: QueryColumns, aliases: unknown): QueryColumns {
  if (!Array.isArray(aliases) || aliases.length === 0 || query.columns === null) return query;
  return { ...query, columns: query.columns.map((c, i) => (typeof aliases[i] === 'string' ? { ...c, name: aliases[i] } : c)) };
}

function traceSetOperation(node: Record<string, unknown>, outer: Scope | undefined, ctes: Ctes, state: TraceState): QueryColumns {
  const left = traceQuery(node.left, outer, ctes, state);
  const right = traceQuery(node.right, outer, ctes, state);
  const type = String(node.setop_type);
  let result: QueryColumns;
  if (type === 'EXCEPT' || type === 'INTERSECT') {
    // The right side only decides which rows of the left remain.
    for (const c of right.columns ?? []) state.addIndirect(c.sources, 'filter');
    if (right.columns === null) state.problems.add(right.unknown ?? 'a set operation side is not known');
    result = left;
  } else if (left.columns === null || right.columns === null) {
    result = { columns: null, unknown: left.unknown ?? right.unknown ?? 'a side of the union is not known' };
  } else if (type === 'UNION_BY_NAME') {
    const columns = left.columns.map((c) => ({ ...c, sources: new Map(c.sources) }));
    for (const c of right.columns) {
      const same = columns.find((l) => l.name !== null && l.name.toLowerCase() === c.name?.toLowerCase());
      if (same) mergeSources(same.sources, c.sources);
      else columns.push(c);
    }
    result = { columns };
  } else {
    const columns = left.columns.map((c, i) => {
      const other = right.columns?.[i];
      const unknown = c.unknown ?? other?.unknown;
      return { name: c.name, sources: mergeSources(new Map(c.sources), other?.sources ?? new Map()), ...(unknown === undefined ? {} : { unknown }) };
    });
    result = { columns };
  }
  modifiers(node, { relations: [] }, result.columns ?? [], state);
  return result;
}

function traceSelect(node: Record<string, unknown>, outer: Scope | undefined, ctes: Ctes, state: TraceState): QueryColumns {
  const relations: Relation[] = [];
  if (node.from_table !== undefined) fromRelations(node.from_table, outer, ctes, state, relations);
  const scope: Scope = { relations, ...(outer === undefined ? {} : { parent: outer }) };
  const output: TracedColumn[] = [];
  const aggregated: boolean[] = [];
  let unknown: string | undefined;
  const context = (aliases: readonly TracedColumn[]): ExpressionContext => ({ scope, aliases, state, ctes, trace: traceQuery });
  for (const item of Array.isArray(node.select_list) ? node.select_list : []) {
    const expression = record(item);
    if (expression?.class === 'STAR' && expression.columns !== true && expression.expr == null) {
      const expanded = expandStar(expression, context(output));
      if (!expanded.ok) unknown ??= expanded.why;
      else {
        output.push(...expanded.columns);
        aggregated.push(...expanded.columns.map(() => false));
      }
      continue;
    }
    if (expression?.class === 'STAR') {
      unknown ??= 'COLUMNS(…) expressions are not traced';
      continue;
    }
    const traced = traceExpression(item, context([...output]), 'identity');
    const name = typeof expression?.alias === 'string' && expression.alias !== '' ? expression.alias : columnName(expression);
    output.push(column(name, traced));
    aggregated.push(traced.aggregated);
  }
  const clauses = context(output);
  const indirect = (value: unknown, kind: IndirectKind) => {
    if (value === undefined || value === null) return;
    const traced = traceExpression(value, clauses, 'identity');
    state.addIndirect(traced.sources, kind);
    for (const why of traced.unknown) state.problems.add(why);
  };
  indirect(node.where_clause, 'filter');
  indirect(node.having, 'filter');
  indirect(node.qualify, 'filter');
  const groups = node.group_expressions ?? record(node.groups)?.group_expressions;
  for (const group of Array.isArray(groups) ? groups : []) positional(group, output, 'group_by', state) || indirect(group, 'group_by');
  if (node.aggregate_handling === 'FORCE_AGGREGATES') {
    // GROUP BY ALL: every select item without an aggregate.
    output.forEach((c, i) => {
      if (!aggregated[i]) state.addIndirect(c.sources, 'group_by');
    });
  }
  modifiers(node, scope, output, state, clauses);
  return { columns: unknown === undefined ? output : null, ...(unknown === undefined ? {} : { unknown }) };
}

/** ORDER BY (sort) and DISTINCT ON (grouping) of a query. */
function modifiers(node: Record<string, unknown>, scope: Scope, output: readonly TracedColumn[], state: TraceState, clauses?: ExpressionContext): void {
  const context = clauses ?? { scope, aliases: output, state, ctes: new Map(), trace: traceQuery };
  for (const modifier of Array.isArray(node.modifiers) ? node.modifiers : []) {
    const m = record(modifier);
    const targets: [unknown, IndirectKind][] =
      m?.type === 'ORDER_MODIFIER' && Array.isArray(m.orders)
        ? m.orders.map((o) => [record(o)?.expression, 'sort'])
        : m?.type === 'DISTINCT_MODIFIER' && Array.isArray(m.distinct_on_targets)
          ? m.distinct_on_targets.map((t) => [t, 'group_by'])
          : [];
    for (const [expression, kind] of targets) {
      if (record(expression)?.class === 'STAR') {
        for (const c of output) state.addIndirect(c.sources, kind);
        continue;
      }
      if (positional(expression, output, kind, state)) continue;
      const traced = traceExpression(expression, context, 'identity');
      state.addIndirect(traced.sources, kind);
      for (const why of traced.unknown) state.problems.add(why);
    }
  }
}

/** `order by 2`, `group by 1`: the select item at that position. */
function positional(expression: unknown, output: readonly TracedColumn[], kind: IndirectKind, state: TraceState): boolean {
  const node = record(expression);
  const value = record(node?.value);
  if (node?.class !== 'CONSTANT' || typeof value?.value !== 'number') return false;
  const target = output[value.value - 1];
  if (target !== undefined) state.addIndirect(target.sources, kind);
  return target !== undefined;
}

function column(name: string | null, traced: Traced): TracedColumn {
  return { name, sources: traced.sources, ...(traced.unknown.length === 0 ? {} : { unknown: [...new Set(traced.unknown)].join('; ') }) };
}

/** A select item's name when it has no alias: a column reference's last part; other expressions have none we can know. */
function columnName(expression: Record<string, unknown> | undefined): string | null {
  if (expression?.class !== 'COLUMN_REF' || !Array.isArray(expression.column_names)) return null;
  const last = expression.column_names.at(-1);
  return typeof last === 'string' ? last : null;
}

/** `*`, `t.*`, with `exclude (…)`, `replace (… as …)` and `rename (… as …)`. */
function expandStar(star: Record<string, unknown>, context: ExpressionContext): { ok: true; columns: TracedColumn[] } | { ok: false; why: string } {
  const relation = typeof star.relation_name === 'string' && star.relation_name !== '' ? star.relation_name : undefined;
  const expanded = starColumns(context.scope, relation);
  if (!expanded.ok) return expanded;
  const excluded = new Set<string>();
  for (const name of Array.isArray(star.exclude_list) ? star.exclude_list : []) if (typeof name === 'string') excluded.add(name.toLowerCase());
  for (const item of Array.isArray(star.qualified_exclude_list) ? star.qualified_exclude_list : []) {
    const column = record(item)?.column;
    if (typeof column === 'string') excluded.add(column.toLowerCase());
  }
  const replaced = new Map<string, unknown>();
  for (const entry of Array.isArray(star.replace_list) ? star.replace_list : []) {
    const e = record(entry);
    if (typeof e?.key === 'string') replaced.set(e.key.toLowerCase(), e.value);
  }
  const renames = new Map<string, string>();
  for (const entry of Array.isArray(star.rename_list) ? star.rename_list : []) {
    const e = record(entry);
    const from = record(e?.key)?.column;
    if (typeof from === 'string' && typeof e?.value === 'string') renames.set(from.toLowerCase(), e.value);
  }
  const columns: TracedColumn[] = [];
  for (const c of expanded.columns) {
    const name = c.name?.toLowerCase() ?? '';
    if (excluded.has(name)) continue;
    const replacement = replaced.get(name);
    const traced = replacement === undefined ? c : column(c.name, traceExpression(replacement, context, 'identity'));
    columns.push(renames.has(name) ? { ...traced, name: renames.get(name) ?? null } : traced);
  }
  return { ok: true, columns };
}

/** The relations a FROM clause brings in, in order; join conditions are indirect uses. */
function fromRelations(value: unknown, outer: Scope | undefined, ctes: Ctes, state: TraceState, into: Relation[]): void {
  const node = record(value);
  if (node === undefined || node.type === 'EMPTY_FROM') return;
  const alias = typeof node.alias === 'string' && node.alias !== '' ? node.alias.toLowerCase() : undefined;
  switch (node.type) {
    case 'BASE_TABLE': {
      const table = String(node.table_name);
      const schema = typeof node.schema_name === 'string' && node.schema_name !== '' ? node.schema_name : null;
      const catalog = typeof node.catalog_name === 'string' && node.catalog_name !== '' ? node.catalog_name : undefined;
      const cte = schema === null && catalog === undefined ? ctes.get(table.toLowerCase()) : undefined;
      const name = alias ?? table.toLowerCase();
      if (cte !== undefined) {
        into.push(relationOf(name, renamed(cte, node.column_name_alias)));
        return;
      }
      const known = state.options.table({ schema, table, ...(catalog === undefined ? {} : { catalog }) });
      if (known === undefined) {
        into.push({ alias: name, columns: null, unknown: `"${[catalog, schema, table].filter(Boolean).join('.')}" is not an asset` });
        return;
      }
      const columns = known.columns?.map((c) => ({
        name: c,
        sources: new Map([[`${known.asset}\u0000${c}`, { asset: known.asset, column: c, kind: 'identity' as DirectKind }]]),
      }));
      const traced = renamed({ columns: columns ?? null }, node.column_name_alias);
      into.push({
        alias: name,
        columns: traced.columns,
        asset: known.asset,
        ...(known.columns === null ? { unknown: `the columns of ${known.asset} are not known yet` } : {}),
      });
      return;
    }
    case 'SUBQUERY': {
      const traced = traceQuery(record(node.subquery)?.node, outer, ctes, state);
      into.push(relationOf(alias ?? 'unnamed_subquery', renamed(traced, node.column_name_alias)));
      return;
    }
    case 'JOIN': {
      const start = into.length;
      fromRelations(node.left, outer, ctes, state, into);
      const leftCount = into.length;
      fromRelations(node.right, outer, ctes, state, into);
      const joined: Scope = { relations: into.slice(start), ...(outer === undefined ? {} : { parent: outer }) };
      const using = Array.isArray(node.using_columns) ? node.using_columns.filter((c): c is string => typeof c === 'string') : [];
      const natural = node.ref_type === 'NATURAL';
      const sides = [into.slice(start, leftCount), into.slice(leftCount)];
      if (natural) {
        const names = sides.map((side) => side.flatMap((r) => (r.columns ?? []).map((c) => c.name?.toLowerCase() ?? '')));
        if (sides.some((side) => side.some((r) => r.columns === null))) state.problems.add('a natural join over a table whose columns are not known');
        using.push(...(names[0] ?? []).filter((n) => n !== '' && names[1]?.includes(n)));
      }
      for (const name of using) {
        for (const side of sides) {
          const resolved = resolveColumn([name], { relations: side });
          if (resolved.ok) state.addIndirect(resolved.sources, 'join');
          else state.problems.add(resolved.why);
        }
      }
      if (using.length > 0) {
        const hidden = new Set(using.map((u) => u.toLowerCase()));
        for (let i = leftCount; i < into.length; i++) into[i] = { ...(into[i] as Relation), hidden };
      }
      if (node.condition !== undefined) {
        const traced = traceExpression(node.condition, { scope: joined, aliases: [], state, ctes, trace: traceQuery }, 'identity');
        state.addIndirect(traced.sources, 'join');
        for (const why of traced.unknown) state.problems.add(why);
      }
      return;
    }
    default:
      into.push({ alias: alias ?? '', columns: null, unknown: `a ${String(node.type).toLowerCase().replaceAll('_', ' ')} in FROM is not traced` });
  }
}

function relationOf(alias: string, query: QueryColumns): Relation {
  return { alias, columns: query.columns, ...(query.unknown === undefined ? {} : { unknown: query.unknown }) };
}

/** `value` as a plain object, or `undefined`. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
