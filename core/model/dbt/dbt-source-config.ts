/**
 * dbt sources (`sources:` of a `schema.yml`) as Strata reads them: the relation a table names
 * (`schema`, `identifier`), its descriptions, and its freshness (`loaded_at_field` and
 * `freshness: { warn_after, error_after, filter }`, a table's own winning over its source's).
 * Pure: problems are returned with the YAML path they are at, for the loader to name the line.
 */
import { isObject } from './dbt-config.ts';

/** A dbt source table, as the loader turns it into a Strata source asset. */
export interface DbtSourceSpec {
  /** `source_name.table_name`, as `source()` names it. */
  readonly name: string;
  readonly schema: string;
  readonly identifier: string;
  readonly description?: string;
  readonly columnDescriptions: Readonly<Record<string, string>>;
  /** Its source's tags and its own (`tags:` and `config: { tags }`), for `--select 'tag:…'`. */
  readonly tags: readonly string[];
  /** `meta.owner` of the table (`meta:` or `config: { meta }`), else of its source. */
  readonly owner?: string;
  /** The table's YAML entry, whose `tests:`/`data_tests:` (its own and its columns') become the source asset's checks. */
  readonly entry: Readonly<Record<string, unknown>>;
  /** Its freshness, when it has `loaded_at_field` and a threshold. */
  readonly freshness?: DbtSourceFreshness;
}

/** A source table's freshness, mapped onto a Strata freshness policy. */
export interface DbtSourceFreshness {
  /** The column whose newest value is the table's data time. */
  readonly loadedAtField: string;
  /** `error_after` (else `warn_after`, when it is the only threshold), in milliseconds. */
  readonly maxLagMs: number;
  /** `freshness.filter`: a SQL condition on the rows whose newest `loaded_at_field` counts. */
  readonly filter?: string;
}

/** A problem, with the YAML keys that lead to it from the `sources:` list (for its line). */
export interface DbtSourceProblem {
  readonly message: string;
  /** Names and keys from the file's top: `['sources', 'raw', 'events', 'database']`. */
  readonly path: readonly string[];
}

const PERIOD_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const SOURCE_KEYS = new Set(['name', 'description', 'schema', 'database', 'tables', 'loaded_at_field', 'freshness', 'meta', 'tags', 'config', 'loader']);
const TABLE_KEYS = new Set([
  'name',
  'description',
  'identifier',
  'columns',
  'loaded_at_field',
  'freshness',
  'meta',
  'tags',
  'config',
  'loader',
  'tests',
  'data_tests',
]);

/**
 * The tables of one `sources:` entry. `warehouseDatabase` is the database the warehouse is
 * (a `database:` naming another is a problem: Strata reads one warehouse).
 */
export function dbtSourceTables(
  source: Readonly<Record<string, unknown>>,
  warehouseDatabase: string,
): { tables: DbtSourceSpec[]; problems: DbtSourceProblem[] } {
  const problems: DbtSourceProblem[] = [];
  const tables: DbtSourceSpec[] = [];
  const sourceName = String(source.name);
  const at = (...keys: string[]) => ['sources', sourceName, ...keys];
  for (const key of Object.keys(source))
    if (!SOURCE_KEYS.has(key)) problems.push({ message: `source "${sourceName}": "${key}" is not supported yet`, path: at(key) });
  if (source.database !== undefined && source.database !== warehouseDatabase)
    problems.push({
      message: `source "${sourceName}" names database "${String(source.database)}", but the warehouse is database "${warehouseDatabase}": Strata reads sources from its own warehouse`,
      path: at('database'),
    });
  if (source.schema !== undefined && typeof source.schema !== 'string')
    problems.push({ message: `source "${sourceName}": schema must be text`, path: at('schema') });
  const schema = typeof source.schema === 'string' ? source.schema : sourceName;
  const sourceSettings = settings(source, `source "${sourceName}"`, (message, ...keys) => problems.push({ message, path: at(...keys) }));
  for (const table of Array.isArray(source.tables) ? source.tables : []) {
    if (!isObject(table) || typeof table.name !== 'string') continue;
    const name = `${sourceName}.${table.name}`;
    const here = (...keys: string[]) => at(table.name as string, ...keys);
    const own = settings(table, `source ${name}`, (message, ...keys) => problems.push({ message, path: here(...keys) }));
    if (!sourceSettings.enabled || !own.enabled) continue;
    for (const key of Object.keys(table))
      if (!TABLE_KEYS.has(key)) problems.push({ message: `source ${name}: "${key}" is not supported yet`, path: here(key) });
    if (table.identifier !== undefined && typeof table.identifier !== 'string')
      problems.push({ message: `source ${name}: identifier must be text`, path: here('identifier') });
    const columnDescriptions: Record<string, string> = {};
    for (const column of Array.isArray(table.columns) ? table.columns : []) {
      if (!isObject(column) || typeof column.name !== 'string') continue;
      if (typeof column.description === 'string' && column.description !== '') columnDescriptions[column.name] = column.description;
    }
    const owner = own.owner ?? sourceSettings.owner;
    const freshness = tableFreshness(source, table, name, (message, path) => problems.push({ message, path }), here, at);
    tables.push({
      name,
      schema,
      identifier: typeof table.identifier === 'string' ? table.identifier : table.name,
      ...(typeof table.description === 'string' && table.description !== '' ? { description: table.description } : {}),
      columnDescriptions: Object.freeze(columnDescriptions),
      tags: Object.freeze([...new Set([...sourceSettings.tags, ...own.tags])]),
      ...(owner === undefined ? {} : { owner }),
      entry: table,
      ...(freshness === undefined ? {} : { freshness }),
    });
  }
  return { tables, problems };
}

/** `tags:`, `meta:` and `config: { enabled, tags, meta }` of a source or table (of `meta`, only `owner` is read). */
function settings(
  entry: Readonly<Record<string, unknown>>,
  what: string,
  fail: (message: string, ...keys: string[]) => void,
): { enabled: boolean; tags: string[]; owner?: string } {
  const tags: string[] = [];
  let enabled = true;
  let owner: string | undefined;
  const readOwner = (meta: unknown, ...keys: string[]) => {
    if (!isObject(meta) || meta.owner === undefined) return;
    if (typeof meta.owner === 'string') owner = meta.owner;
    else fail(`${what}: meta.owner must be a string`, ...keys);
  };
  readOwner(entry.meta, 'meta');
  const addTags = (value: unknown, ...keys: string[]) => {
    const list = typeof value === 'string' ? [value] : value;
    if (Array.isArray(list) && list.every((t) => typeof t === 'string')) tags.push(...list);
    else fail(`${what}: tags must be text or a list of text`, ...keys);
  };
  if (entry.tags !== undefined) addTags(entry.tags, 'tags');
  if (entry.config !== undefined) {
    if (!isObject(entry.config)) fail(`${what}: config must be a mapping`, 'config');
    else
      for (const [key, value] of Object.entries(entry.config)) {
        if (key === 'tags') addTags(value, 'config', 'tags');
        else if (key === 'enabled' && typeof value === 'boolean') enabled = value;
        else if (key === 'meta') readOwner(value, 'config', 'meta');
        // What a microbatch model filters the table's rows on (dbt-project-files.ts reads it).
        else if (key === 'event_time' && typeof value === 'string') continue;
        else fail(`${what}: config "${key}" is not supported yet`, 'config', key);
      }
  }
  return { enabled, tags, ...(owner === undefined ? {} : { owner }) };
}

/** A table's freshness: its own `freshness`/`loaded_at_field` over its source's (`freshness: null` turns it off). */
function tableFreshness(
  source: Readonly<Record<string, unknown>>,
  table: Readonly<Record<string, unknown>>,
  name: string,
  report: (message: string, path: readonly string[]) => void,
  inTable: (...keys: string[]) => string[],
  inSource: (...keys: string[]) => string[],
): DbtSourceFreshness | undefined {
  const freshness = 'freshness' in table ? table.freshness : source.freshness;
  // A problem of the freshness is at the one the table has: its own, else its source's.
  const where = 'freshness' in table ? inTable('freshness') : inSource('freshness');
  const fail = (message: string, path: readonly string[] = where) => report(message, path);
  const loadedAt = table.loaded_at_field ?? source.loaded_at_field;
  if (freshness === null || freshness === undefined) return undefined;
  if (!isObject(freshness)) {
    fail(`source ${name}: freshness must be a mapping of warn_after, error_after and filter`);
    return undefined;
  }
  for (const key of Object.keys(freshness))
    if (key !== 'warn_after' && key !== 'error_after' && key !== 'filter') fail(`source ${name}: freshness.${key} is not supported`);
  const error = threshold(freshness.error_after, `source ${name}: freshness.error_after`, (m) => fail(m));
  const warn = threshold(freshness.warn_after, `source ${name}: freshness.warn_after`, (m) => fail(m));
  const maxLagMs = error ?? warn;
  if (maxLagMs === undefined) return undefined;
  if (typeof loadedAt !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(loadedAt)) {
    fail(
      loadedAt === undefined
        ? `source ${name} has a freshness but no loaded_at_field (the column whose newest value says how recent the data is)`
        : `source ${name}: loaded_at_field "${String(loadedAt)}" is not a column name`,
      'loaded_at_field' in table ? inTable('loaded_at_field') : 'loaded_at_field' in source ? inSource('loaded_at_field') : where,
    );
    return undefined;
  }
  if (freshness.filter !== undefined && typeof freshness.filter !== 'string') fail(`source ${name}: freshness.filter must be a SQL condition`);
  return { loadedAtField: loadedAt, maxLagMs, ...(typeof freshness.filter === 'string' ? { filter: freshness.filter } : {}) };
}

/** `{ count, period }` in milliseconds; `undefined` when absent (or `null`) or wrong (reported). */
function threshold(value: unknown, what: string, fail: (message: string) => void): number | undefined {
  if (value === undefined || value === null) return undefined;
  const period = isObject(value) ? value.period : undefined;
  const count = isObject(value) ? value.count : undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count <= 0 || typeof period !== 'string' || PERIOD_MS[period] === undefined) {
    fail(`${what} must be { count: a whole number > 0, period: minute, hour or day }`);
    return undefined;
  }
  return count * (PERIOD_MS[period] as number);
}
