/**
 * How a dbt node becomes a Strata asset: its key, its DuckDB table, and the SQL header a `.sql`
 * asset file would have written (so a dbt model is built by exactly the code that builds SQL assets).
 *
 * Keys and schemas: a model's key is its path under `models/` without `.sql`
 * (`staging/stg_orders`); its first folder is the layer, which is the DuckDB schema, and deeper
 * folders join the table name with `__` (`marts/finance/orders` is `marts.finance__orders`). A
 * model directly in `models/` has no folder: its layer is `main`, the schema dbt-duckdb puts it in
 * (`customers` is `main/customers`, table `main.customers`). A `schema` config names the schema
 * itself: the key becomes `<schema>/<model name>`. Seeds are `seeds/<name>`, as Strata's own seeds.
 */
import { keyProblem, qualifiedTableName } from '../definitions/asset-key.ts';
import { incremental, type IncrementalConfig, type IncrementalStrategy, type OnSchemaChange } from '../definitions/incremental-config.ts';
import type { SqlHeader } from '../definitions/sql-asset-file.ts';
import type { CheckSpec } from '../definitions/check-spec.ts';
import type { DbtModelConfig } from './dbt-config.ts';

/** The layer of models directly under `models/`: DuckDB's default schema, where dbt-duckdb builds them. */
export const DBT_DEFAULT_LAYER = 'main';

/** The kind every dbt asset carries (beside `sql` and `duckdb`). */
export const DBT_KIND = 'dbt';

/**
 * The asset key of a model at `path` (under `models/`, without `.sql`), given its `schema` config
 * and the layer of models directly in `models/` (`target.schema`: `main` on DuckDB).
 *
 * @example
 * dbtModelKey('staging/stg_orders') // 'staging/stg_orders'
 * dbtModelKey('customers') // 'main/customers'
 * dbtModelKey('marts/finance/orders', 'finance') // 'finance/orders'
 */
export function dbtModelKey(path: string, schema?: string, rootLayer = DBT_DEFAULT_LAYER): string {
  const segments = path.split('/');
  const name = segments[segments.length - 1] as string;
  if (schema !== undefined) return `${schema}/${name}`;
  return segments.length === 1 ? `${rootLayer}/${name}` : path;
}

/** Why `key` (of a dbt node) cannot be an asset key, if it cannot. */
export function dbtKeyProblem(key: string): string | undefined {
  const problem = keyProblem(key);
  return problem === undefined ? undefined : `${problem} (the key comes from the model's path under models/ and its schema config)`;
}

/** The relation `{{ ref() }}` renders for a node with this key: its quoted, qualified DuckDB table. */
export function dbtRelation(key: string): string {
  return qualifiedTableName(key);
}

/** dbt's incremental strategies that Strata runs, by their dbt names. */
const STRATEGIES: Readonly<Record<string, IncrementalStrategy>> = { merge: 'merge', append: 'append', 'delete+insert': 'delete+insert' };

/**
 * The incremental settings of a dbt model. dbt-duckdb's default strategy is `delete+insert` with a
 * `unique_key` and `append` without one. `on_schema_change: ignore` (dbt's default) is run as
 * `fail`: Strata never drops a new column silently, it stops and says so.
 */
export function dbtIncrementalConfig(config: DbtModelConfig): { config?: IncrementalConfig; problem?: string } {
  const strategyName = config.incrementalStrategy ?? (config.uniqueKey.length > 0 ? 'delete+insert' : 'append');
  const strategy = STRATEGIES[strategyName];
  if (strategy === undefined) return { problem: `incremental_strategy "${strategyName}" is not supported (use merge, append or delete+insert)` };
  const change = config.onSchemaChange ?? 'ignore';
  if (!['ignore', 'fail', 'append_new_columns', 'sync_all_columns'].includes(change)) {
    return { problem: `on_schema_change "${change}" is not one of ignore, fail, append_new_columns, sync_all_columns` };
  }
  try {
    return {
      config: incremental({
        ...(config.uniqueKey.length > 0 ? { uniqueKey: config.uniqueKey } : {}),
        strategy,
        onSchemaChange: (change === 'ignore' ? 'fail' : change) as OnSchemaChange,
      }),
    };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** What a dbt model's header is built from. */
export interface DbtHeaderInput {
  readonly config: DbtModelConfig;
  readonly description?: string;
  readonly checks: readonly CheckSpec[];
  readonly incremental?: IncrementalConfig;
}

/**
 * The SQL header equivalent to a dbt model's configuration: materialization, tags (dbt tags are
 * Strata tags without a value), owner, description, checks and kind `dbt`.
 */
export function dbtSqlHeader({ config, description, checks, incremental: incrementalConfig }: DbtHeaderInput): SqlHeader {
  const tags: Record<string, string> = {};
  for (const tag of config.tags) tags[tag] = '';
  return Object.freeze({
    deps: Object.freeze([]),
    checks: Object.freeze([...checks]),
    tags: Object.freeze(tags),
    owners: Object.freeze(config.owner === undefined ? [] : [config.owner]),
    ...(description === undefined || description === '' ? {} : { description }),
    kinds: Object.freeze([DBT_KIND]),
    materialization: config.materialized === 'view' ? 'view' : config.materialized === 'incremental' ? 'incremental' : 'table',
    partitionMappings: Object.freeze({}),
    ...(incrementalConfig === undefined ? {} : { incremental: incrementalConfig }),
  });
}
