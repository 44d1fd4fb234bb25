import { z } from 'zod';
import { retryPolicySchema, type RetryPolicy } from '../definitions/retry-policy.ts';
import { heartbeatSchema, type HeartbeatSettings } from './heartbeat-settings.ts';
import { daemonSettingsSchema, type DaemonSettings } from './daemon-settings.ts';
import { seedSettingsSchema, type SeedSettings } from './seed-settings.ts';
import { resourcesSchema, type ResourceConfig } from './resources-config.ts';
import { warehouseSchema, type WarehouseSettings } from './warehouse-settings.ts';
import { storageSchema, type StorageLocation } from './storage-settings.ts';
import { openLineageSchema, type OpenLineageSettings } from './openlineage-settings.ts';
import type { AlertRule } from './alert-rules.ts';

/** Name of the project configuration file. */
export const CONFIG_FILE = 'strata.json';

/** Name of a dbt project's configuration file: a folder holding one is a Strata project too. */
export const DBT_PROJECT_FILE = 'dbt_project.yml';

/** The shape of `strata.json`, before paths are resolved against the project folder. */
export const projectConfigSchema = z
  .object({
    name: z.string().min(1).default('strata-project'),
    assets: z.string().min(1).default('defs'),
    landing: z.string().min(1).default('landing'),
    seeds: seedSettingsSchema.optional(),
    storage: storageSchema,
    warehouse: warehouseSchema,
    concurrency: z.number().int().min(1).max(64).default(4),
    retries: retryPolicySchema.optional(),
    heartbeat: heartbeatSchema.optional(),
    daemon: daemonSettingsSchema.optional(),
    queue: z.boolean({ error: 'must be true or false' }).optional(),
    resources: resourcesSchema.optional(),
    /** A dbt project folder whose models, seeds and tests become assets of this project. */
    dbt: z.string().min(1).optional(),
    openlineage: openLineageSchema.optional(),
    // Each rule is validated on its own (./alert-rules.ts), so an error names the rule.
    alerts: z.unknown().optional(),
    uiUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
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
  /** SQLite file of runs, events and lineage (the default path, unused, when `storageUrl` is set). */
  readonly storageFile: string;
  /**
   * Postgres URL of the storage (`"storage": "postgres://…"`, `env:NAME` or `STRATA_STORAGE`),
   * the `env:` variable read; absent: the SQLite `storageFile`. Holds the password, if any:
   * never print it.
   */
  readonly storageUrl?: string;
  /** DuckDB warehouse file (or `:memory:`; the default path, unused, when `warehouseUrl` is set). */
  readonly warehouseFile: string;
  /**
   * Postgres URL of the warehouse (`"warehouse": "postgres://…"`, `env:NAME` or
   * `STRATA_WAREHOUSE`), the `env:` variable read; absent: the DuckDB `warehouseFile`. Holds the
   * password, if any: never print it.
   */
  readonly warehouseUrl?: string;
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
  /**
   * `"queue": true`: materialize, backfill, daemon and UI queue their runs for `assets worker`
   * by default (`--no-queue` runs one in the process); needs Postgres storage.
   */
  readonly queue?: boolean;
  /** Named connections assets use through `ctx.resources` (`"resources"`; absent: none). */
  readonly resources?: Readonly<Record<string, ResourceConfig>>;
  /**
   * The dbt project folder whose models, seeds and tests are assets too (`"dbt": "path"`, or the
   * project folder itself when it has a `dbt_project.yml` and no strata.json); absent: none.
   */
  readonly dbtDir?: string;
  /**
   * dbt vars given on the command line (`--vars`), overriding the `vars:` of `dbt_project.yml`;
   * absent: none given. A queued run records them, so its worker renders the models the same way.
   */
  readonly dbtVars?: Readonly<Record<string, unknown>>;
  /**
   * Where the OpenLineage events of the steps go (`"openlineage"`, `OPENLINEAGE_URL`; absent: none
   * are sent). May hold an API key: never print it.
   */
  readonly openlineage?: OpenLineageSettings;
  /** Alert rules of `"alerts"`, named `alerts[0]`, … (absent: none; TypeScript rules are on the project). */
  readonly alerts?: readonly AlertRule[];
  /** Where the UI is served, for links in alert messages (`"uiUrl"`; default {@link DEFAULT_UI_URL}). */
  readonly uiUrl?: string;
}

/** The UI's address when strata.json names none: `assets ui`'s default. */
export const DEFAULT_UI_URL = 'http://127.0.0.1:3000';

/**
 * Where the project's storage is, for `openStorage`: its Postgres URL when it has one, else
 * its SQLite file. Every place that opens the project's storage passes this.
 */
export function storageLocation(config: Pick<ProjectConfig, 'storageFile' | 'storageUrl'>): StorageLocation {
  return config.storageUrl === undefined ? { kind: 'sqlite', file: config.storageFile } : { kind: 'postgres', url: config.storageUrl };
}

/**
 * How to open the project's warehouse: its settings, with relative paths in SQL resolving
 * against the project folder. Every place that opens the warehouse (CLI, daemon, UI, `assets
 * query`) passes these.
 */
export function warehouseOpenOptions(config: ProjectConfig): WarehouseSettings & { readonly fileSearchPath: string } {
  return { ...config.warehouseSettings, fileSearchPath: config.dir };
}
