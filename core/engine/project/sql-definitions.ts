/**
 * A project's SQL assets (its `.sql` files and dbt models): each one's dependencies are
 * inferred from the tables its query reads (DuckDB's parser, cached by query text) and its
 * definition built; what cannot be read or bound is collected as a DefinitionError.
 */
import { join } from 'node:path';
import { DefinitionError } from '../../model/errors.ts';
import { strayMappings, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { keyToTable, tableToKey } from '../../model/definitions/asset-key.ts';
import { closestKeys } from '../../model/collections/key-compare.ts';
import { renderForParsing, templateProblems, THIS_PLACEHOLDER_SCHEMA } from '../../model/definitions/sql-template.ts';
import type { ProjectConfig } from '../../model/config/project-config.ts';
import { dependenciesToKeys, inferSqlDependencies, SqlDependencyCache } from './sql-dependencies.ts';
import { LazyParser } from './lazy-parser.ts';

/** A SQL asset found while loading, whose definition waits for its dependencies. */
export interface SqlSource {
  readonly key: string;
  readonly file: string;
  readonly body: string;
  /** Its query runs on Postgres (`source:`): no DuckDB tables to infer. */
  readonly remote: boolean;
  /** Its dependencies are declared (`-- deps:`; a dbt model's refs): on Postgres, a query DuckDB's parser cannot read depends on those alone. */
  readonly declaresDeps: boolean;
  /** The query of an incremental build, when it differs (a dbt model): its tables are dependencies too. */
  readonly incrementalBody?: string;
  readonly build: (deps: readonly string[]) => AssetDefinition;
}

/**
 * The SQL dependency cache of a project: in its `.strata/` folder, whatever storage file it
 * uses, so a new storage file (`STRATA_STORAGE` pointing somewhere else) still starts warm.
 */
export function sqlDependencyCacheFile(config: Pick<ProjectConfig, 'dir'>): string {
  return join(config.dir, '.strata', 'sql-dependencies.json');
}

/**
 * Why a SQL asset's query could not be read. On a Postgres warehouse the query may be good
 * Postgres SQL that DuckDB's parser (which infers dependencies) cannot read: the message says so
 * and how to name the dependencies instead.
 */
function unparsedMessage(message: string, config: ProjectConfig): string {
  if (config.warehouseUrl === undefined) return `SQL does not parse: ${message}`;
  return `SQL does not parse with DuckDB's parser, which infers dependencies (${message}); if it is Postgres SQL your warehouse runs, name its dependencies in the header (-- deps: raw/orders, staging/customers) and Strata uses those instead of parsing it`;
}

/** Infers each SQL asset's dependencies (DuckDB's parser, cached by SQL hash) and builds its definition. */
export async function buildSqlDefinitions(
  sources: readonly SqlSource[],
  knownKeys: ReadonlySet<string>,
  brokenKeys: Set<string>,
  config: ProjectConfig,
  errors: DefinitionError[],
): Promise<{ definitions: AssetDefinition[]; cache?: SqlDependencyCache }> {
  if (sources.length === 0) return { definitions: [] };
  const cache = new SqlDependencyCache(sqlDependencyCacheFile(config));
  const parser = new LazyParser();
  const definitions: AssetDefinition[] = [];
  try {
    // The tables a query reads (cached by its text); `undefined` when it does not parse (reported).
    const readTables = async (source: SqlSource, body: string) => {
      // A query run on Postgres reads Postgres tables: its deps are the header's only.
      const cached = source.remote ? [] : cache.get(body);
      if (cached) return cached;
      const inferred = await inferSqlDependencies(await parser.connection(), renderForParsing(body));
      // Postgres SQL DuckDB's parser cannot read: the header's deps are the asset's deps.
      if (!inferred.ok && config.warehouseUrl !== undefined && source.declaresDeps) return [];
      if (!inferred.ok) {
        errors.push(new DefinitionError('sql_invalid', unparsedMessage(inferred.message, config), { assetKey: source.key, file: source.file }));
        brokenKeys.add(source.key);
        return undefined;
      }
      cache.set(body, inferred.tables);
      return inferred.tables;
    };
    for (const source of sources) {
      let tables = await readTables(source, source.body);
      if (tables !== undefined && source.incrementalBody !== undefined) {
        const more = await readTables(source, source.incrementalBody);
        tables = more === undefined ? undefined : [...tables, ...more];
      }
      if (tables === undefined) continue;
      // `{{ this }}`: an incremental asset reading its own table is not a cycle.
      const { deps, unknown } = dependenciesToKeys(
        tables.filter((t) => t.schema !== THIS_PLACEHOLDER_SCHEMA),
        knownKeys,
      );
      for (const name of unknown) errors.push(unknownTableError(name, source, knownKeys));
      const definition = source.build(deps);
      for (const message of [...strayMappings(definition.spec), ...sqlPartitionProblems(definition)]) {
        errors.push(new DefinitionError('sql_invalid', message, { assetKey: source.key, file: source.file }));
      }
      definitions.push(definition);
    }
  } finally {
    parser.close();
  }
  return { definitions, cache };
}

/** Template variables that cannot be bound, and partitioned views. */
function sqlPartitionProblems(definition: AssetDefinition): string[] {
  const { compute, spec } = definition;
  if (compute.type !== 'sql') return [];
  const kind = spec.partitions === undefined ? 'none' : spec.partitions.type === 'static' ? 'static' : 'time';
  const watermark = compute.incremental?.watermark;
  const problems = templateProblems(compute.sql, kind, {
    incremental: compute.materialization === 'incremental',
    ...(watermark === undefined ? {} : { watermark }),
    ...(compute.source === undefined ? {} : { source: compute.source }),
  });
  if (kind !== 'none' && compute.materialization === 'view') problems.push('a partitioned SQL asset is written partition by partition, so it cannot be a view');
  return problems;
}

/** A table a SQL asset reads that no asset builds, with the closest asset keys. */
function unknownTableError(name: string, source: SqlSource, knownKeys: ReadonlySet<string>): DefinitionError {
  const [schema, table] = name.includes('.') ? name.split('.').slice(-2) : ['', name];
  const others = [...knownKeys].filter((k) => k !== source.key);
  const hint = closestKeys(schema ? tableToKey(schema, table as string) : (table as string), others).map((k) => {
    const target = keyToTable(k);
    return `"${target.schema}.${target.table}"`;
  });
  return new DefinitionError(
    'unknown_table',
    `reads table "${name}", which is not an asset of this project${hint.length ? ` (did you mean ${hint.join(', ')}?)` : ''}`,
    { assetKey: source.key, file: source.file },
  );
}
