/**
 * One test of a `schema.yml` entry as written, read into its parts: which test, its keyword
 * arguments and its config. dbt accepts a test as a name (`- unique`), as `{ name: arguments }`
 * (`- accepted_values: { values: [...] }`), or with `test_name:` beside its own `name:`; its
 * config sits beside the arguments or under `config:` (which wins), and since dbt 1.10 its
 * arguments may sit under `arguments:`.
 * Pure: what cannot be run is returned as a problem, never dropped.
 */
import { customSql, type CheckSeverity, type CheckSpec } from '../definitions/check-spec.ts';
import { isObject } from './dbt-config.ts';

/** A test's config, as Strata runs it. */
export interface DbtTestConfig {
  /** Absent when not given: the test definition's `config()`, else `error`. */
  readonly severity?: CheckSeverity;
  /** A SQL condition: only the rows it selects are tested. */
  readonly where?: string;
  /** dbt's conditions on the number of failing rows (`> 0`), when given. */
  readonly warnIf?: string;
  readonly errorIf?: string;
  readonly enabled: boolean;
  /** `name:` or `alias:`: the check's name instead of the one Strata gives it. */
  readonly name?: string;
}

/** One test as written: the test's name (`unique`, `is_even`, `dbt_utils.expression_is_true`), its arguments and config. */
export interface DbtTestEntry {
  readonly test: string;
  /** Its keyword arguments, config keys taken out. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Its config, over the project's. */
  readonly config: DbtTestConfig;
  /** Its own config as written (beside the arguments and under `config:`), without the project's. */
  readonly own: Readonly<Record<string, unknown>>;
}

/** Keys that are the test's config when written beside its arguments. */
const CONFIG_BESIDE = new Set(['severity', 'where', 'warn_if', 'error_if', 'enabled', 'name', 'alias', 'tags', 'meta', 'description', 'docs', 'config']);
/** Configs that only document or select: nothing run changes. */
const DOCUMENTATION = new Set(['tags', 'meta', 'description', 'docs', 'group']);
/** Configs of dbt's that change what a test stores or counts, which Strata does not do yet. */
const UNSUPPORTED = new Set(['limit', 'fail_calc', 'store_failures', 'store_failures_as']);

const THRESHOLD = /^\s*(>=|<=|!=|<>|==|=|>|<)\s*(\d+)\s*$/;

/**
 * A `tests:`/`data_tests:` list item as its test, arguments and config, or why it cannot be read.
 * `projectConfig` (from `dbt_project.yml`) is under the test's own config.
 */
export function parseTestEntry(item: unknown, projectConfig: Readonly<Record<string, unknown>> = {}): DbtTestEntry | string {
  let test: string;
  let raw: Readonly<Record<string, unknown>>;
  if (typeof item === 'string') {
    test = item;
    raw = {};
  } else if (isObject(item) && typeof item.test_name === 'string') {
    const { test_name, ...rest } = item;
    test = test_name as string;
    raw = rest;
  } else if (isObject(item) && Object.keys(item).length === 1) {
    test = Object.keys(item)[0] as string;
    const value = item[test];
    if (value !== null && value !== undefined && !isObject(value)) return `test ${test}: its arguments must be a mapping (- ${test}: { argument: value })`;
    raw = isObject(value) ? value : {};
  } else return 'a test is a name (- unique) or one name with its arguments (- accepted_values: { values: [...] })';
  if (CONFIG_BESIDE.has(test)) return 'a test needs a name';
  const args: Record<string, unknown> = {};
  const beside: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'arguments' && isObject(value)) Object.assign(args, value);
    else if (CONFIG_BESIDE.has(key) && key !== 'config') beside[key] = value;
    else if (UNSUPPORTED.has(key)) return `test ${test}: "${key}" is not supported yet`;
    else if (key !== 'config') args[key] = value;
  }
  if (raw.config !== undefined && !isObject(raw.config)) return `test ${test}: config must be a mapping`;
  const own = { ...beside, ...(isObject(raw.config) ? raw.config : {}) };
  const config = readTestConfig(test, { ...projectConfig, ...own });
  return typeof config === 'string' ? config : { test, args, config, own };
}

/** The config of test `test` from its keys (`severity`, `where`, `warn_if`…), or why it cannot be run. */
export function readTestConfig(test: string, raw: Readonly<Record<string, unknown>>): DbtTestConfig | string {
  let enabled = true;
  const out: { severity?: CheckSeverity; where?: string; warnIf?: string; errorIf?: string; name?: string } = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'severity') {
      const lower = typeof value === 'string' ? value.toLowerCase() : '';
      if (lower !== 'warn' && lower !== 'error') return `test ${test}: severity must be warn or error, not "${String(value)}"`;
      out.severity = lower;
    } else if (key === 'where') {
      if (typeof value !== 'string') return `test ${test}: where must be a SQL condition`;
      out.where = value;
    } else if (key === 'warn_if' || key === 'error_if') {
      const match = THRESHOLD.exec(String(value));
      if (match === null) return `test ${test}: ${key} must compare the number of failing rows with a number (">10", "!= 0"), not "${String(value)}"`;
      out[key === 'warn_if' ? 'warnIf' : 'errorIf'] = `${match[1] === '==' ? '=' : match[1]} ${match[2]}`;
    } else if (key === 'enabled') {
      if (typeof value !== 'boolean') return `test ${test}: enabled must be true or false`;
      enabled = value;
    } else if (key === 'name' || key === 'alias') {
      if (typeof value !== 'string' || value.trim() === '') return `test ${test}: ${key} must be a name`;
      out.name = value;
    } else if (UNSUPPORTED.has(key)) return `test ${test}: "${key}" is not supported yet`;
    else if (!DOCUMENTATION.has(key)) return `test ${test}: config "${key}" is not supported yet`;
  }
  return { enabled, ...out };
}

/**
 * A test's checks from the custom SQL check `made` of its failing rows. Without `warn_if` and
 * `error_if` it is the check itself. With them (dbt's conditions on the number of failing rows,
 * `!= 0` by default), one check selects the count when `error_if` holds (blocking, for severity
 * `error`), and one when `warn_if` holds and `error_if` does not (a warning), as dbt grades it.
 */
export function gradedChecks(made: CheckSpec, config: DbtTestConfig): CheckSpec[] {
  if ((config.warnIf === undefined && config.errorIf === undefined) || made.type !== 'custom_sql') return [made];
  const warnIf = config.warnIf ?? '!= 0';
  const errorIf = config.errorIf ?? '!= 0';
  const counted = `select failures from (select count(*) as failures from (${made.sql}) as dbt_test) as counted where`;
  const checks: CheckSpec[] = [];
  if (made.severity === 'error') checks.push(customSql(`${made.name} error_if ${errorIf}`, `${counted} failures ${errorIf}`, { severity: 'error' }));
  const warnWhen = made.severity === 'error' ? `failures ${warnIf} and not (failures ${errorIf})` : `failures ${warnIf}`;
  checks.push(customSql(`${made.name} warn_if ${warnIf}`, `${counted} ${warnWhen}`, { severity: 'warn' }));
  return checks;
}
