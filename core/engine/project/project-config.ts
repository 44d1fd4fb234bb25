import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, DefinitionErrors } from '../../model/errors.ts';
import { parseConfigAlerts } from '../../model/config/alert-rules.ts';
import { PACKAGE_ROOT } from '../package-location.ts';
import { formatZodIssues } from '../../model/definitions/asset-spec.ts';
import { NO_RETRIES } from '../../model/definitions/retry-policy.ts';
import { resolveHeartbeat } from '../../model/config/heartbeat-settings.ts';
import { resolveDaemonSettings } from '../../model/config/daemon-settings.ts';
import { resolveSeedSettings } from '../../model/config/seed-settings.ts';
import { resolveOpenLineage } from '../../model/config/openlineage-settings.ts';
import { DEFAULT_WAREHOUSE_PATH, resolveWarehouse } from '../../model/config/warehouse-settings.ts';
import { CONFIG_FILE, DBT_PROJECT_FILE, projectConfigSchema, type ProjectConfig } from '../../model/config/project-config.ts';
import { checkStateFile, type StateFileSource } from './state-files.ts';
import { resolveStorage } from './storage-source.ts';
import { DEFAULT_STORAGE_PATH } from '../../model/config/storage-settings.ts';

/** Where the bundled example project lives. */
export const EXAMPLE_PROJECT_DIR = join(PACKAGE_ROOT, 'assets');

/**
 * Finds the project to use: `explicit` (from `--project`), else `STRATA_PROJECT`, else the
 * current folder when it has a strata.json or a dbt_project.yml, else the bundled example.
 */
export function resolveProjectDir(explicit: string | undefined, cwd = process.cwd()): string {
  const chosen = explicit ?? process.env.STRATA_PROJECT;
  if (chosen) return resolve(cwd, chosen);
  if (existsSync(join(cwd, CONFIG_FILE)) || existsSync(join(cwd, DBT_PROJECT_FILE))) return cwd;
  return EXAMPLE_PROJECT_DIR;
}

/**
 * Reads and validates `strata.json` in `dir`. `STRATA_STORAGE` and `STRATA_WAREHOUSE`
 * override the storage and warehouse paths; a path that cannot be a file there (a folder, a
 * folder that is a file, no write access) is a {@link ConfigError} naming it and its source.
 * A `postgres://` storage or warehouse (directly or through `env:NAME`) is a URL, not a path.
 */
export function loadProjectConfig(dir: string): ProjectConfig {
  const file = join(dir, CONFIG_FILE);
  // A dbt project without strata.json is a Strata project with the defaults, its seeds loaded as dbt's.
  const dbtOnly = !existsSync(file) && existsSync(join(dir, DBT_PROJECT_FILE));
  if (!existsSync(file) && !dbtOnly) throw new ConfigError(`no ${CONFIG_FILE} in ${dir} (pass --project DIR or run inside a project)`, file);
  let raw: unknown;
  try {
    raw = dbtOnly ? { dbt: '.' } : JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, file, { cause: error });
  }
  const parsed = projectConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: ${formatZodIssues(parsed.error)}`, file);
  const config = parsed.data;
  const alerts = parseConfigAlerts(config.alerts, CONFIG_FILE);
  if (alerts.errors.length > 0) throw new DefinitionErrors(alerts.errors);
  const configured = resolveWarehouse(config.warehouse, dir);
  const sourceOf = (variable: string, field: string): StateFileSource =>
    process.env[variable] === undefined ? { label: `"${field}" in ${file}`, configFile: file } : { label: variable };
  // The warehouse is read as the storage is: a path, a postgres:// URL, or env:NAME naming either.
  const warehouse = resolveStorage(process.env.STRATA_WAREHOUSE ?? configured.path, sourceOf('STRATA_WAREHOUSE', 'warehouse'), process.env);
  const warehousePath = warehouse.kind === 'sqlite' ? warehouse.file : DEFAULT_WAREHOUSE_PATH;
  const warehouseFile = warehousePath === ':memory:' ? warehousePath : resolve(dir, warehousePath);
  const storage = resolveStorage(process.env.STRATA_STORAGE ?? config.storage, sourceOf('STRATA_STORAGE', 'storage'), process.env);
  // A Postgres URL is never a path: no file is checked (or created) for it.
  const storageFile = resolve(dir, storage.kind === 'sqlite' ? storage.file : DEFAULT_STORAGE_PATH);
  if (storage.kind === 'sqlite') checkStateFile(storageFile, sourceOf('STRATA_STORAGE', 'storage'), 'strata.db');
  if (warehouse.kind === 'sqlite' && warehouseFile !== ':memory:') checkStateFile(warehouseFile, sourceOf('STRATA_WAREHOUSE', 'warehouse'), 'warehouse.duckdb');
  const openlineage = resolveOpenLineage(config.openlineage, { dir, projectName: config.name, configFile: file }, process.env);
  return Object.freeze({
    name: config.name,
    dir,
    assetsDir: resolve(dir, config.assets),
    landingDir: resolve(dir, config.landing),
    // dbt's seeds are loaded as dbt's (with their column_types), not twice as Strata's.
    ...(dbtOnly ? {} : { seeds: resolveSeedSettings(config.seeds, dir) }),
    storageFile,
    ...(storage.kind === 'postgres' ? { storageUrl: storage.url } : {}),
    warehouseFile,
    ...(warehouse.kind === 'postgres' ? { warehouseUrl: warehouse.url } : {}),
    warehouseSettings: configured.settings,
    concurrency: config.concurrency,
    retries: config.retries ?? NO_RETRIES,
    heartbeat: resolveHeartbeat(config.heartbeat, file, process.env),
    daemon: resolveDaemonSettings(config.daemon),
    ...(config.queue ? { queue: true } : {}),
    ...(config.resources === undefined ? {} : { resources: Object.freeze({ ...config.resources }) }),
    ...(config.dbt === undefined ? {} : { dbtDir: resolve(dir, config.dbt) }),
    ...(openlineage === undefined ? {} : { openlineage }),
    ...(alerts.rules.length === 0 ? {} : { alerts: Object.freeze(alerts.rules) }),
    ...(config.uiUrl === undefined ? {} : { uiUrl: config.uiUrl.replace(/\/+$/, '') }),
  });
}
