/**
 * Dependency inference for SQL assets with DuckDB's own parser: `json_serialize_sql` turns a
 * query into its parse tree, and every base table the tree references (minus CTE names in scope)
 * is a dependency. Nothing is bound, so the referenced tables need not exist yet.
 *
 * A warm start can skip DuckDB entirely: {@link SqlDependencyCache} remembers the tables of each
 * query text by hash. Only `import type` from `@duckdb/node-api` here, so loading this module
 * does not load DuckDB.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { tableToKey } from '../../model/definitions/asset-key.ts';

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

/** Runs the serialization and turns DuckDB's JSON (or a thrown error) into a result. */
async function serialize(run: () => Promise<Reader>): Promise<SqlDependencyResult> {
  let tree: unknown;
  try {
    const json = (await run()).getRows()[0]?.[0];
    if (typeof json !== 'string') return { ok: false, message: 'DuckDB returned no parse tree' };
    tree = JSON.parse(json);
  } catch (error) {
    return { ok: false, message: messageOf(error) };
  }
  return tablesFromParseTree(tree);
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

const cacheFileSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  entries: z.record(z.string(), z.array(tableRefSchema)),
});

/**
 * Remembers the tables of each query, keyed by the SHA-256 of its text, in one JSON file, so
 * a warm start needs no DuckDB. A missing or corrupt file is an empty cache. {@link save} keeps
 * only the entries read or written since loading, so edited and deleted files drop out. The file
 * is small and read once per load, so I/O is synchronous.
 *
 * @example
 * const cache = new SqlDependencyCache('.strata/sql-dependencies.json');
 * const tables = cache.get(sql) ?? (await infer(sql));
 * cache.set(sql, tables);
 * cache.save();
 */
export class SqlDependencyCache {
  readonly #path: string;
  readonly #entries = new Map<string, readonly SqlTableRef[]>();
  readonly #used = new Set<string>();
  #changed = false;

  /** Loads the cache file at `path` (created on the first {@link save}). */
  constructor(path: string) {
    this.#path = path;
    try {
      const parsed = cacheFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (parsed.success) {
        for (const [hash, tables] of Object.entries(parsed.data.entries)) this.#entries.set(hash, freezeTables(tables));
      }
    } catch {
      // Missing or not JSON: start empty; the next save rewrites it.
    }
  }

  /** The cached tables of `sql`, if it was seen before. */
  get(sql: string): readonly SqlTableRef[] | undefined {
    const hash = hashSql(sql);
    const tables = this.#entries.get(hash);
    if (tables !== undefined) this.#used.add(hash);
    return tables;
  }

  /** Records the tables of `sql` (cache successful inferences only). */
  set(sql: string, tables: readonly SqlTableRef[]): void {
    const hash = hashSql(sql);
    this.#entries.set(hash, freezeTables(tables));
    this.#used.add(hash);
    this.#changed = true;
  }

  /** Number of entries currently held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Writes the used entries atomically (temp file + rename), creating the folder if needed.
   * Does nothing when every loaded entry was used and none was added.
   */
  save(): void {
    if (!this.#changed && this.#used.size === this.#entries.size) return;
    const entries: Record<string, readonly SqlTableRef[]> = {};
    for (const hash of [...this.#used].sort()) entries[hash] = this.#entries.get(hash) ?? [];
    const temp = `${this.#path}.${process.pid}.${randomUUID()}.tmp`;
    mkdirSync(dirname(this.#path), { recursive: true });
    try {
      writeFileSync(temp, `${JSON.stringify({ format: CACHE_FORMAT, entries })}\n`, 'utf8');
      renameSync(temp, this.#path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    for (const hash of [...this.#entries.keys()]) if (!this.#used.has(hash)) this.#entries.delete(hash);
    this.#changed = false;
  }
}

function hashSql(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

function freezeTables(tables: readonly SqlTableRef[]): readonly SqlTableRef[] {
  return Object.freeze(tables.map((t) => Object.freeze({ schema: t.schema, table: t.table, ...(t.catalog === undefined ? {} : { catalog: t.catalog }) })));
}
