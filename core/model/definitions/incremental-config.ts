/**
 * Incremental models: how a SQL asset with `materialization: incremental` (or a TypeScript
 * asset with `incremental(...)`) changes its table instead of rebuilding it.
 *
 * ```sql
 * -- materialization: incremental
 * -- unique_key: order_id              (one or more columns)
 * -- incremental_strategy: merge       (merge | append | delete+insert)
 * -- watermark: updated_at             (the column behind {{ watermark }})
 * -- on_schema_change: fail            (fail | append_new_columns | sync_all_columns)
 * select * from raw.orders where updated_at > {{ watermark }}
 * ```
 *
 * Parsing is pure; the writes live in `resources/incremental-writes.ts`.
 */

/** How new rows reach the table. */
export type IncrementalStrategy = 'merge' | 'append' | 'delete+insert';

/** What happens when the query's columns differ from the table's. */
export type OnSchemaChange = 'fail' | 'append_new_columns' | 'sync_all_columns';

/** How an incremental write is done (`ctx.warehouse.merge`). */
export interface MergeOptions {
  /** Columns identifying a row (needed by `merge` and `delete+insert`). */
  readonly uniqueKey?: string | readonly string[];
  /** Default: `merge` with a unique key, else `append`. */
  readonly strategy?: IncrementalStrategy;
  /** Default: `fail`. */
  readonly onSchemaChange?: OnSchemaChange;
}

/** What an incremental write did: `full` when it (re)built the table. */
export interface MergeResult {
  readonly mode: 'incremental' | 'full';
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  /** Rows in the table afterwards (in a partitioned step: in the step's window). */
  readonly rowCount: number;
}

/** An incremental asset's settings, validated and with defaults. */
export interface IncrementalConfig {
  /** Columns identifying a row; empty for `append`. */
  readonly uniqueKey: readonly string[];
  readonly strategy: IncrementalStrategy;
  /** The column behind `{{ watermark }}` (`ctx.watermark`). */
  readonly watermark?: string;
  readonly onSchemaChange: OnSchemaChange;
  /**
   * dbt's microbatch (a partitioned asset only): each step's window is replaced wholly by the
   * query's rows, as a partitioned table's is, and `{{ is_incremental }}` says whether the table
   * exists (not whether the window has rows). The strategy and unique key are then unused.
   * `lookback`: how many batches before the newest one `materialize --stale-only` builds again.
   */
  readonly microbatch?: { readonly lookback: number };
}

/** What {@link incremental} accepts. */
export interface IncrementalOptions {
  readonly uniqueKey?: string | readonly string[];
  /** Default: `merge` with a unique key, else `append`. */
  readonly strategy?: IncrementalStrategy;
  readonly watermark?: string;
  /** Default: `fail`. */
  readonly onSchemaChange?: OnSchemaChange;
}

/** The header fields of incremental SQL assets. */
export const INCREMENTAL_HEADER_FIELDS = ['unique_key', 'incremental_strategy', 'watermark', 'on_schema_change'] as const;

const STRATEGIES: readonly IncrementalStrategy[] = ['merge', 'append', 'delete+insert'];
const SCHEMA_CHANGES: readonly OnSchemaChange[] = ['fail', 'append_new_columns', 'sync_all_columns'];
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates incremental options; throws an `Error` whose message names the bad setting.
 *
 * @example
 * incremental({ uniqueKey: 'order_id', watermark: 'updated_at' });
 * // { uniqueKey: ['order_id'], strategy: 'merge', watermark: 'updated_at', onSchemaChange: 'fail' }
 */
export function incremental(options: IncrementalOptions = {}): IncrementalConfig {
  const uniqueKey = typeof options.uniqueKey === 'string' ? [options.uniqueKey] : [...(options.uniqueKey ?? [])];
  for (const column of [...uniqueKey, ...(options.watermark === undefined ? [] : [options.watermark])]) {
    if (!COLUMN.test(column)) throw new Error(`"${column}" is not a column name (letters, digits and _)`);
  }
  if (new Set(uniqueKey).size !== uniqueKey.length) throw new Error(`unique_key names a column twice (${uniqueKey.join(', ')})`);
  const strategy = options.strategy ?? (uniqueKey.length > 0 ? 'merge' : 'append');
  if (!STRATEGIES.includes(strategy)) throw new Error(`unknown incremental_strategy "${strategy}" (use ${STRATEGIES.join(', ')})`);
  if (strategy !== 'append' && uniqueKey.length === 0) throw new Error(`incremental_strategy ${strategy} needs unique_key: the columns identifying a row`);
  const onSchemaChange = options.onSchemaChange ?? 'fail';
  if (!SCHEMA_CHANGES.includes(onSchemaChange)) throw new Error(`unknown on_schema_change "${onSchemaChange}" (use ${SCHEMA_CHANGES.join(', ')})`);
  return Object.freeze({
    uniqueKey: Object.freeze(uniqueKey),
    strategy,
    ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
    onSchemaChange,
  });
}

/**
 * Reads the incremental fields of a SQL header (`field` returns a field's first value). Returns
 * the config for `materialization: incremental`, `undefined` otherwise; incremental fields on
 * another materialization, and bad values, are reported through `fail`.
 */
export function parseIncrementalHeader(
  materialization: string | undefined,
  field: (name: (typeof INCREMENTAL_HEADER_FIELDS)[number]) => string | undefined,
  fail: (code: string, message: string, cause?: unknown) => void,
): IncrementalConfig | undefined {
  // unique_key also configures snapshots (snapshot-config.ts reports it on tables and views).
  const given = INCREMENTAL_HEADER_FIELDS.filter((name) => name !== 'unique_key' && field(name) !== undefined);
  if (materialization !== 'incremental') {
    if (given.length > 0) fail('sql_header_invalid', `${given.join(', ')} only apply to materialization: incremental`);
    return undefined;
  }
  const key = field('unique_key');
  try {
    return incremental({
      ...(key === undefined
        ? {}
        : {
            uniqueKey: key
              .split(',')
              .map((c) => c.trim())
              .filter((c) => c !== ''),
          }),
      ...(field('incremental_strategy') === undefined ? {} : { strategy: field('incremental_strategy') as IncrementalStrategy }),
      ...(field('watermark') === undefined ? {} : { watermark: field('watermark') as string }),
      ...(field('on_schema_change') === undefined ? {} : { onSchemaChange: field('on_schema_change') as OnSchemaChange }),
    });
  } catch (error) {
    fail('sql_header_invalid', (error as Error).message, error);
    return undefined;
  }
}

/** What an incremental build did, as the materialization metadata records it. */
export interface IncrementalCounts {
  readonly build: 'incremental' | 'full';
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  /** The watermark the build read (`null` on a full build); absent without a watermark column. */
  readonly watermark?: string | null;
}

/** The incremental counts of a materialization's metadata, if it has them. */
export function incrementalCounts(metadata: Readonly<Record<string, unknown>> | undefined): IncrementalCounts | undefined {
  const build = metadata?.build;
  if (build !== 'incremental' && build !== 'full') return undefined;
  const count = (name: string) => (typeof metadata?.[name] === 'number' ? (metadata[name] as number) : 0);
  const watermark = metadata?.watermark;
  return {
    build,
    rowsInserted: count('rowsInserted'),
    rowsUpdated: count('rowsUpdated'),
    rowsDeleted: count('rowsDeleted'),
    ...(watermark === undefined ? {} : { watermark: watermark === null ? null : String(watermark) }),
  };
}
