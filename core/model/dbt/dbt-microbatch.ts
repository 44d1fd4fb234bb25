/**
 * dbt's `microbatch` incremental strategy (dbt ≥ 1.9) as Strata time partitions: a model with
 * `materialized='incremental', incremental_strategy='microbatch'` is a partitioned asset whose
 * batches are its partitions — `hourly`, `daily` or `monthly` windows in UTC from the batch that
 * holds `begin`, up to the batch in progress (dbt runs it too) — and whose partition column is
 * its `event_time`. A batch's write replaces that window's rows, as dbt's does.
 *
 * In the model, `ref()` of a node with `event_time` configured reads only the batch's rows of it
 * (dbt's automatic filter, a subquery over `{{ partition_start }}` and `{{ partition_end }}`);
 * `ref(…).render()` and refs to nodes without `event_time` read the whole table.
 *
 * Pure: the configs come merged from dbt-config.ts.
 */
import { daily, hourly, monthly } from '../partitions/index.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import { quoteIdentifier } from '../definitions/asset-key.ts';
import type { DbtModelConfig } from './dbt-config.ts';

/** A microbatch model's batches, checked. */
export interface DbtMicrobatch {
  /** The column placing a row in its batch: the asset's partition column. */
  readonly eventTime: string;
  readonly batchSize: 'hour' | 'day' | 'month';
  /** How many batches before the newest one a `--stale-only` run builds again (default 1). */
  readonly lookback: number;
  /** The batches, as Strata partitions. */
  readonly partitions: PartitionsDefinition;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `2024-01-01`, `2024-01-01 06:00`, `2024-01-01T06:00:00`, optionally with `Z` or `+00:00`. */
const BEGIN = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]00:?00)?$/;

/**
 * The batches of a model whose `incremental_strategy` is `microbatch` (`undefined` for any other
 * model), or the problems of its configuration. `event_time` alone is no problem on any model (it
 * marks a model microbatch models filter); the other microbatch configs only apply to them.
 * `unique_key` is accepted and unused, as dbt-duckdb's microbatch does (a batch replaces its window).
 *
 * @example
 * dbtMicrobatch({ ...config, materialized: 'incremental', incrementalStrategy: 'microbatch',
 *   microbatch: { event_time: 'ordered_at', begin: '2025-01-01', batch_size: 'day' } });
 * // { microbatch: { eventTime: 'ordered_at', batchSize: 'day', lookback: 1, partitions: daily(2025-01-01, UTC) }, problems: [] }
 */
export function dbtMicrobatch(config: DbtModelConfig): { microbatch?: DbtMicrobatch; problems: string[] } {
  const given = config.microbatch ?? {};
  const problems: string[] = [];
  if (config.incrementalStrategy !== 'microbatch') {
    const stray = Object.keys(given).filter((name) => name !== 'event_time');
    if (stray.length > 0) problems.push(`config ${stray.join(', ')} only applies to incremental_strategy='microbatch'`);
    if (given.event_time !== undefined && !(typeof given.event_time === 'string' && COLUMN.test(given.event_time)))
      problems.push('config "event_time" must name a column');
    return { problems };
  }
  if (config.materialized !== 'incremental')
    problems.push(`incremental_strategy='microbatch' needs materialized='incremental' (this model is materialized '${config.materialized}')`);
  const eventTime = given.event_time;
  if (eventTime === undefined) problems.push('a microbatch model needs event_time: the column whose value places a row in its batch');
  else if (typeof eventTime !== 'string' || !COLUMN.test(eventTime)) problems.push('config "event_time" must name a column');
  const batchSize = given.batch_size;
  if (batchSize === undefined) problems.push("a microbatch model needs batch_size ('hour', 'day' or 'month')");
  else if (batchSize === 'year') problems.push("batch_size 'year' is not supported: Strata has no yearly partitions (use 'hour', 'day' or 'month')");
  else if (batchSize !== 'hour' && batchSize !== 'day' && batchSize !== 'month')
    problems.push(`batch_size '${String(batchSize)}' is not one of 'hour', 'day', 'month'`);
  const begin = beginOf(given.begin);
  if (given.begin === undefined) problems.push("a microbatch model needs begin: the date (or timestamp) of its first batch, e.g. begin='2025-01-01'");
  else if (begin === undefined) problems.push(`begin '${String(given.begin)}' is not a date or timestamp (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC)`);
  const lookback = given.lookback ?? 1;
  if (typeof lookback !== 'number' || !Number.isInteger(lookback) || lookback < 0) problems.push('config "lookback" must be an integer ≥ 0');
  const concurrent = given.concurrent_batches;
  if (concurrent !== undefined && concurrent !== null && typeof concurrent !== 'boolean') problems.push('config "concurrent_batches" must be true or false');
  if (problems.length > 0 || begin === undefined) return { problems };
  const size = batchSize as DbtMicrobatch['batchSize'];
  return {
    problems,
    microbatch: Object.freeze({ eventTime: eventTime as string, batchSize: size, lookback: lookback as number, partitions: batches(size, begin) }),
  };
}

/** The batches from the one holding `begin` (UTC), up to the one in progress. */
function batches(size: DbtMicrobatch['batchSize'], begin: readonly number[]): PartitionsDefinition {
  const [year, month, day, hour] = begin.map((n) => String(n).padStart(2, '0'));
  const options = { timezone: 'UTC', endOffset: 1 };
  if (size === 'hour') return hourly({ ...options, start: `${year}-${month}-${day}-${hour}:00` });
  if (size === 'day') return daily({ ...options, start: `${year}-${month}-${day}` });
  return monthly({ ...options, start: `${year}-${month}-01` });
}

/** Year, month, day and hour of `begin` (a string, or the Date YAML reads an unquoted date as). */
function beginOf(value: unknown): number[] | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime()))
    return [value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate(), value.getUTCHours()];
  if (typeof value !== 'string') return undefined;
  const match = BEGIN.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hour] = [match[1], match[2], match[3], match[4] ?? '0'].map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || Number(match[5] ?? 0) > 59) return undefined;
  return [year, month, day, hour];
}

/**
 * What `ref()` of a node with `event_time` reads in a microbatch model: the relation's rows of
 * the batch (dbt's filter: `event_time >= batch start and event_time < batch end`). With `alias`
 * (the node's name) the subquery is named `_dbt_et_filter_subq_<name>`, as dbt-postgres names it
 * and Postgres before 16 needs; without, the model may alias it itself (`from {{ ref('x') }} e`).
 */
export function batchFilteredRelation(relation: string, eventTime: string, alias?: string): string {
  const column = quoteIdentifier(eventTime);
  const filtered = `(select * from ${relation} where ${column} >= {{ partition_start }} and ${column} < {{ partition_end }})`;
  return alias === undefined ? filtered : `${filtered} ${quoteIdentifier(`_dbt_et_filter_subq_${alias}`)}`;
}
