/**
 * dbt's generic tests of a `schema.yml` model, seed or source table entry, under a column's or the
 * entry's own `tests:` (or `data_tests:`), as Strata checks. The builtins (`unique`, `not_null`,
 * `accepted_values`, `relationships`) become Strata's own checks; a test the project defines
 * (`{% test %}`, which may override a builtin, as in dbt) is returned for the loader to render.
 * `severity: error` (dbt's default) makes the check blocking, so a failing test stops the publish;
 * `severity: warn` records it without blocking. A `where` config, or a `column_name` that is an
 * expression (a test on the model: `unique: { column_name: "a || '-' || b" }`), makes it a custom
 * SQL check with the same rule.
 */
import { acceptedValues, customSql, notNull, relationships, unique, type CheckSpec, type CheckValue } from '../definitions/check-spec.ts';
import { qualifiedTableName } from '../definitions/asset-key.ts';
import { isObject } from './dbt-config.ts';
import { gradedChecks, parseTestEntry, type DbtTestConfig, type DbtTestEntry } from './dbt-test-config.ts';

/** Resolves a `ref('x')` or `source('a', 'b')` of a `relationships` test to an asset key. */
export type RelationResolver = (call: string) => { key: string } | { problem: string };

/** A use of a generic test the project defines, for the loader to render. */
export interface DbtCustomTestUse {
  readonly entry: DbtTestEntry;
  /** The column it is declared under, else its `column_name` argument (a test on the model). */
  readonly column?: string;
  /** The check's name: `name(column)`, `name` on the model, or its `name:`/`alias:` config. */
  readonly checkName: string;
  /** The config of `dbt_project.yml` that applies to it: under its definition's `config()`, as `entry.own` is over it. */
  readonly projectConfig: Readonly<Record<string, unknown>>;
}

/** The checks of one entry's tests, the tests the project defines, and the problems found. */
export interface DbtEntryTests {
  readonly checks: CheckSpec[];
  readonly custom: DbtCustomTestUse[];
  readonly problems: string[];
}

const BUILTINS = new Set(['unique', 'not_null', 'accepted_values', 'relationships']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What {@link dbtModelChecks} knows of the project besides the entry. */
export interface DbtTestOptions {
  /** Whether the project or an installed package defines a generic test of that name. */
  readonly isCustom?: (name: string) => boolean;
  /** The installed packages. */
  readonly packages?: { has(name: string): boolean };
  /**
   * The project's test config of `dbt_project.yml` (`tests:`/`data_tests:`, `+severity`…) for the
   * entry's folder: under a test's definition's `config()` and its own config.
   */
  readonly projectConfig?: Readonly<Record<string, unknown>>;
}

/** The checks of one `schema.yml` entry (a model, seed or source table): its own tests and its columns'. */
export function dbtModelChecks(entry: Readonly<Record<string, unknown>>, resolve: RelationResolver, options: DbtTestOptions = {}): DbtEntryTests {
  const { isCustom = () => false, packages = new Set<string>() } = options;
  // A project config names no single test.
  const { name: _name, alias: _alias, ...projectConfig } = options.projectConfig ?? {};
  const known = { resolve, isCustom, packages, projectConfig };
  const found: DbtEntryTests = { checks: [], custom: [], problems: [] };
  for (const test of testsOf(entry)) {
    const problem = addTest(test, undefined, known, found);
    if (problem !== undefined) found.problems.push(problem);
  }
  const columns = Array.isArray(entry.columns) ? entry.columns : [];
  for (const column of columns) {
    if (!isObject(column) || typeof column.name !== 'string') {
      found.problems.push('a column entry needs a name');
      continue;
    }
    for (const test of testsOf(column)) {
      const problem = addTest(test, column.name, known, found);
      if (problem !== undefined) found.problems.push(`column ${column.name}: ${problem}`);
    }
  }
  return found;
}

/** A column's or entry's tests (`tests:`, or `data_tests:` since dbt 1.8). */
export function testsOf(node: Readonly<Record<string, unknown>>): unknown[] {
  return [...(Array.isArray(node.tests) ? node.tests : []), ...(Array.isArray(node.data_tests) ? node.data_tests : [])];
}

/** Adds one test's checks (or its use of a project test) to `found`; returns why it cannot be run. */
function addTest(
  test: unknown,
  column: string | undefined,
  known: {
    resolve: RelationResolver;
    isCustom: (name: string) => boolean;
    packages: { has(name: string): boolean };
    projectConfig: Readonly<Record<string, unknown>>;
  },
  found: DbtEntryTests,
): string | undefined {
  const { resolve, isCustom } = known;
  const entry = parseTestEntry(test, known.projectConfig);
  if (typeof entry === 'string') return entry;
  const name = entry.test;
  const given = column ?? entry.args.column_name;
  if (given !== undefined && typeof given !== 'string') return `test ${name}: column_name must be a column or an expression`;
  // Its own enabled is final; the project's may be overridden by a project test's definition's config().
  if (!entry.config.enabled && entry.own.enabled !== undefined) return undefined;
  if (isCustom(name)) {
    const checkName = entry.config.name ?? (given === undefined ? name : `${name}(${given})`);
    found.custom.push({ entry, checkName, projectConfig: known.projectConfig, ...(given === undefined ? {} : { column: given }) });
    return undefined;
  }
  if (!entry.config.enabled) return undefined;
  if (!BUILTINS.has(name)) {
    const dot = name.indexOf('.');
    const pkg = name.slice(0, dot);
    if (dot > 0 && known.packages.has(pkg)) return `test "${name}": package ${pkg} defines no generic test ${name.slice(dot + 1)}`;
    if (dot > 0) return `test "${name}" comes from package ${pkg}, whose macros are not installed in dbt_packages/${pkg}/macros (run dbt deps)`;
    return `test "${name}" is not supported (generic tests: unique, not_null, accepted_values, relationships, or a {% test %} of the project)`;
  }
  if (given === undefined) return `test ${name} on the model itself needs column_name: the column (or expression) it tests`;
  const made = builtinCheck(name, given, entry, resolve);
  if (typeof made === 'string') return made;
  found.checks.push(...gradedChecks(made, entry.config));
  return undefined;
}

/** One builtin test as a check (a custom SQL check of its failing rows when it must be), or why it cannot be one. */
function builtinCheck(name: string, column: string, entry: DbtTestEntry, resolve: RelationResolver): CheckSpec | string {
  const { args, config } = entry;
  const asSql = config.where !== undefined || config.warnIf !== undefined || config.errorIf !== undefined || !IDENTIFIER.test(column);
  const options = { severity: config.severity ?? 'error', ...(config.name === undefined ? {} : { name: config.name }) };
  const label = (rule: string) => config.name ?? (config.where === undefined ? rule : `${rule} where ${config.where}`);
  const filter = `(${config.where ?? 'true'})`;
  const self = '{{ this }}';
  switch (name) {
    case 'not_null':
      return asSql ? sqlCheck(label(`not_null(${column})`), `select * from ${self} where ${filter} and ${column} is null`, config) : notNull(column, options);
    case 'unique':
      return asSql
        ? sqlCheck(
            label(`unique(${column})`),
            `select ${column} from ${self} where ${filter} and ${column} is not null group by ${column} having count(*) > 1`,
            config,
          )
        : unique(column, options);
    case 'accepted_values': {
      const values = args.values;
      if (!Array.isArray(values) || values.length === 0) return 'test accepted_values needs values: [...]';
      if (values.some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean'))
        return 'test accepted_values: values must be strings, numbers or booleans';
      const quote = args.quote ?? true;
      const list = (values as CheckValue[]).map((v) => (quote === false ? v : String(v)));
      if (!asSql) return acceptedValues(column, list, options);
      const literals = list.map((v) => (typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v))).join(', ');
      return sqlCheck(label(`accepted_values(${column})`), `select * from ${self} where ${filter} and ${column} not in (${literals})`, config);
    }
    default: {
      if (typeof args.to !== 'string' || typeof args.field !== 'string') return 'test relationships needs to: ref(...) and field: <column>';
      const target = resolve(args.to);
      if ('problem' in target) return `test relationships: ${target.problem}`;
      if (!asSql) return relationships(column, { to: target.key, field: args.field }, options);
      const parent = qualifiedTableName(target.key);
      return sqlCheck(
        label(`relationships(${column}, ${target.key}.${args.field})`),
        `select * from ${self} where ${filter} and ${column} is not null and ${column} not in (select ${args.field} from ${parent} where ${args.field} is not null)`,
        config,
      );
    }
  }
}

function sqlCheck(name: string, sql: string, config: DbtTestConfig): CheckSpec {
  return customSql(name, sql, { severity: config.severity ?? 'error' });
}

const CALL = /^\s*(ref|source)\s*\(\s*(['"])([^'"]+)\2\s*(?:,\s*(['"])([^'"]+)\4\s*)?\)\s*$/;

/** Parses `ref('x')`, `ref('pkg', 'x')` or `source('a', 'b')` as written in a test's `to:`. */
export function parseRelationCall(text: string): { fn: 'ref' | 'source'; args: string[] } | undefined {
  const match = CALL.exec(text);
  if (!match) return undefined;
  const args = [match[3] as string, ...(match[5] === undefined ? [] : [match[5]])];
  return { fn: match[1] as 'ref' | 'source', args };
}
