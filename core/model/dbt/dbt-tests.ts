/**
 * dbt's generic tests of a `schema.yml` model entry (`unique`, `not_null`, `accepted_values`,
 * `relationships`, under a column's `tests:` or `data_tests:`) as Strata checks on the model.
 * `severity: error` (dbt's default) makes the check blocking, so a failing test stops the publish;
 * `severity: warn` records it without blocking. A `where` config becomes a custom SQL check with
 * the same rule, restricted to the rows it selects.
 */
import { acceptedValues, customSql, notNull, relationships, unique, type CheckSeverity, type CheckSpec, type CheckValue } from '../definitions/check-spec.ts';
import { qualifiedTableName } from '../definitions/asset-key.ts';
import { isObject } from './dbt-config.ts';

/** Resolves a `ref('x')` or `source('a', 'b')` of a `relationships` test to an asset key. */
export type RelationResolver = (call: string) => { key: string } | { problem: string };

/** The checks of one model's `schema.yml` entry, and the problems found in its tests. */
export function dbtModelChecks(entry: Readonly<Record<string, unknown>>, resolve: RelationResolver): { checks: CheckSpec[]; problems: string[] } {
  const checks: CheckSpec[] = [];
  const problems: string[] = [];
  for (const test of testsOf(entry)) problems.push(`test ${testName(test)} on the model itself is not supported yet (only column tests)`);
  const columns = Array.isArray(entry.columns) ? entry.columns : [];
  for (const column of columns) {
    if (!isObject(column) || typeof column.name !== 'string') {
      problems.push('a column entry needs a name');
      continue;
    }
    for (const test of testsOf(column)) {
      const made = columnCheck(column.name, test, resolve);
      if (typeof made === 'string') problems.push(`column ${column.name}: ${made}`);
      else checks.push(...made);
    }
  }
  return { checks, problems };
}

/** A column's or model's tests (`tests:`, or `data_tests:` since dbt 1.8). */
function testsOf(node: Readonly<Record<string, unknown>>): unknown[] {
  return [...(Array.isArray(node.tests) ? node.tests : []), ...(Array.isArray(node.data_tests) ? node.data_tests : [])];
}

function testName(test: unknown): string {
  if (typeof test === 'string') return test;
  return isObject(test) ? (Object.keys(test)[0] ?? '?') : '?';
}

/** Test arguments Strata reads; config keys may also sit beside them (dbt accepts both). */
const CONFIG_KEYS = new Set(['severity', 'where', 'config', 'name', 'description']);

const THRESHOLD = /^\s*(>=|<=|!=|<>|==|=|>|<)\s*(\d+)\s*$/;

/**
 * One column test as checks, or why it cannot be. With `warn_if`/`error_if` (dbt's conditions on
 * the number of failing rows, `!= 0` by default) a test is a custom SQL check selecting its count
 * when `error_if` holds (blocking, for severity `error`), and one selecting it when `warn_if`
 * holds and `error_if` does not (a warning), as dbt grades it.
 */
function columnCheck(column: string, test: unknown, resolve: RelationResolver): CheckSpec[] | string {
  const name = testName(test);
  const raw = isObject(test) ? test[name] : {};
  const args = isObject(raw) ? raw : {};
  const config = { ...args, ...(isObject(args.config) ? args.config : {}) };
  for (const key of Object.keys(config)) {
    if (key === 'limit' || key === 'fail_calc' || key === 'store_failures') return `test ${name}: "${key}" is not supported yet`;
  }
  const thresholds: Record<'warn_if' | 'error_if', string> = { warn_if: '!= 0', error_if: '!= 0' };
  for (const key of ['warn_if', 'error_if'] as const) {
    const value = config[key];
    if (value === undefined) continue;
    const match = THRESHOLD.exec(String(value));
    if (match === null) return `test ${name}: ${key} must compare the number of failing rows with a number (">10", "!= 0"), not "${String(value)}"`;
    thresholds[key] = `${match[1] === '==' ? '=' : match[1]} ${match[2]}`;
  }
  const graded = config.warn_if !== undefined || config.error_if !== undefined;
  const made = singleCheck(name, column, args, config, resolve, graded);
  if (typeof made === 'string' || !graded) return typeof made === 'string' ? made : [made];
  if (made.type !== 'custom_sql') return [made];
  const counted = `select failures from (select count(*) as failures from (${made.sql}) as dbt_test) as counted where`;
  const label = config.where === undefined ? made.name.replace(/ where true$/, '') : made.name;
  const checks: CheckSpec[] = [];
  if (made.severity === 'error')
    checks.push(customSql(`${label} error_if ${thresholds.error_if}`, `${counted} failures ${thresholds.error_if}`, { severity: 'error' }));
  const warnWhen = made.severity === 'error' ? `failures ${thresholds.warn_if} and not (failures ${thresholds.error_if})` : `failures ${thresholds.warn_if}`;
  checks.push(customSql(`${label} warn_if ${thresholds.warn_if}`, `${counted} ${warnWhen}`, { severity: 'warn' }));
  return checks;
}

/** One column test as a check (as a custom SQL check of its failing rows when `asSql`), or why it cannot be one. */
function singleCheck(
  name: string,
  column: string,
  args: Readonly<Record<string, unknown>>,
  config: Readonly<Record<string, unknown>>,
  resolve: RelationResolver,
  asSql: boolean,
): CheckSpec | string {
  const severity = severityOf(config.severity);
  if (severity === undefined) return `test ${name}: severity must be warn or error, not "${String(config.severity)}"`;
  const given = config.where;
  if (given !== undefined && typeof given !== 'string') return `test ${name}: where must be a SQL condition`;
  const where = given ?? (asSql ? 'true' : undefined);
  const options = { severity };
  const filter = where === undefined ? undefined : `(${where})`;
  const self = '{{ this }}';
  switch (name) {
    case 'not_null':
      return filter === undefined
        ? notNull(column, options)
        : customSql(`not_null(${column}) where ${where}`, `select * from ${self} where ${filter} and ${column} is null`, options);
    case 'unique':
      return filter === undefined
        ? unique(column, options)
        : customSql(
            `unique(${column}) where ${where}`,
            `select ${column} from ${self} where ${filter} and ${column} is not null group by ${column} having count(*) > 1`,
            options,
          );
    case 'accepted_values': {
      const values = args.values;
      if (!Array.isArray(values) || values.length === 0) return 'test accepted_values needs values: [...]';
      if (values.some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean'))
        return 'test accepted_values: values must be strings, numbers or booleans';
      const quote = args.quote ?? true;
      const list = (values as CheckValue[]).map((v) => (quote === false ? v : String(v)));
      if (filter === undefined) return acceptedValues(column, list, options);
      const literals = list.map((v) => (typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v))).join(', ');
      return customSql(`accepted_values(${column}) where ${where}`, `select * from ${self} where ${filter} and ${column} not in (${literals})`, options);
    }
    case 'relationships': {
      if (typeof args.to !== 'string' || typeof args.field !== 'string') return 'test relationships needs to: ref(...) and field: <column>';
      const target = resolve(args.to);
      if ('problem' in target) return `test relationships: ${target.problem}`;
      if (filter === undefined) return relationships(column, { to: target.key, field: args.field }, options);
      const parent = qualifiedTableName(target.key);
      return customSql(
        `relationships(${column}, ${target.key}.${args.field}) where ${where}`,
        `select * from ${self} where ${filter} and ${column} is not null and ${column} not in (select ${args.field} from ${parent} where ${args.field} is not null)`,
        options,
      );
    }
    default:
      return CONFIG_KEYS.has(name)
        ? `a test needs a name`
        : `test "${name}" is not supported yet (generic tests: unique, not_null, accepted_values, relationships)`;
  }
}

function severityOf(value: unknown): CheckSeverity | undefined {
  if (value === undefined) return 'error';
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return lower === 'warn' || lower === 'error' ? lower : undefined;
}

const CALL = /^\s*(ref|source)\s*\(\s*(['"])([^'"]+)\2\s*(?:,\s*(['"])([^'"]+)\4\s*)?\)\s*$/;

/** Parses `ref('x')`, `ref('pkg', 'x')` or `source('a', 'b')` as written in a test's `to:`. */
export function parseRelationCall(text: string): { fn: 'ref' | 'source'; args: string[] } | undefined {
  const match = CALL.exec(text);
  if (!match) return undefined;
  const args = [match[3] as string, ...(match[5] === undefined ? [] : [match[5]])];
  return { fn: match[1] as 'ref' | 'source', args };
}
