/**
 * The configuration of a dbt model, merged the way dbt merges it: folder configs of
 * `dbt_project.yml` (`models: { <project>: { +materialized: table, staging: { … } } }`, deeper
 * folders winning), then a `schema.yml` entry's `config:`, then the model's own `{{ config(…) }}`.
 * Tags add up across all three. A config Strata cannot honour is an error, never ignored.
 *
 * Pure: the YAML and the templates are read in `core/engine/dbt/`.
 */

/** How a dbt model is built. */
export type DbtMaterialized = 'view' | 'table' | 'incremental' | 'ephemeral';

/** A dbt model's effective configuration. */
export interface DbtModelConfig {
  readonly materialized: DbtMaterialized;
  /** dbt's custom `schema`: the DuckDB schema (and the asset key's layer). */
  readonly schema?: string;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly uniqueKey: readonly string[];
  readonly incrementalStrategy?: string;
  readonly onSchemaChange?: string;
  /** `meta.owner`, when given. */
  readonly owner?: string;
  /**
   * The microbatch configs (`event_time`, `begin`, `batch_size`, `lookback`,
   * `concurrent_batches`) as written: checked by dbt-microbatch.ts. `event_time` alone also marks
   * a model that microbatch models reading it filter to their batch.
   */
  readonly microbatch?: Readonly<Record<string, unknown>>;
}

/** The configs of dbt's microbatch incremental strategy (dbt ≥ 1.9). */
export const MICROBATCH_CONFIGS: readonly string[] = ['event_time', 'begin', 'batch_size', 'lookback', 'concurrent_batches'];

/** Config names Strata honours (the others are reported). */
const SUPPORTED: ReadonlySet<string> = new Set([
  'materialized',
  'schema',
  'tags',
  'enabled',
  'unique_key',
  'incremental_strategy',
  'on_schema_change',
  'meta',
  ...MICROBATCH_CONFIGS,
  // Documentation only: they change nothing that is built.
  'docs',
  'persist_docs',
]);

/** Config names dbt knows that Strata does not support yet: named in the error as such. */
const KNOWN_UNSUPPORTED: ReadonlySet<string> = new Set([
  'alias',
  'database',
  'pre-hook',
  'post-hook',
  'pre_hook',
  'post_hook',
  'full_refresh',
  'grants',
  'contract',
  'constraints',
  'sql_header',
  'incremental_predicates',
  'merge_update_columns',
  'merge_exclude_columns',
  'partition_by',
  'cluster_by',
  'packages',
  'quoting',
  'column_types',
  'access',
  'group',
  'docs_blocks',
]);

/** One level of configuration as written (keys without a leading `+`). */
export type RawConfig = Readonly<Record<string, unknown>>;

/** A problem of one configuration, for the caller to locate. */
export type ConfigProblem = string;

/**
 * The folder configs that apply to a model at `folders` (its folders under `models/`), from the
 * `models:` tree of `dbt_project.yml`, outermost first. Keys starting with `+` and known config
 * names are configs; other keys holding objects are subfolders.
 *
 * @example
 * folderConfigs({ jaffle_shop: { materialized: 'table', staging: { '+materialized': 'view' } } }, 'jaffle_shop', ['staging'])
 * // [{ materialized: 'table' }, { materialized: 'view' }]
 */
export function folderConfigs(tree: unknown, projectName: string, folders: readonly string[]): RawConfig[] {
  const levels: RawConfig[] = [];
  if (!isObject(tree)) return levels;
  // Configs at the top of `models:` apply to every model, as do the project's.
  levels.push(configsOf(tree));
  let node: unknown = tree[projectName];
  for (const folder of ['', ...folders]) {
    if (folder !== '') node = isObject(node) ? node[folder] : undefined;
    if (!isObject(node)) break;
    levels.push(configsOf(node));
  }
  return levels;
}

/**
 * Keys of a folder config level that are neither configs nor folders of the project: they are
 * probably misspelt configs (`materialised`), or folder configs of a package Strata does not load.
 */
export function strayFolderKeys(tree: unknown, projectName: string, folderExists: (folders: readonly string[]) => boolean): string[] {
  const stray: string[] = [];
  if (!isObject(tree)) return stray;
  const walk = (node: Readonly<Record<string, unknown>>, path: readonly string[]) => {
    for (const [name, value] of Object.entries(node)) {
      if (name.startsWith('+') || SUPPORTED.has(name) || KNOWN_UNSUPPORTED.has(name)) continue;
      if (isObject(value) && folderExists([...path, name])) walk(value, [...path, name]);
      else stray.push([projectName, ...path, name].join('.'));
    }
  };
  for (const [name, value] of Object.entries(tree)) {
    if (name.startsWith('+') || SUPPORTED.has(name) || KNOWN_UNSUPPORTED.has(name)) continue;
    if (name === projectName && isObject(value)) walk(value, []);
    else stray.push(name);
  }
  return stray;
}

/**
 * Merges configuration levels, weakest first (folder configs, then `schema.yml`, then the
 * model's `config()`), into a model's configuration; unknown or unsupported configs and bad
 * values are returned as problems.
 */
export function mergeModelConfig(levels: readonly RawConfig[]): { config: DbtModelConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const merged: Record<string, unknown> = {};
  const tags: string[] = [];
  for (const level of levels) {
    for (const [name, value] of Object.entries(level)) {
      if (KNOWN_UNSUPPORTED.has(name)) problems.push(`config "${name}" is not supported by Strata yet`);
      else if (!SUPPORTED.has(name)) problems.push(`unknown config "${name}"`);
      else if (name === 'tags') tags.push(...stringList(value, 'tags', problems));
      else if (name === 'meta' && isObject(value) && isObject(merged.meta)) merged.meta = { ...merged.meta, ...value };
      else merged[name] = value;
    }
  }
  const materialized = merged.materialized ?? 'view';
  if (materialized !== 'view' && materialized !== 'table' && materialized !== 'incremental' && materialized !== 'ephemeral') {
    problems.push(`materialized "${String(materialized)}" is not supported (use view, table, incremental or ephemeral)`);
  }
  const schema = merged.schema;
  if (schema !== undefined && schema !== null && typeof schema !== 'string') problems.push('config "schema" must be a string');
  const enabled = merged.enabled ?? true;
  if (typeof enabled !== 'boolean') problems.push('config "enabled" must be true or false');
  const uniqueKey = merged.unique_key === undefined || merged.unique_key === null ? [] : stringList(merged.unique_key, 'unique_key', problems);
  const owner = isObject(merged.meta) ? merged.meta.owner : undefined;
  if (owner !== undefined && typeof owner !== 'string') problems.push('meta.owner must be a string');
  for (const name of ['incremental_strategy', 'on_schema_change'] as const) {
    if (merged[name] !== undefined && typeof merged[name] !== 'string') problems.push(`config "${name}" must be a string`);
  }
  const config: DbtModelConfig = Object.freeze({
    materialized: materialized as DbtMaterialized,
    ...(typeof schema === 'string' ? { schema } : {}),
    tags: Object.freeze([...new Set(tags)]),
    enabled: enabled === true,
    uniqueKey: Object.freeze(uniqueKey),
    ...(typeof merged.incremental_strategy === 'string' ? { incrementalStrategy: merged.incremental_strategy } : {}),
    ...(typeof merged.on_schema_change === 'string' ? { onSchemaChange: merged.on_schema_change } : {}),
    ...(typeof owner === 'string' ? { owner } : {}),
    ...(MICROBATCH_CONFIGS.some((name) => merged[name] !== undefined)
      ? { microbatch: Object.freeze(Object.fromEntries(MICROBATCH_CONFIGS.filter((name) => merged[name] !== undefined).map((name) => [name, merged[name]]))) }
      : {}),
  });
  return { config, problems };
}

/** The configs of one level of the `models:` tree, with the `+` of their names dropped. */
function configsOf(node: Readonly<Record<string, unknown>>): RawConfig {
  const configs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    if (name.startsWith('+')) configs[name.slice(1)] = value;
    else if (SUPPORTED.has(name) || KNOWN_UNSUPPORTED.has(name)) configs[name] = value;
  }
  return configs;
}

/** A string or a list of strings (`tags: nightly` or `tags: [a, b]`). */
function stringList(value: unknown, name: string, problems: ConfigProblem[]): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.some((item) => typeof item !== 'string')) {
    problems.push(`config "${name}" must be a string or a list of strings`);
    return [];
  }
  return items as string[];
}

/** A plain object (a YAML mapping). */
export function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
