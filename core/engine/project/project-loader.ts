/**
 * `loadProject`: every asset, schedule and alert rule of a project folder: TypeScript modules,
 * `.sql` files (built by ./sql-definitions.ts), seeds and an included dbt project, with the
 * custom checks' reads resolved (./custom-check-reads.ts) and every definition problem collected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { DefinitionError, DefinitionErrors, UsageError } from '../../model/errors.ts';
import { isAssetDefinition, makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { parseSqlAssetFile, sqlAssetDefinition, sqlPathToKey } from '../../model/definitions/sql-asset-file.ts';
import { keyProblem } from '../../model/definitions/asset-key.ts';
import { graphProblems } from '../../model/graph/graph-problems.ts';
import { compareKeys } from '../../model/collections/key-compare.ts';
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
import { buildSqlDefinitions, type SqlSource } from './sql-definitions.ts';
import { resolveCustomChecks } from './custom-check-reads.ts';

export { sqlDependencyCacheFile } from './sql-definitions.ts';

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
