import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DefinitionError, DefinitionErrors, UsageError } from '../../model/errors.ts';
import { isAssetDefinition, makeDefinition, strayMappings, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { parseSqlAssetFile, sqlAssetDefinition, sqlPathToKey } from '../../model/definitions/sql-asset-file.ts';
import { keyProblem, keyToTable, tableToKey } from '../../model/definitions/asset-key.ts';
import { dependenciesToKeys, inferSqlDependencies, SqlDependencyCache } from './sql-dependencies.ts';
import { LazyParser } from './lazy-parser.ts';
import { graphProblems } from '../../model/graph/graph-problems.ts';
import { closestKeys, compareKeys } from '../../model/collections/key-compare.ts';
import { renderForParsing, templateProblems, THIS_PLACEHOLDER_SCHEMA, THIS_VARIABLE } from '../../model/definitions/sql-template.ts';
import { withReads, type CheckSpec } from '../../model/definitions/check-spec.ts';
import { isScheduleDefinition, makeSchedule, type ScheduleDefinition } from '../../model/definitions/schedule-definition.ts';
import { loadProjectConfig } from './project-config.ts';
import { isAlertRule, makeAlertRule, type AlertRule } from '../../model/config/alert-rules.ts';
import type { ProjectConfig } from '../../model/config/project-config.ts';
import { buildProject, type Project } from '../../model/project.ts';
import { onWarehouse } from '../../model/definitions/warehouse-kind.ts';
import { warehouseKind } from '../../model/config/concurrency-pools.ts';
import { listSourceFiles } from './source-files.ts';
import { loadSeeds } from './seed-files.ts';
import { DbtFileCache } from './dbt-load-cache.ts';
import { compiledTextDiffers, importAssetModule, loadThroughTsx, prepareAssetModules } from './asset-modules.ts';
import { unknownResource } from '../../../resources/resource-set.ts';

interface SqlSource {
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

/** What a project is loaded with besides its folder. */
export interface LoadProjectOptions {
  /** dbt vars overriding those of `dbt_project.yml` (`--vars`); the project must include a dbt project. */
  readonly dbtVars?: Readonly<Record<string, unknown>>;
}

/**
 * Loads every asset of the project in `dir`: TypeScript modules and `.sql` files under the
 * assets folder, and the seed CSV files under the seeds folder. All definition problems are collected and thrown together as
 * {@link DefinitionErrors}, each naming its asset and file.
 */
export async function loadProject(dir: string, options: LoadProjectOptions = {}): Promise<Project> {
  const config = withDbtVars(loadProjectConfig(dir), options.dbtVars);
  const errors: DefinitionError[] = [];
  // A dbt project needs no assets folder of its own.
  const files = config.dbtDir !== undefined && !existsSync(config.assetsDir) ? [] : listSourceFiles(config.assetsDir, errors, config.dir);
  const found: AssetDefinition[] = loadSeeds(config, errors);
  const schedules: ScheduleDefinition[] = [];
  const alerts: AlertRule[] = [];
  const sqlSources: SqlSource[] = [];
  // Keys of files that failed to parse still exist: readers of them must not also be reported.
  const brokenKeys = new Set<string>();

  await prepareAssetModules(
    config.dir,
    files.filter((file) => !file.endsWith('.sql')),
  );
  for (const file of files) {
    const display = relative(config.dir, file).split(sep).join('/');
    if (file.endsWith('.sql')) {
      const keyPath = relative(config.assetsDir, file).split(sep).join('/');
      const parsed = parseSqlAssetFile(keyPath, readFileSync(file, 'utf8'), display);
      if (!parsed.ok) {
        errors.push(...parsed.errors);
        if (keyProblem(sqlPathToKey(keyPath)) === undefined) brokenKeys.add(sqlPathToKey(keyPath));
      } else if (parsed.header.source !== undefined && config.warehouseUrl !== undefined) {
        // `source:` copies Postgres rows into DuckDB: there is no DuckDB to copy into.
        errors.push(
          new DefinitionError(
            'source_needs_duckdb',
            `"source: ${parsed.header.source}" extracts rows from Postgres into the DuckDB warehouse, but this project's warehouse is Postgres: drop "source:" and read the tables in the query itself, or keep a DuckDB warehouse`,
            { assetKey: parsed.key, file: display },
          ),
        );
        brokenKeys.add(parsed.key);
      } else
        sqlSources.push({
          key: parsed.key,
          file: display,
          body: parsed.body,
          remote: parsed.header.source !== undefined,
          declaresDeps: parsed.header.deps.length > 0,
          build: (deps) => sqlAssetDefinition(parsed, deps, display),
        });
    } else {
      found.push(...(await importDefinitions(file, display, errors, schedules, alerts)));
    }
  }

  // Saved with the SQL dependency cache, once the project loaded: a project with errors writes nothing.
  const dbtCache = config.dbtDir === undefined ? undefined : new DbtFileCache(config.dir);
  const dbtSources: AssetDefinition[] = [];
  if (config.dbtDir !== undefined) {
    // Loaded on demand: projects without dbt do not pay for the template engine.
    const { dbtTarget, loadDbtProject } = await import('../dbt/dbt-project-loader.ts');
    const dbt = loadDbtProject(config.dbtDir, config.dir, dbtTarget(config), errors, dbtCache, config.dbtVars);
    const { dbtNodePaths, withDbtPath } = await import('../dbt/dbt-node-paths.ts');
    const paths = dbtNodePaths(dbt.nodes, config.dbtDir, config.dir);
    // A seed file of the dbt project that Strata's own seeds folder also holds is dbt's (with its column_types).
    const dbtSeedFiles = new Set(dbt.seeds.map((seed) => (seed.compute.type === 'seed' ? seed.compute.path : '')));
    found.splice(0, found.length, ...found.filter((d) => d.compute.type !== 'seed' || !dbtSeedFiles.has(d.compute.path)));
    found.push(...dbt.seeds.map((seed) => withDbtPath(seed, paths.built.get(seed.spec.key))));
    for (const key of dbt.brokenKeys) brokenKeys.add(key);
    dbtSources.push(...dbt.sources.map((source) => withDbtPath(source, paths.sources.get(source.spec.key))));
    for (const { parsed, file, columnDescriptions, refDeps } of dbt.models) {
      sqlSources.push({
        key: parsed.key,
        file,
        body: parsed.body,
        remote: false,
        // As in dbt, what it refs is a dependency: all of them when its Postgres SQL does not parse with DuckDB.
        declaresDeps: true,
        ...(parsed.incrementalBody === undefined ? {} : { incrementalBody: parsed.incrementalBody }),
        build: (deps) =>
          withDbtPath(withColumnDescriptions(sqlAssetDefinition(parsed, [...deps, ...refDeps], file), columnDescriptions), paths.built.get(parsed.key)),
      });
    }
  }

  if (found.some(readsDifferentlyCompiled)) {
    // Its code version would differ from tsx's: load once more, through tsx (the modules run twice, once).
    loadThroughTsx(config.dir);
    return loadProject(dir, options);
  }

  const knownKeys = new Set([...found.map((d) => d.spec.key), ...sqlSources.map((s) => s.key), ...brokenKeys]);
  // A dbt source whose table an asset of the project builds is that asset; the others are observed.
  for (const source of dbtSources) {
    if (knownKeys.has(source.spec.key)) {
      if (source.spec.checks.length > 0) {
        const message = `source table ${source.spec.key} is built by an asset of the project, so it is no source asset: put its tests on that asset`;
        errors.push(
          new DefinitionError('dbt_source_invalid', message, { assetKey: source.spec.key, ...(source.file === undefined ? {} : { file: source.file }) }),
        );
      }
      continue;
    }
    found.push(source);
    knownKeys.add(source.spec.key);
  }
  const sql = await buildSqlDefinitions(sqlSources, knownKeys, brokenKeys, config, errors);
  found.push(...sql.definitions);
  const checked = await resolveCustomChecks(found, knownKeys, sql.cache, config.warehouseUrl !== undefined);
  errors.push(...checked.problems);
  found.splice(0, found.length, ...checked.definitions);

  const definitions = new Map<string, AssetDefinition>();
  for (const definition of found) {
    const previous = definitions.get(definition.spec.key);
    if (previous) {
      errors.push(
        new DefinitionError('duplicate_key', `asset key is defined twice (also in ${previous.file ?? 'an earlier module'})`, {
          assetKey: definition.spec.key,
          ...(definition.file === undefined ? {} : { file: definition.file }),
        }),
      );
    } else {
      definitions.set(definition.spec.key, definition);
    }
  }

  errors.push(...resourceProblems([...definitions.values()], config));
  const specs = [...definitions.values()].map((d) => d.spec);
  const fileOf = (key: string) => definitions.get(key)?.file;
  errors.push(...graphProblems(specs, fileOf, brokenKeys));
  if (errors.length > 0) throw new DefinitionErrors(sortErrors(errors));
  try {
    dbtCache?.save();
    sql.cache?.save();
  } catch {
    // A cache that cannot be written (a read-only project folder) only makes the next load slower.
  }
  const kind = warehouseKind(config);
  return buildProject(
    config,
    [...definitions.values()].map((d) => onWarehouse(d, kind)),
    schedules,
    alerts,
  );
}

async function importDefinitions(
  file: string,
  display: string,
  errors: DefinitionError[],
  schedules: ScheduleDefinition[] = [],
  alerts: AlertRule[] = [],
): Promise<AssetDefinition[]> {
  let module: Record<string, unknown>;
  try {
    module = await importAssetModule(file);
  } catch (error) {
    if (error instanceof DefinitionError) {
      errors.push(error.withContext({ file: display }));
    } else {
      const message = error instanceof Error ? error.message : String(error);
      const hint = /require\(\) ES Module|Cannot use import statement/.test(message) ? ' (the project folder needs a package.json with "type": "module")' : '';
      errors.push(new DefinitionError('module_failed', `cannot load module: ${message.split('\n')[0]}${hint}`, { file: display }, { cause: error }));
    }
    return [];
  }
  // One asset may be exported under several names (`export default orders`): count it once.
  const seen = new Set<AssetDefinition>();
  for (const value of Object.values(module)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isAssetDefinition(item)) seen.add(item);
      else if (isScheduleDefinition(item) && !schedules.some((s) => s.name === item.name && s.file === display)) schedules.push(makeSchedule(item, display));
      else if (isAlertRule(item) && !alerts.some((a) => a.name === item.name && a.file === display)) alerts.push(makeAlertRule(item, display));
    }
  }
  return [...seen].map((item) => makeDefinition(item.spec, item.compute, display));
}

/** `config` with the `--vars` it was loaded with; a {@link UsageError} when it includes no dbt project to give them to. */
function withDbtVars(config: ProjectConfig, dbtVars: Readonly<Record<string, unknown>> | undefined): ProjectConfig {
  if (dbtVars === undefined) return config;
  if (config.dbtDir === undefined)
    throw new UsageError(
      `--vars sets the vars of a dbt project, but project ${config.dir} includes none (no "dbt" in strata.json, no dbt_project.yml)`,
      '--vars',
    );
  return Object.freeze({ ...config, dbtVars });
}

/** A definition with column descriptions in its spec (a dbt model's). */
function withColumnDescriptions(definition: AssetDefinition, columns: Readonly<Record<string, string>>): AssetDefinition {
  if (Object.keys(columns).length === 0) return definition;
  return makeDefinition(Object.freeze({ ...definition.spec, columnDescriptions: columns }), definition.compute, definition.file);
}

/** Whether an asset's function, as compiled into `.strata/modules/`, reads differently than under tsx. */
function readsDifferentlyCompiled({ compute }: AssetDefinition): boolean {
  if (compute.type === 'typescript') return compiledTextDiffers(compute.materialize.toString());
  if (compute.type === 'source') return compiledTextDiffers(compute.observe.toString());
  return false;
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
async function buildSqlDefinitions(
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

/**
 * Reads every custom SQL check with DuckDB's parser (cached like SQL assets): the assets its
 * query reads become the check's `reads` (check dependencies), and a query that does not parse,
 * reads a table that is not an asset or uses a variable that cannot be bound is an error naming
 * the asset, the check and the file — except, on a Postgres warehouse (`postgres`), for a check
 * that knows what it reads already (a dbt singular test's refs). Returns the definitions with
 * their checks' reads filled in.
 */
async function resolveCustomChecks(
  definitions: readonly AssetDefinition[],
  knownKeys: ReadonlySet<string>,
  cache: SqlDependencyCache | undefined,
  postgres: boolean,
): Promise<{ definitions: AssetDefinition[]; problems: DefinitionError[] }> {
  const problems: DefinitionError[] = [];
  const parser = new LazyParser();
  try {
    const resolved: AssetDefinition[] = [];
    for (const definition of definitions) {
      const { spec, file } = definition;
      if (!spec.checks.some((c) => c.type === 'custom_sql')) {
        resolved.push(definition);
        continue;
      }
      const context = { assetKey: spec.key, ...(file === undefined ? {} : { file }) };
      const checks: CheckSpec[] = [];
      for (const check of spec.checks) {
        if (check.type !== 'custom_sql') {
          checks.push(check);
          continue;
        }
        const { schema, table } = keyToTable(spec.key);
        const withTable = check.sql.replaceAll(THIS_VARIABLE, `${schema}.${table}`);
        const kind = spec.partitions === undefined ? 'none' : spec.partitions.type === 'static' ? 'static' : 'time';
        for (const message of templateProblems(withTable, kind))
          problems.push(new DefinitionError('check_invalid', `check ${check.name}: ${message}`, context));
        const body = renderForParsing(withTable);
        let tables = cache?.get(body);
        if (!tables) {
          const inferred = await inferSqlDependencies(await parser.connection(), body);
          // Postgres SQL DuckDB's parser cannot read, of a check that knows what it reads (a dbt singular test's refs).
          if (!inferred.ok && postgres && check.reads !== undefined) {
            checks.push(check);
            continue;
          }
          if (!inferred.ok) {
            problems.push(new DefinitionError('check_invalid', `check ${check.name}: SQL does not parse: ${inferred.message}`, context));
            checks.push(check);
            continue;
          }
          tables = inferred.tables;
          cache?.set(body, tables);
        }
        const { deps, unknown } = dependenciesToKeys(tables, knownKeys);
        for (const name of unknown) {
          problems.push(new DefinitionError('check_invalid', `check ${check.name}: reads table "${name}", which is not an asset of this project`, context));
        }
        checks.push(
          withReads(
            check,
            [...deps, ...(check.reads ?? [])].filter((key) => key !== spec.key),
          ),
        );
      }
      resolved.push(makeDefinition(Object.freeze({ ...spec, checks: Object.freeze(checks) }), definition.compute, file));
    }
    return { definitions: resolved, problems };
  } finally {
    parser.close();
  }
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

/** Source assets that observe through a resource strata.json does not configure. */
function resourceProblems(definitions: readonly AssetDefinition[], config: ProjectConfig): DefinitionError[] {
  const known = Object.keys(config.resources ?? {}).sort();
  const problems: DefinitionError[] = [];
  for (const { spec, compute, file } of definitions) {
    const used = compute.type === 'source' ? (compute.resources ?? []) : compute.type === 'sql' && compute.source !== undefined ? [compute.source] : [];
    for (const name of used) {
      if (known.includes(name)) continue;
      const error = unknownResource(name, known);
      problems.push(new DefinitionError(error.code, error.message, { assetKey: spec.key, ...(file === undefined ? {} : { file }) }));
    }
  }
  return problems;
}

function sortErrors(errors: DefinitionError[]): DefinitionError[] {
  const rank = (e: DefinitionError) => `${e.context.file ?? ''}\u0000${e.context.assetKey ?? ''}`;
  return [...errors].sort((a, b) => compareKeys(rank(a), rank(b)));
}
