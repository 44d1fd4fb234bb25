/**
 * Dependency inference for SQL assets with DuckDB's own parser: `json_serialize_sql` turns a
 * query into its parse tree, and every base table the tree references (minus CTE names in scope)
 * is a dependency. Nothing is bound, so the referenced tables need not exist yet.
 *
 * A warm start can skip DuckDB entirely: {@link SqlDependencyCache} remembers the tables of each
 * query text by hash. Only `import type` from `@duckdb/node-api` here, so loading this module
 * does not load DuckDB.
 */
import { z } from 'zod';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { tableToKey } from '../../model/definitions/asset-key.ts';
import { SqlHashCache } from './sql-hash-cache.ts';

/** A table a query reads, as written: `raw.orders` → `{ schema: 'raw', table: 'orders' }`. */
export interface SqlTableRef {
  /** `null` for unqualified references such as `from orders`. */
  readonly schema: string | null;
  readonly table: string;
  /** Only present for three-part names such as `warehouse.raw.orders`. */
  readonly catalog?: string;
}

/** The tables a query reads, or why DuckDB could not parse it as a single SELECT. */
export type SqlDependencyResult = { readonly ok: true; readonly tables: readonly SqlTableRef[] } | { readonly ok: false; readonly message: string };

const SERIALIZE_SQL = 'SELECT json_serialize_sql($1::VARCHAR)::VARCHAR';

/**
 * Lists the tables `sql` reads, using DuckDB's parser. The query is bound as a parameter.
 *
 * @example
 * const result = await inferSqlDependencies(connection, 'select * from raw.orders');
 * // { ok: true, tables: [{ schema: 'raw', table: 'orders' }] }
 */
export async function inferSqlDependencies(connection: DuckDBConnection, sql: string): Promise<SqlDependencyResult> {
  return serialize(() => connection.runAndReadAll(SERIALIZE_SQL, [sql]));
}

/**
 * Infers the dependencies of many queries, one after another on one connection (the statement
 * is prepared once). The result has the same keys as `sqls`.
 *
 * @example
 * const results = await inferMany(connection, new Map([['staging/orders', 'select * from raw.orders']]));
 */
export async function inferMany<K>(connection: DuckDBConnection, sqls: ReadonlyMap<K, string>): Promise<Map<K, SqlDependencyResult>> {
  const results = new Map<K, SqlDependencyResult>();
  if (sqls.size === 0) return results;
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await connection.prepare(SERIALIZE_SQL);
  } catch (error) {
    const failure: SqlDependencyResult = { ok: false, message: messageOf(error) };
    for (const id of sqls.keys()) results.set(id, failure);
    return results;
  }
  try {
    for (const [id, sql] of sqls) {
      results.set(
        id,
        await serialize(() => {
          prepared.bind([sql]);
          return prepared.runAndReadAll();
        }),
      );
    }
  } finally {
    prepared.destroySync();
  }
  return results;
}

/**
 * Maps table references to asset keys (`marts.fct__daily` → `marts/fct/daily`). References that
 * are not known assets go to `unknown` as written (`raw.other`, or `orders` when unqualified:
 * every asset table is schema-qualified). Both lists are sorted and without duplicates.
 *
 * @example
 * dependenciesToKeys([{ schema: 'raw', table: 'orders' }], new Set(['raw/orders']));
 * // { deps: ['raw/orders'], unknown: [] }
 */
export function dependenciesToKeys(tables: readonly SqlTableRef[], knownKeys: ReadonlySet<string>): { deps: string[]; unknown: string[] } {
  const deps = new Set<string>();
  const unknown = new Set<string>();
  for (const { catalog, schema, table } of tables) {
    const key = schema === null ? undefined : tableToKey(schema, table);
    if (key !== undefined && knownKeys.has(key)) deps.add(key);
    else unknown.add([catalog, schema, table].filter((part) => part != null).join('.'));
  }
  return { deps: [...deps].sort(), unknown: [...unknown].sort() };
}

interface Reader {
  getRows(): unknown[][];
}

/** A query's parse tree as `json_serialize_sql` returns it, or why DuckDB gave none. */
export type SqlParseTree = { readonly ok: true; readonly tree: unknown } | { readonly ok: false; readonly message: string };

/**
 * DuckDB's parse tree of `sql` (the JSON of `json_serialize_sql`, parsed), for readers other
 * than dependency inference (column lineage walks the same tree).
 *
 * @example
 * const parsed = await parseSqlTree(connection, 'select id from raw.orders');
 */
export async function parseSqlTree(connection: DuckDBConnection, sql: string): Promise<SqlParseTree> {
  return parseTree(() => connection.runAndReadAll(SERIALIZE_SQL, [sql]));
}

/**
 * The parse trees of many queries in one statement (one round trip instead of one per query),
 * in the order given. A query that does not parse gets DuckDB's error tree (`error: true`), as
 * {@link parseSqlTree} would; a failure of the statement itself fails every query.
 *
 * @example
 * const [first, second] = await parseSqlTrees(connection, ['select 1 as a', 'select b from raw.t']);
 */
export async function parseSqlTrees(connection: DuckDBConnection, sqls: readonly string[]): Promise<SqlParseTree[]> {
  if (sqls.length === 0) return [];
  try {
    const { listValue } = await import('@duckdb/node-api');
    const reader = await connection.runAndReadAll('SELECT list_transform($1::VARCHAR[], s -> json_serialize_sql(s)::VARCHAR)', [listValue([...sqls])]);
    const items = (reader.getRows()[0]?.[0] as { items?: unknown[] } | undefined)?.items ?? [];
    return sqls.map((_, i) => {
      const json = items[i];
      return typeof json === 'string' ? { ok: true, tree: JSON.parse(json) } : { ok: false, message: 'DuckDB returned no parse tree' };
    });
  } catch (error) {
    const failure: SqlParseTree = { ok: false, message: messageOf(error) };
    return sqls.map(() => failure);
  }
}

async function parseTree(run: () => Promise<Reader>): Promise<SqlParseTree> {
  try {
    const json = (await run()).getRows()[0]?.[0];
    if (typeof json !== 'string') return { ok: false, message: 'DuckDB returned no parse tree' };
    return { ok: true, tree: JSON.parse(json) };
  } catch (error) {
    return { ok: false, message: messageOf(error) };
  }
}

/** Runs the serialization and turns DuckDB's JSON (or a thrown error) into a result. */
async function serialize(run: () => Promise<Reader>): Promise<SqlDependencyResult> {
  const parsed = await parseTree(run);
  return parsed.ok ? tablesFromParseTree(parsed.tree) : parsed;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function tablesFromParseTree(tree: unknown): SqlDependencyResult {
  const root = asRecord(tree);
  if (root?.error === true) return { ok: false, message: parserMessage(root) };
  const statements = Array.isArray(root?.statements) ? root.statements : [];
  if (statements.length === 0) return { ok: false, message: 'the query is empty' };
  if (statements.length > 1) {
    return { ok: false, message: `expected a single SELECT query, found ${statements.length} statements` };
  }
  const found = new Map<string, SqlTableRef>();
  collectTables(statements[0], new Set(), found);
  const tables = [...found.values()].sort(
    (a, b) => compare(a.schema ?? '', b.schema ?? '') || compare(a.table, b.table) || compare(a.catalog ?? '', b.catalog ?? ''),
  );
  return { ok: true, tables };
}

/** DuckDB's wording: `Parser Error: syntax error at or near "form"`. */
function parserMessage(root: Record<string, unknown>): string {
  const type = typeof root.error_type === 'string' ? root.error_type : 'parser';
  const message = typeof root.error_message === 'string' ? root.error_message : 'unknown error';
  if (type === 'not implemented') return `expected a single SELECT query (${message})`;
  return `${type.charAt(0).toUpperCase()}${type.slice(1)} Error: ${message}`;
}

/**
 * Walks the parse tree. `scope` holds the (lowercased) CTE names visible at this point: a
 * node's CTEs are visible in its body and in the CTEs defined after them; a recursive CTE also
 * sees itself. Unqualified names that contain `.` or `/` are file scans (`from 'orders.csv'`).
 */
function collectTables(value: unknown, scope: ReadonlySet<string>, found: Map<string, SqlTableRef>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectTables(item, scope, found);
    return;
  }
  const node = asRecord(value);
  if (node === undefined) return;

  if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string') {
    const table = node.table_name;
    const schema = typeof node.schema_name === 'string' && node.schema_name !== '' ? node.schema_name : null;
    const catalog = typeof node.catalog_name === 'string' && node.catalog_name !== '' ? node.catalog_name : undefined;
    const unqualified = schema === null && catalog === undefined;
    if (!(unqualified && (scope.has(table.toLowerCase()) || /[./]/.test(table)))) {
      const ref: SqlTableRef = { schema, table, ...(catalog === undefined ? {} : { catalog }) };
      const id = `${catalog ?? ''}\u0000${schema ?? ''}\u0000${table}`.toLowerCase();
      if (!found.has(id)) found.set(id, ref);
    }
  }

  let visible = scope;
  if (node.type === 'RECURSIVE_CTE_NODE' && typeof node.cte_name === 'string') visible = withName(visible, node.cte_name);
  const ctes = asRecord(node.cte_map)?.map;
  if (Array.isArray(ctes)) {
    for (const entry of ctes) {
      const cte = asRecord(entry);
      collectTables(cte?.value, visible, found);
      if (typeof cte?.key === 'string') visible = withName(visible, cte.key);
    }
  }
  for (const [property, child] of Object.entries(node)) {
    if (property !== 'cte_map' && typeof child === 'object' && child !== null) collectTables(child, visible, found);
  }
}

function withName(scope: ReadonlySet<string>, name: string): ReadonlySet<string> {
  return new Set(scope).add(name.toLowerCase());
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const CACHE_FORMAT = 1;

const tableRefSchema = z.object({
  schema: z.string().nullable(),
  table: z.string(),
  catalog: z.string().optional(),
});

/**
 * Remembers the tables of each query, keyed by the SHA-256 of its text, in one JSON file, so
 * a warm start needs no DuckDB (see {@link SqlHashCache}: a missing or corrupt file is an empty
 * cache; saving keeps only the entries used since loading).
 *
 * @example
 * const cache = new SqlDependencyCache('.strata/sql-dependencies.json');
 * const tables = cache.get(sql) ?? (await infer(sql));
 * cache.set(sql, tables);
 * cache.save();
 */
export class SqlDependencyCache extends SqlHashCache<readonly SqlTableRef[]> {
  /** Loads the cache file at `path` (created on the first save). */
  constructor(path: string) {
    super(path, CACHE_FORMAT, z.array(tableRefSchema), freezeTables);
  }
}

function freezeTables(tables: readonly SqlTableRef[]): readonly SqlTableRef[] {
  return Object.freeze(tables.map((t) => Object.freeze({ schema: t.schema, table: t.table, ...(t.catalog === undefined ? {} : { catalog: t.catalog }) })));
}
