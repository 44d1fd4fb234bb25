import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../model/errors.ts';
import { PACKAGE_ROOT } from '../package-location.ts';
import { formatZodIssues } from '../../model/definitions/asset-spec.ts';
import { NO_RETRIES, retryPolicySchema, type RetryPolicy } from '../../model/definitions/retry-policy.ts';
import { heartbeatSchema, resolveHeartbeat, type HeartbeatSettings } from '../../model/config/heartbeat-settings.ts';
import { daemonSettingsSchema, resolveDaemonSettings, type DaemonSettings } from '../../model/config/daemon-settings.ts';
import { checkStateFile, type StateFileSource } from './state-files.ts';
import { resolveSeedSettings, seedSettingsSchema, type SeedSettings } from '../../model/config/seed-settings.ts';
import { resourcesSchema, type ResourceConfig } from '../../model/config/resources-config.ts';
import { resolveWarehouse, warehouseSchema, type WarehouseSettings } from '../../model/config/warehouse-settings.ts';

/** Name of the project configuration file. */
export const CONFIG_FILE = 'strata.json';

const configSchema = z
  .object({
    name: z.string().min(1).default('strata-project'),
    assets: z.string().min(1).default('defs'),
    landing: z.string().min(1).default('landing'),
    seeds: seedSettingsSchema.optional(),
    storage: z.string().min(1).default('.strata/strata.db'),
    warehouse: warehouseSchema,
    concurrency: z.number().int().min(1).max(64).default(4),
    retries: retryPolicySchema.optional(),
    heartbeat: heartbeatSchema.optional(),
    daemon: daemonSettingsSchema.optional(),
    resources: resourcesSchema.optional(),
  })
  .strict();

/** A loaded project configuration with every path made absolute. */
export interface ProjectConfig {
  readonly name: string;
  /** The project folder (where strata.json lives). */
  readonly dir: string;
  readonly assetsDir: string;
  readonly landingDir: string;
  /** The seeds folder and column types (`"seeds"`; absent in configs built in code: no seeds). */
  readonly seeds?: SeedSettings;
  /** SQLite file of runs, events and lineage. */
  readonly storageFile: string;
  /** DuckDB warehouse file (or `:memory:`). */
  readonly warehouseFile: string;
  /** DuckDB memory limit, threads and spill folder (`"warehouse": { … }`; absent in configs built in code). */
  readonly warehouseSettings?: WarehouseSettings;
  /** Default number of steps run at once. */
  readonly concurrency: number;
  /** Retry policy of assets that set none (`"retries"`; default: no retries). */
  readonly retries: RetryPolicy;
  /** Heartbeat interval and dead-run timeout (`"heartbeat"`, `STRATA_HEARTBEAT_*`). */
  readonly heartbeat: HeartbeatSettings;
  /** Tick interval, run limit and pools of `assets daemon` (`"daemon"`; absent in configs built in code: the defaults). */
  readonly daemon?: DaemonSettings;
  /** Named connections assets use through `ctx.resources` (`"resources"`; absent: none). */
  readonly resources?: Readonly<Record<string, ResourceConfig>>;
}

/** Where the bundled example project lives. */
export const EXAMPLE_PROJECT_DIR = join(PACKAGE_ROOT, 'assets');

/**
 * Finds the project to use: `explicit` (from `--project`), else `STRATA_PROJECT`, else the
 * current folder when it has a strata.json, else the bundled example.
 */
export function resolveProjectDir(explicit: string | undefined, cwd = process.cwd()): string {
  const chosen = explicit ?? process.env.STRATA_PROJECT;
  if (chosen) return resolve(cwd, chosen);
  if (existsSync(join(cwd, CONFIG_FILE))) return cwd;
  return EXAMPLE_PROJECT_DIR;
}

/**
 * How to open the project's warehouse: its settings, with relative paths in SQL resolving
 * against the project folder. Every place that opens the warehouse (CLI, daemon, UI, `assets
 * query`) passes these.
 */
export function warehouseOpenOptions(config: ProjectConfig): WarehouseSettings & { readonly fileSearchPath: string } {
  return { ...config.warehouseSettings, fileSearchPath: config.dir };
}

/**
 * Reads and validates `strata.json` in `dir`. `STRATA_STORAGE` and `STRATA_WAREHOUSE`
 * override the storage and warehouse paths; a path that cannot be a file there (a folder, a
 * folder that is a file, no write access) is a {@link ConfigError} naming it and its source.
 */
export function loadProjectConfig(dir: string): ProjectConfig {
  const file = join(dir, CONFIG_FILE);
  if (!existsSync(file)) throw new ConfigError(`no ${CONFIG_FILE} in ${dir} (pass --project DIR or run inside a project)`, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, file, { cause: error });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: ${formatZodIssues(parsed.error)}`, file);
  const config = parsed.data;
  const storage = process.env.STRATA_STORAGE ?? config.storage;
  const configured = resolveWarehouse(config.warehouse, dir);
  const warehouse = process.env.STRATA_WAREHOUSE ?? configured.path;
  const storageFile = resolve(dir, storage);
  const warehouseFile = warehouse === ':memory:' ? warehouse : resolve(dir, warehouse);
  const sourceOf = (variable: string, field: string): StateFileSource =>
    process.env[variable] === undefined ? { label: `"${field}" in ${file}`, configFile: file } : { label: variable };
  checkStateFile(storageFile, sourceOf('STRATA_STORAGE', 'storage'), 'strata.db');
  if (warehouseFile !== ':memory:') checkStateFile(warehouseFile, sourceOf('STRATA_WAREHOUSE', 'warehouse'), 'warehouse.duckdb');
  return Object.freeze({
    name: config.name,
    dir,
    assetsDir: resolve(dir, config.assets),
    landingDir: resolve(dir, config.landing),
    seeds: resolveSeedSettings(config.seeds, dir),
    storageFile,
    warehouseFile,
    warehouseSettings: configured.settings,
    concurrency: config.concurrency,
    retries: config.retries ?? NO_RETRIES,
    heartbeat: resolveHeartbeat(config.heartbeat, file),
    daemon: resolveDaemonSettings(config.daemon),
    ...(config.resources === undefined ? {} : { resources: Object.freeze({ ...config.resources }) }),
  });
}
