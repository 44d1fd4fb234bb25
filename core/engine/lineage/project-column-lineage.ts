/**
 * Column lineage of a whole project: every SQL asset traced through DuckDB's parse tree (the
 * one dependency inference reads), in topological order so that a downstream `select *` expands
 * to the columns traced upstream; TypeScript assets as they declare; anything else from the
 * warehouse's table columns when asked, else unknown. Results are cached by the hash of the query
 * and the upstream columns it was traced against, in `.strata/column-lineage.json`.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Project } from '../../model/project.ts';
import type { AssetColumnLineage } from '../../model/lineage/column-lineage.ts';
import { traceColumnLineage, type KnownTable, type TracedTableRef } from '../../model/lineage/column-lineage-trace.ts';
import { tableToKey } from '../../model/definitions/asset-key.ts';
import { renderForParsing, THIS_PLACEHOLDER_SCHEMA } from '../../model/definitions/sql-template.ts';
import { parseSqlTrees, type SqlParseTree } from '../project/sql-dependencies.ts';
import { SqlHashCache } from '../project/sql-hash-cache.ts';
import { LazyParser } from '../project/lazy-parser.ts';
import { DUCKDB_AGGREGATES } from '../../model/lineage/duckdb-aggregates.ts';

/** How {@link projectColumnLineage} learns what it cannot trace. */
export interface ColumnLineageOptions {
  /**
   * The column names of an asset's table in the warehouse, or `null` when it has none (not asked
   * when absent: such assets' columns are unknown).
   */
  readonly warehouseColumns?: (key: string) => Promise<readonly string[] | null>;
  /** Where the cache lives; default `.strata/column-lineage.json` in the project folder; `false`: no cache. */
  readonly cacheFile?: string | false;
}

/**
 * The column lineage of every asset of `project`, by key, in topological order.
 *
 * @example
 * const lineage = await projectColumnLineage(project, { warehouseColumns: async (key) => [...(await warehouse.columns(key)).keys()] });
 * lineage.get('marts/fct_sales')?.columns;
 */
export async function projectColumnLineage(project: Project, options: ColumnLineageOptions = {}): Promise<Map<string, AssetColumnLineage>> {
  const cacheFile = options.cacheFile ?? join(project.config.dir, '.strata', 'column-lineage.json');
  const cache = cacheFile === false ? undefined : new ColumnLineageCache(cacheFile);
  const parser = new LazyParser();
  // Every SQL asset's parse tree, in one DuckDB statement, on the first cache miss.
  let trees: Map<string, SqlParseTree> | undefined;
  const result = new Map<string, AssetColumnLineage>();
  const fromWarehouse = new Map<string, readonly string[] | null>();
  const warehouseColumns = async (key: string): Promise<readonly string[] | null> => {
    if (options.warehouseColumns === undefined) return null;
    if (!fromWarehouse.has(key)) fromWarehouse.set(key, await options.warehouseColumns(key));
    return fromWarehouse.get(key) ?? null;
  };
  const columnsOf = async (key: string): Promise<readonly string[] | null> => {
    const traced = result.get(key)?.columns;
    return traced === null || traced === undefined ? warehouseColumns(key) : traced.map((c) => c.name);
  };
  try {
    for (const key of project.graph.keys) {
      const definition = project.definitions.get(key);
      const compute = definition?.compute;
      if (compute?.type === 'sql' && compute.source === undefined) {
        const upstream: [string, readonly string[] | null][] = [];
        for (const dep of [...(definition?.spec.deps ?? []), key]) upstream.push([dep, dep === key ? await warehouseColumns(key) : await columnsOf(dep)]);
        const known = new Map(upstream);
        const sql = renderForParsing(compute.sql);
        const cacheKey = `${key}\n${JSON.stringify(upstream)}\n${sql}`;
        let lineage = cache?.get(cacheKey);
        if (lineage === undefined) {
          trees ??= await parseAll(project, parser);
          const parsed = trees.get(key) ?? { ok: false, message: 'the query was not parsed' };
          const table = (ref: TracedTableRef): KnownTable | undefined => {
            const asset = ref.schema === THIS_PLACEHOLDER_SCHEMA ? key : ref.schema === null ? undefined : tableToKey(ref.schema, ref.table);
            return asset !== undefined && known.has(asset) ? { asset, columns: known.get(asset) ?? null } : undefined;
          };
          lineage = parsed.ok
            ? traceColumnLineage(key, parsed.tree, { table, aggregates: DUCKDB_AGGREGATES, ownColumns: known.get(key) ?? null })
            : { key, columns: null, indirect: [], unknown: `the query does not parse: ${parsed.message}` };
          cache?.set(cacheKey, lineage);
        }
        result.set(key, lineage);
      } else if (compute?.type === 'typescript' && compute.columnLineage !== undefined) {
        const columns = [];
        for (const c of compute.columnLineage) {
          // A declared source the upstream asset is known not to have is reported, not trusted.
          const missing: string[] = [];
          for (const s of c.sources) if ((await columnsOf(s.asset))?.includes(s.column) === false) missing.push(`${s.asset} has no column "${s.column}"`);
          columns.push({
            name: c.name,
            sources: c.sources,
            ...(missing.length === 0 ? {} : { unknown: `declared from a column that does not exist: ${missing.join('; ')}` }),
          });
        }
        result.set(key, { key, columns, indirect: [] });
      } else {
        const names = await warehouseColumns(key);
        const why =
          compute?.type === 'typescript'
            ? 'a TypeScript asset that declares no columnLineage'
            : compute?.type === 'sql'
              ? 'its query runs on Postgres'
              : `a ${compute?.type ?? 'missing'} asset`;
        result.set(key, { key, columns: names?.map((name) => ({ name, sources: [], unknown: why })) ?? null, indirect: [], unknown: why });
      }
    }
  } finally {
    parser.close();
  }
  try {
    cache?.save();
  } catch {
    // A cache that cannot be written only makes the next computation slower.
  }
  return result;
}

/** The parse tree of every SQL asset that runs on the warehouse, by key. */
async function parseAll(project: Project, parser: LazyParser): Promise<Map<string, SqlParseTree>> {
  const queries: [string, string][] = [];
  for (const [key, { compute }] of project.definitions)
    if (compute.type === 'sql' && compute.source === undefined) queries.push([key, renderForParsing(compute.sql)]);
  const trees = await parseSqlTrees(
    await parser.connection(),
    queries.map(([, sql]) => sql),
  );
  return new Map(queries.map(([key], i) => [key, trees[i] as SqlParseTree]));
}

const CACHE_FORMAT = 1;

const directSchema = z.object({ asset: z.string(), column: z.string(), kind: z.enum(['identity', 'transformation', 'aggregation']) });
const lineageSchema = z.object({
  key: z.string(),
  columns: z.array(z.object({ name: z.string(), sources: z.array(directSchema), unknown: z.string().optional() })).nullable(),
  indirect: z.array(z.object({ asset: z.string(), column: z.string(), kind: z.enum(['join', 'filter', 'group_by', 'sort', 'window']) })),
  unknown: z.string().optional(),
});

/**
 * Saves an unused entry survives: a run's OpenLineage events trace the project when its first
 * step ends, with fewer tables' columns known than the run's own trace after its last step, so
 * the two take turns with different keys and would otherwise evict each other's entries.
 */
const KEEP_UNUSED_SAVES = 4;

/** Traced column lineage keyed by the hash of the asset, the upstream columns it was traced against and its query. */
class ColumnLineageCache extends SqlHashCache<AssetColumnLineage> {
  constructor(path: string) {
    super(path, CACHE_FORMAT, lineageSchema as z.ZodType<AssetColumnLineage>, (value) => value, KEEP_UNUSED_SAVES);
  }
}
