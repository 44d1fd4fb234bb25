/**
 * Data-quality checks as frozen, validated data: what to check, how bad a failure is, and
 * whether it blocks. Declared on an asset (`checks: [notNull('order_id')]` or a SQL header
 * `-- check: not_null(order_id)`), compiled to DuckDB SQL by resources/check-queries.ts and
 * run right after the asset is written, inside the step's transaction.
 */

import { parseDuration } from './duration.ts';
import { DefinitionError } from '../errors.ts';

/** How bad a failed check is. */
export type CheckSeverity = 'warn' | 'error';

/** What every check has. */
interface CheckCommon {
  /** Unique per asset, e.g. `not_null(order_id)`. */
  readonly name: string;
  readonly severity: CheckSeverity;
  /** A blocking failure rolls the step back: nothing is published and downstream is skipped. */
  readonly blocking: boolean;
}

/** A value `accepted_values` accepts. */
export type CheckValue = string | number | boolean;

/** What a check tests. */
export type CheckRule =
  | { readonly type: 'not_null'; readonly column: string }
  | { readonly type: 'unique'; readonly columns: readonly string[] }
  | { readonly type: 'accepted_values'; readonly column: string; readonly values: readonly CheckValue[] }
  | { readonly type: 'accepted_range'; readonly column: string; readonly min?: number; readonly max?: number }
  | { readonly type: 'relationships'; readonly column: string; readonly to: string; readonly field: string }
  | { readonly type: 'row_count'; readonly min?: number; readonly max?: number }
  | { readonly type: 'freshness'; readonly column: string; readonly maxAgeMs: number }
  | { readonly type: 'not_empty_string'; readonly column: string }
  | { readonly type: 'schema'; readonly columns: Readonly<Record<string, string>> }
  /**
   * `schema(previous)`: no column was removed or retyped since the asset's previous
   * materialization (added ones fail too when `allowAdded` is false).
   */
  | { readonly type: 'schema_change'; readonly allowAdded: boolean }
  | { readonly type: 'row_count_anomaly'; readonly lookback: number; readonly maxStdDevs?: number; readonly maxPercent?: number }
  | {
      readonly type: 'custom_sql';
      readonly sql: string;
      /** Other assets the query reads, inferred from the SQL by the project loader (see {@link withReads}). */
      readonly reads?: readonly string[];
    };

/** A check: a rule plus its name, severity and blocking flag. */
export type CheckSpec = CheckCommon & CheckRule;

/** Options every builder takes. */
export interface CheckOptions {
  /** Default: the rule in its text form, e.g. `unique(order_id, line)`. */
  readonly name?: string;
  /** Default `error`. */
  readonly severity?: CheckSeverity;
  /** Default: true for `error`, false for `warn`. */
  readonly blocking?: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Builds a frozen check; throws a DefinitionError (code `check_invalid`) on a bad argument. */
export function makeCheck(rule: CheckRule, options: CheckOptions = {}): CheckSpec {
  const name = options.name ?? ruleText(rule);
  const fail = (message: string) => new DefinitionError('check_invalid', `check ${name}: ${message}`);
  for (const column of columnsOf(rule)) {
    if (!IDENTIFIER.test(column)) throw fail(`"${column}" is not a column name (letters, digits and _)`);
  }
  const problem = ruleProblem(rule);
  if (problem) throw fail(problem);
  const severity = options.severity ?? 'error';
  if (severity !== 'warn' && severity !== 'error') throw fail(`severity must be "warn" or "error", not "${String(severity)}"`);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) throw fail('name must be a non-empty string');
  const frozenRule = Object.freeze({
    ...rule,
    ...('columns' in rule ? { columns: Object.freeze(Array.isArray(rule.columns) ? [...rule.columns] : { ...rule.columns }) } : {}),
  });
  return Object.freeze({ ...frozenRule, name, severity, blocking: options.blocking ?? severity === 'error' }) as CheckSpec;
}

/** Every value of `column` is present. */
export const notNull = (column: string, options?: CheckOptions) => makeCheck({ type: 'not_null', column }, options);
/** No two rows share the value (or the combination of values) of `columns`. */
export const unique = (columns: string | readonly string[], options?: CheckOptions) =>
  makeCheck({ type: 'unique', columns: typeof columns === 'string' ? [columns] : [...columns] }, options);
/** Every present value of `column` is one of `values`. */
export const acceptedValues = (column: string, values: readonly CheckValue[], options?: CheckOptions) =>
  makeCheck({ type: 'accepted_values', column, values: [...values] }, options);
/** Every present value of `column` is within `min` … `max` (inclusive; either may be left out). */
export const acceptedRange = (column: string, range: { readonly min?: number; readonly max?: number }, options?: CheckOptions) =>
  makeCheck({ type: 'accepted_range', column, ...range }, options);
/** Every present value of `column` exists in column `field` of asset `to`. */
export const relationships = (column: string, target: { readonly to: string; readonly field: string }, options?: CheckOptions) =>
  makeCheck({ type: 'relationships', column, to: target.to, field: target.field }, options);
/** The rows written (per partition) number between `min` and `max`. */
export const rowCount = (range: { readonly min?: number; readonly max?: number }, options?: CheckOptions) =>
  makeCheck({ type: 'row_count', ...range }, options);
/** The newest value of timestamp `column` is at most `maxAge` old (`36h`, `2d`, or milliseconds). */
export const freshness = (column: string, maxAge: string | number, options?: CheckOptions) =>
  makeCheck({ type: 'freshness', column, maxAgeMs: durationOrFail(maxAge, column) }, options);
/** No present value of `column` is empty or only spaces. */
export const notEmptyString = (column: string, options?: CheckOptions) => makeCheck({ type: 'not_empty_string', column }, options);
/** What `schema({ against: 'previous' })` compares with: the asset's previous materialization. */
export interface SchemaAgainstPrevious {
  readonly against: 'previous';
  /** Default true: added columns pass; false: any change fails. */
  readonly allowAdded?: boolean;
}

/**
 * The table has these columns with these DuckDB types (e.g. `{ order_id: 'VARCHAR', total:
 * 'DECIMAL(10,2)' }`); or, with `{ against: 'previous' }`, no column was removed or retyped since
 * the asset's previous materialization (the key `against` is reserved for this).
 *
 * @example
 * schema({ against: 'previous', allowAdded: false }) // any column change fails
 */
export function schema(columns: Readonly<Record<string, string>> | SchemaAgainstPrevious, options?: CheckOptions): CheckSpec {
  if (!('against' in columns)) return makeCheck({ type: 'schema', columns: { ...columns } }, options);
  const { against, allowAdded = true, ...rest } = columns as SchemaAgainstPrevious & Record<string, unknown>;
  const fail = (message: string) => new DefinitionError('check_invalid', `check schema(previous): ${message}`);
  if (against !== 'previous') throw fail(`against must be 'previous', not ${JSON.stringify(against)}`);
  if (typeof allowAdded !== 'boolean') throw fail('allowAdded must be true or false');
  const extra = Object.keys(rest);
  if (extra.length > 0) throw fail(`unknown option ${extra.join(', ')} (options: against, allowAdded)`);
  return makeCheck({ type: 'schema_change', allowAdded }, options);
}
/**
 * A partition's row count is within `maxStdDevs` standard deviations, or `maxPercent` percent,
 * of the average of the `lookback` partitions before it (read from stored history).
 */
export const rowCountAnomaly = (options: { readonly lookback?: number; readonly maxStdDevs?: number; readonly maxPercent?: number } & CheckOptions = {}) => {
  const { lookback = 14, maxStdDevs, maxPercent, ...common } = options;
  const rule = {
    type: 'row_count_anomaly' as const,
    lookback,
    ...(maxStdDevs === undefined ? {} : { maxStdDevs }),
    ...(maxPercent === undefined ? {} : { maxPercent }),
  };
  return makeCheck(rule, common) as Extract<CheckSpec, { type: 'row_count_anomaly' }>;
};
/** A query returning the violating rows; `{{ this }}` is the asset's table. */
export const customSql = (name: string, sql: string, options: Omit<CheckOptions, 'name'> = {}) => makeCheck({ type: 'custom_sql', sql }, { ...options, name });

/**
 * The other assets a check reads: a `relationships` target, or the tables a custom SQL check
 * reads (as inferred by the loader). They are the check's dependencies: the asset orders after
 * them, but they do not count for its staleness.
 *
 * @example
 * checkReads(relationships('order_id', { to: 'staging/orders', field: 'order_id' }), 'staging/payments') // ['staging/orders']
 */
export function checkReads(check: CheckSpec, ownKey: string): string[] {
  const reads = check.type === 'relationships' ? [check.to] : check.type === 'custom_sql' ? [...(check.reads ?? [])] : [];
  return reads.filter((key) => key !== ownKey);
}

/** A custom SQL check with the assets its query reads (other checks are returned as they are). */
export function withReads(check: CheckSpec, reads: readonly string[]): CheckSpec {
  if (check.type !== 'custom_sql') return check;
  return Object.freeze({ ...check, reads: Object.freeze([...new Set(reads)].sort()) });
}

/** The text form of a rule, as a SQL header writes it: `unique(order_id, line)`. */
export function ruleText(rule: CheckRule): string {
  switch (rule.type) {
    case 'not_null':
    case 'not_empty_string':
      return `${rule.type}(${rule.column})`;
    case 'unique':
      return `unique(${rule.columns.join(', ')})`;
    case 'accepted_values':
      return `accepted_values(${rule.column}, ${rule.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
    case 'accepted_range':
      return `accepted_range(${[rule.column, ...(rule.min === undefined ? [] : [`min=${rule.min}`]), ...(rule.max === undefined ? [] : [`max=${rule.max}`])].join(', ')})`;
    case 'relationships':
      return `relationships(${rule.column}, ${rule.to}.${rule.field})`;
    case 'row_count':
      return `row_count(${[...(rule.min === undefined ? [] : [`min=${rule.min}`]), ...(rule.max === undefined ? [] : [`max=${rule.max}`])].join(', ')})`;
    case 'freshness':
      return `freshness(${rule.column}, ${rule.maxAgeMs}ms)`;
    case 'schema':
      return `schema(${Object.entries(rule.columns)
        .map(([c, t]) => `${c} ${t}`)
        .join(', ')})`;
    case 'schema_change':
      return rule.allowAdded ? 'schema(previous)' : 'schema(previous, allow_added=false)';
    case 'row_count_anomaly':
      return `row_count_anomaly(${[`lookback=${rule.lookback}`, ...(rule.maxStdDevs === undefined ? [] : [`max_std_devs=${rule.maxStdDevs}`]), ...(rule.maxPercent === undefined ? [] : [`max_percent=${rule.maxPercent}`])].join(', ')})`;
    case 'custom_sql':
      return 'custom_sql';
  }
}

/** The asset's own columns a rule names (for validation). */
export function columnsOf(rule: CheckRule): string[] {
  switch (rule.type) {
    case 'unique':
      return [...rule.columns];
    case 'schema':
      return Object.keys(rule.columns);
    case 'row_count':
    case 'row_count_anomaly':
    case 'schema_change':
    case 'custom_sql':
      return [];
    case 'relationships':
      return [rule.column, rule.field];
    default:
      return [rule.column];
  }
}

function ruleProblem(rule: CheckRule): string | undefined {
  const finite = (n: number | undefined) => n === undefined || Number.isFinite(n);
  switch (rule.type) {
    case 'unique':
      return rule.columns.length === 0 ? 'unique needs at least one column' : undefined;
    case 'accepted_values':
      return rule.values.length === 0 ? 'accepted_values needs at least one value' : undefined;
    case 'accepted_range':
    case 'row_count':
      if (!finite(rule.min) || !finite(rule.max)) return 'min and max must be numbers';
      if (rule.min === undefined && rule.max === undefined) return 'give min, max or both';
      return rule.min !== undefined && rule.max !== undefined && rule.min > rule.max ? `min ${rule.min} is above max ${rule.max}` : undefined;
    case 'relationships':
      return rule.to.includes('/') ? undefined : `"${rule.to}" is not an asset key (layer/name)`;
    case 'schema':
      return Object.keys(rule.columns).length === 0 ? 'schema needs at least one column' : undefined;
    case 'row_count_anomaly':
      if (!Number.isInteger(rule.lookback) || rule.lookback < 2) return 'lookback must be a whole number of at least 2 partitions';
      if (rule.maxStdDevs === undefined && rule.maxPercent === undefined) return 'give max_std_devs or max_percent';
      return [rule.maxStdDevs, rule.maxPercent].some((n) => n !== undefined && !(n > 0)) ? 'max_std_devs and max_percent must be positive' : undefined;
    case 'custom_sql':
      return rule.sql.trim() === '' ? 'the query is empty' : undefined;
    default:
      return undefined;
  }
}

function durationOrFail(value: string | number, column: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new DefinitionError('check_invalid', `check freshness(${column}): "${String(value)}" is not a duration (e.g. 36h, 2d)`);
  return ms;
}

/** The first check name used twice in `checks`, if any (names must be unique per asset). */
export function duplicateCheckName(checks: readonly CheckSpec[]): string | undefined {
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name)) return check.name;
    seen.add(check.name);
  }
  return undefined;
}
