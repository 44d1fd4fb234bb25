/**
 * The configuration of a dbt snapshot (`{% snapshot name %} {{ config(...) }} select … {% endsnapshot %}`),
 * merged as dbt merges it (`snapshots:` folder configs of `dbt_project.yml`, then the snapshot's
 * `config()`), mapped onto a Strata snapshot with dbt's column names. What Strata cannot write
 * exactly as dbt would is a problem, never ignored.
 *
 * Pure: the templates are read and rendered in `core/engine/dbt/`.
 */
import type { SnapshotConfig } from '../definitions/snapshot-config.ts';
import { DBT_DEFAULT_LAYER } from './dbt-model-mapping.ts';
import { isObject, type RawConfig } from './dbt-config.ts';

/** A dbt snapshot's effective configuration. */
export interface DbtSnapshotConfig {
  /** The DuckDB schema of its table (`target_schema`; the target's schema, `main`, when absent). */
  readonly targetSchema: string;
  readonly snapshot: SnapshotConfig;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  /** `meta.owner`, when given. */
  readonly owner?: string;
  /** `event_time`: the column a microbatch model that refs the snapshot filters to its batch's window. */
  readonly eventTime?: string;
}

const SUPPORTED: ReadonlySet<string> = new Set([
  'target_schema',
  'unique_key',
  'strategy',
  'updated_at',
  'check_cols',
  'invalidate_hard_deletes',
  'hard_deletes',
  'tags',
  'enabled',
  'meta',
  'event_time',
  // Documentation only.
  'docs',
  'persist_docs',
]);

/** dbt configs of snapshots that Strata does not write the way dbt would: named as such. */
const KNOWN_UNSUPPORTED: ReadonlySet<string> = new Set([
  'target_database',
  'database',
  'schema',
  'alias',
  'snapshot_meta_column_names',
  'dbt_valid_to_current',
  'pre-hook',
  'post-hook',
  'pre_hook',
  'post_hook',
  'grants',
  'quoting',
  'materialized',
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Merges a snapshot's configuration levels, weakest first, into its Strata snapshot settings;
 * unknown or unsupported configs and bad values are returned as problems (then `config` is absent).
 *
 * @example
 * dbtSnapshotConfig([{ target_schema: 'snapshots', unique_key: 'id', strategy: 'timestamp', updated_at: 'updated_at' }])
 * // { config: { targetSchema: 'snapshots', snapshot: { uniqueKey: ['id'], strategy: { type: 'timestamp', column: 'updated_at' }, … } }, problems: [] }
 */
export function dbtSnapshotConfig(levels: readonly RawConfig[], defaultSchema = DBT_DEFAULT_LAYER): { config?: DbtSnapshotConfig; problems: string[] } {
  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  const tags: string[] = [];
  for (const level of levels) {
    for (const [name, value] of Object.entries(level)) {
      if (KNOWN_UNSUPPORTED.has(name)) problems.push(`snapshot config "${name}" is not supported by Strata yet`);
      else if (!SUPPORTED.has(name)) problems.push(`unknown snapshot config "${name}"`);
      else if (name === 'tags') tags.push(...(Array.isArray(value) ? value : [value]).map(String));
      else merged[name] = value;
    }
  }
  const targetSchema = merged.target_schema ?? defaultSchema;
  if (typeof targetSchema !== 'string' || !IDENTIFIER.test(targetSchema))
    problems.push(`target_schema must be a schema name, not ${JSON.stringify(targetSchema)}`);
  const uniqueKey = columns(merged.unique_key, 'unique_key', problems);
  if (merged.unique_key === undefined) problems.push('a snapshot needs unique_key: the column(s) identifying a row of its query');
  const strategy = merged.strategy;
  let mapped: SnapshotConfig['strategy'] | undefined;
  if (strategy === 'timestamp') {
    if (merged.check_cols !== undefined) problems.push("check_cols is for strategy='check', not 'timestamp'");
    const updatedAt = merged.updated_at;
    if (typeof updatedAt !== 'string' || !IDENTIFIER.test(updatedAt))
      problems.push(`strategy='timestamp' needs updated_at: the name of a column of the query (got ${JSON.stringify(updatedAt ?? null)})`);
    else mapped = { type: 'timestamp', column: updatedAt };
  } else if (strategy === 'check') {
    // dbt then takes the snapshot time from that column instead of the clock: not written by Strata.
    if (merged.updated_at !== undefined) problems.push("updated_at with strategy='check' is not supported by Strata yet");
    const cols = merged.check_cols;
    if (cols === 'all') mapped = { type: 'check', columns: 'all' };
    else if (cols === undefined) problems.push("strategy='check' needs check_cols: a list of columns, or 'all'");
    else {
      const list = columns(cols, 'check_cols', problems);
      if (list.length > 0) mapped = { type: 'check', columns: Object.freeze(list) };
    }
  } else problems.push(`strategy must be 'timestamp' or 'check', not ${JSON.stringify(strategy ?? null)}`);
  let invalidate = false;
  if (merged.invalidate_hard_deletes !== undefined) {
    if (typeof merged.invalidate_hard_deletes !== 'boolean') problems.push('invalidate_hard_deletes must be true or false');
    else invalidate = merged.invalidate_hard_deletes;
  }
  if (merged.hard_deletes !== undefined) {
    if (merged.hard_deletes === 'invalidate' || merged.hard_deletes === 'ignore') invalidate = merged.hard_deletes === 'invalidate';
    else if (merged.hard_deletes === 'new_record') problems.push("hard_deletes='new_record' is not supported by Strata yet (use 'invalidate' or 'ignore')");
    else problems.push(`hard_deletes must be 'ignore', 'invalidate' or 'new_record', not ${JSON.stringify(merged.hard_deletes)}`);
  }
  const enabled = merged.enabled ?? true;
  if (typeof enabled !== 'boolean') problems.push('config "enabled" must be true or false');
  const owner = isObject(merged.meta) ? merged.meta.owner : undefined;
  if (owner !== undefined && typeof owner !== 'string') problems.push('meta.owner must be a string');
  const eventTime = merged.event_time;
  if (eventTime !== undefined && (typeof eventTime !== 'string' || !IDENTIFIER.test(eventTime)))
    problems.push(`event_time must be the name of a column of the snapshot, not ${JSON.stringify(eventTime)}`);
  if (problems.length > 0 || mapped === undefined) return { problems };
  return {
    problems,
    config: Object.freeze({
      targetSchema: targetSchema as string,
      snapshot: Object.freeze({
        uniqueKey: Object.freeze(uniqueKey),
        strategy: Object.freeze(mapped),
        invalidateHardDeletes: invalidate,
        columns: 'dbt' as const,
      }),
      tags: Object.freeze([...new Set(tags)]),
      enabled: enabled === true,
      ...(typeof owner === 'string' ? { owner } : {}),
      ...(typeof eventTime === 'string' ? { eventTime } : {}),
    }),
  };
}

/**
 * The `snapshots:` folder configs of `dbt_project.yml` that apply to a snapshot file in
 * `folders` (under the snapshot folder), outermost first. Keys starting with `+` and snapshot
 * config names are configs, other mappings subfolders; any other key is a problem (a misspelt
 * config is never ignored).
 */
export function snapshotFolderConfigs(tree: unknown, projectName: string, folders: readonly string[]): { levels: RawConfig[]; problems: string[] } {
  const levels: RawConfig[] = [];
  const problems: string[] = [];
  const configsOf = (node: Readonly<Record<string, unknown>>, path: string) => {
    const configs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(node)) {
      if (name.startsWith('+')) configs[name.slice(1)] = value;
      else if (SUPPORTED.has(name) || KNOWN_UNSUPPORTED.has(name)) configs[name] = value;
      else if (!isObject(value)) problems.push(`snapshots:${path} has "${name}", which is neither a snapshot config nor a folder`);
      else if (path === '' && name !== projectName)
        problems.push(`snapshots: configures "${name}", which is not this project (${projectName}): packages are not supported yet`);
    }
    return configs;
  };
  if (!isObject(tree)) return { levels, problems };
  levels.push(configsOf(tree, ''));
  let node: unknown = tree[projectName];
  let path = ` ${projectName}`;
  for (const folder of ['', ...folders]) {
    if (folder !== '') {
      node = isObject(node) ? node[folder] : undefined;
      path += ` ${folder}`;
    }
    if (!isObject(node)) break;
    levels.push(configsOf(node, path));
  }
  return { levels, problems };
}

/** A column name or a list of them; expressions (`id || '-' || kind`) are problems: dbt would hash the expression. */
function columns(value: unknown, name: string, problems: string[]): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  const bad = items.find((item) => typeof item !== 'string' || !IDENTIFIER.test(item.trim()));
  if (bad !== undefined || items.length === 0) {
    problems.push(`${name} must name column(s) of the query, not ${JSON.stringify(bad ?? value)}: expressions are not supported`);
    return [];
  }
  return items.map((item) => (item as string).trim());
}
