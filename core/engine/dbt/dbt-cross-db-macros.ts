/**
 * dbt's cross-database macros (`dbt.dateadd`, `dbt.type_string`, …): the SQL dbt-core's default
 * implementations and dbt-duckdb's and dbt-postgres's own print, each implementation under its
 * dispatch name (`default__dateadd`, `duckdb__dateadd`, `postgres__dateadd`) so that
 * `adapter.dispatch` finds them as dbt does, after the project's own.
 *
 * The text is dbt's with its whitespace collapsed (and dbt's SQL comments left out): the same SQL.
 * A macro that calls another (`last_day` calls `dateadd` and `date_trunc`) calls it through
 * dispatch, so a project's implementation of the inner one is used as in dbt.
 */
import { contextFailure } from './dbt-jinja.ts';

/** Calls `dbt.<name>(...args)` (dispatched in the `dbt` namespace). */
export type DbtCall = (name: string, ...args: unknown[]) => string;

/** One implementation: the macro's bound arguments in, SQL out. */
type Implementation = (args: Readonly<Record<string, unknown>>, dbt: DbtCall, adapter: string) => string;

/** A cross-database macro: its parameters (with defaults) and its implementations by adapter prefix. */
export interface CrossDbMacro {
  readonly params: readonly string[];
  readonly defaults: Readonly<Record<string, unknown>>;
  /** By dispatch prefix: `default`, `duckdb`, `postgres`. */
  readonly implementations: Readonly<Record<string, Implementation>>;
  /** A helper dbt calls directly (`dbt.default_last_day`), not through dispatch: its one implementation is `default`. */
  readonly direct?: true;
}

/**
 * A value as Jinja prints it into SQL: strings as they are, numbers, booleans as `True`/`False`,
 * none as `None`; a list, a mapping or an undefined value is an error naming the macro.
 */
export function sqlText(value: unknown, macro: string, param: string): string {
  if (typeof value === 'string' || value instanceof String || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  const what = value === undefined ? 'an undefined value' : Array.isArray(value) ? 'a list' : 'a mapping';
  throw contextFailure(`dbt.${macro}(): ${param} is ${what}, which Strata cannot print as dbt would`, macroNeedle(macro));
}

/** Where a call of dbt's macro `name` is written (`dbt.name(`, else `name(`). */
export function macroNeedle(name: string): readonly string[] {
  return [`dbt.${name}(`, `${name}(`, name];
}

/** `YYYY-MM-DD` of a date given as integers, as dbt's `default__date` formats it with Python's `datetime.date`. */
function isoDate(year: unknown, month: unknown, day: unknown): string {
  const parts = [year, month, day];
  const date = parts.every((part) => Number.isInteger(part)) ? new Date(Date.UTC(year as number, (month as number) - 1, day as number)) : undefined;
  if (date === undefined || (year as number) < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== (month as number) - 1 || date.getUTCDate() !== day)
    throw contextFailure(`dbt.date(${parts.map(String).join(', ')}) is not a date (year, month and day as integers)`, macroNeedle('date'));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Jinja's truth of a value (none, false, 0, '' and empty lists are false). */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof String) return value.length > 0;
  return Boolean(value);
}

/** A macro whose implementations read their arguments as SQL text, in parameter order. */
function textMacro(name: string, params: readonly string[], implementations: Record<string, (...args: string[]) => string>): [string, CrossDbMacro] {
  const wrapped: Record<string, Implementation> = {};
  for (const [prefix, implementation] of Object.entries(implementations))
    wrapped[prefix] = (args) => implementation(...params.map((param) => sqlText(args[param], name, param)));
  return [name, { params, defaults: {}, implementations: wrapped }];
}

/** A macro printing a fixed word: a data type, the same on every adapter Strata targets (dbt's `api.Column.translate_type`), or a keyword. */
function wordMacro(name: string, word: string): [string, CrossDbMacro] {
  return [name, { params: [], defaults: {}, implementations: { default: () => word } }];
}

const DATE_PARTS_SQL = (first: string, second: string, cast: 'date' | 'timestamp', part: string) =>
  `date_part('${part}', (${second})::${cast}) - date_part('${part}', (${first})::${cast})`;

/** dbt-postgres's `datediff`, built up from days and years as dbt's is. */
function postgresDatediff(args: Readonly<Record<string, unknown>>, dbt: DbtCall): string {
  const first = sqlText(args.first_date, 'datediff', 'first_date');
  const second = sqlText(args.second_date, 'datediff', 'second_date');
  const part = sqlText(args.datepart, 'datediff', 'datepart');
  const floorParts = (unit: string) => `floor(date_part('${unit}', (${second})::timestamp)) - floor(date_part('${unit}', (${first})::timestamp))`;
  switch (part) {
    case 'year':
      return `(${DATE_PARTS_SQL(first, second, 'date', 'year')})`;
    case 'quarter':
      return `(${dbt('datediff', first, second, 'year')} * 4 + ${DATE_PARTS_SQL(first, second, 'date', 'quarter')})`;
    case 'month':
      return `(${dbt('datediff', first, second, 'year')} * 12 + ${DATE_PARTS_SQL(first, second, 'date', 'month')})`;
    case 'day':
      return `((${second})::date - (${first})::date)`;
    case 'week':
      return `(${dbt('datediff', first, second, 'day')} / 7 + ${weekCorrection(first, second)})`;
    case 'hour':
      return `(${dbt('datediff', first, second, 'day')} * 24 + ${DATE_PARTS_SQL(first, second, 'timestamp', 'hour')})`;
    case 'minute':
      return `(${dbt('datediff', first, second, 'hour')} * 60 + ${DATE_PARTS_SQL(first, second, 'timestamp', 'minute')})`;
    case 'second':
      return `(${dbt('datediff', first, second, 'minute')} * 60 + ${floorParts('second')})`;
    case 'millisecond':
      return `(${dbt('datediff', first, second, 'minute')} * 60000 + ${floorParts('millisecond')})`;
    case 'microsecond':
      return `(${dbt('datediff', first, second, 'minute')} * 60000000 + ${floorParts('microsecond')})`;
    default:
      throw contextFailure(`Unsupported datepart for macro datediff in postgres: '${part}'`, macroNeedle('datediff'));
  }
}

/** The whole weeks between two dates, as dbt-postgres and dbt-duckdb correct a day count divided by 7. */
function weekCorrection(first: string, second: string): string {
  return `case when date_part('dow', (${first})::timestamp) <= date_part('dow', (${second})::timestamp) then case when ${first} <= ${second} then 0 else -1 end else case when ${first} <= ${second} then 1 else 0 end end`;
}

/** dbt's `default_last_day`: the day before the start of the next period. */
function defaultLastDay(date: unknown, datepart: unknown, dbt: DbtCall): string {
  return `cast(${dbt('dateadd', 'day', '-1', dbt('dateadd', datepart, '1', dbt('date_trunc', datepart, date)))} as date)`;
}

/** The last day of a quarter, for adapters whose `dateadd` had no quarter (dbt-duckdb, dbt-postgres). */
function lastDay(args: Readonly<Record<string, unknown>>, dbt: DbtCall): string {
  if (args.datepart !== 'quarter') return defaultLastDay(args.date, args.datepart, dbt);
  return `cast(${dbt('dateadd', 'day', '-1', dbt('dateadd', 'month', '3', dbt('date_trunc', args.datepart, args.date)))} as date)`;
}

/** `listagg` as dbt-duckdb and dbt-postgres write it: `string_agg`, or a slice of `array_agg` with `limit_num`. */
function listagg(limited: (aggregate: string, delimiter: string, limit: string) => string): Implementation {
  return (args) => {
    const measure = sqlText(args.measure, 'listagg', 'measure');
    const delimiter = sqlText(args.delimiter_text, 'listagg', 'delimiter_text');
    const orderBy = truthy(args.order_by_clause) ? ` ${sqlText(args.order_by_clause, 'listagg', 'order_by_clause')}` : '';
    if (truthy(args.limit_num)) return limited(`(array_agg(${measure}${orderBy}))`, delimiter, sqlText(args.limit_num, 'listagg', 'limit_num'));
    return `string_agg(${measure}, ${delimiter}${orderBy})`;
  };
}

/** dbt's cross-database macros by name. */
export const CROSS_DB_MACROS: ReadonlyMap<string, CrossDbMacro> = new Map<string, CrossDbMacro>([
  [
    'current_timestamp',
    {
      params: [],
      defaults: {},
      implementations: {
        default: (_args, _dbt, adapter) => {
          throw contextFailure(`current_timestamp macro not implemented for adapter ${adapter}`, macroNeedle('current_timestamp'));
        },
        duckdb: () => 'now()',
        postgres: () => 'now()',
      },
    },
  ],
  textMacro('date_trunc', ['datepart', 'date'], { default: (part, date) => `date_trunc('${part}', ${date})` }),
  textMacro('dateadd', ['datepart', 'interval', 'from_date_or_timestamp'], {
    default: (part, interval, from) => `dateadd(${part}, ${interval}, ${from})`,
    duckdb: (part, interval, from) => {
      const unit = part.toLowerCase();
      if (unit === 'quarter') return `(${from} + (cast(${interval} as bigint) * 3) * interval 1 month)`;
      if (unit === 'week') return `(${from} + (cast(${interval} as bigint) * 7) * interval 1 day)`;
      return `(${from} + cast(${interval} as bigint) * interval 1 ${unit})`;
    },
    postgres: (part, interval, from) => `${from} + ((interval '1 ${part}') * (${interval}))`,
  }),
  [
    'datediff',
    {
      params: ['first_date', 'second_date', 'datepart'],
      defaults: {},
      implementations: {
        default: (args) =>
          `datediff(${sqlText(args.datepart, 'datediff', 'datepart')}, ${sqlText(args.first_date, 'datediff', 'first_date')}, ${sqlText(args.second_date, 'datediff', 'second_date')})`,
        duckdb: (args, dbt) => {
          const first = sqlText(args.first_date, 'datediff', 'first_date');
          const second = sqlText(args.second_date, 'datediff', 'second_date');
          if (args.datepart === 'week') return `(${dbt('datediff', first, second, 'day')} // 7 + ${weekCorrection(first, second)})`;
          return `(date_diff('${sqlText(args.datepart, 'datediff', 'datepart')}', ${first}::timestamp, ${second}::timestamp ))`;
        },
        postgres: postgresDatediff,
      },
    },
  ],
  textMacro('safe_cast', ['field', 'type'], { default: (field, type) => `cast(${field} as ${type})` }),
  textMacro('cast', ['field', 'type'], { default: (field, type) => `cast(${field} as ${type})` }),
  [
    'concat',
    {
      params: ['fields'],
      defaults: {},
      implementations: {
        default: (args) => {
          if (!Array.isArray(args.fields)) throw contextFailure('dbt.concat() takes a list of fields', macroNeedle('concat'));
          return args.fields.map((field) => sqlText(field, 'concat', 'fields')).join(' || ');
        },
      },
    },
  ],
  textMacro('hash', ['field'], { default: (field) => `md5(cast(${field} as TEXT))` }),
  [
    'split_part',
    {
      params: ['string_text', 'delimiter_text', 'part_number'],
      defaults: {},
      implementations: {
        default: (args) =>
          `split_part(${sqlText(args.string_text, 'split_part', 'string_text')}, ${sqlText(args.delimiter_text, 'split_part', 'delimiter_text')}, ${sqlText(args.part_number, 'split_part', 'part_number')})`,
        duckdb: (args) =>
          `string_split(${sqlText(args.string_text, 'split_part', 'string_text')}, ${sqlText(args.delimiter_text, 'split_part', 'delimiter_text')})[ ${sqlText(args.part_number, 'split_part', 'part_number')} ]`,
        postgres: (args, dbt) => {
          const part = args.part_number;
          if (typeof part !== 'number')
            throw contextFailure('dbt.split_part() on postgres compares part_number with 0: it must be a number', macroNeedle('split_part'));
          if (part >= 0) return dbt('default__split_part', args.string_text, args.delimiter_text, part);
          const text = sqlText(args.string_text, 'split_part', 'string_text');
          const delimiter = sqlText(args.delimiter_text, 'split_part', 'delimiter_text');
          return `split_part(${text}, ${delimiter}, length(${text}) - length(replace(${text}, ${delimiter}, '')) + 2 + ${part})`;
        },
      },
    },
  ],
  wordMacro('type_string', 'TEXT'),
  wordMacro('type_timestamp', 'timestamp'),
  wordMacro('type_float', 'float'),
  wordMacro('type_numeric', 'numeric(28,6)'),
  wordMacro('type_bigint', 'bigint'),
  wordMacro('type_int', 'integer'),
  wordMacro('type_boolean', 'boolean'),
  textMacro('any_value', ['expression'], { default: (e) => `any_value(${e})`, duckdb: (e) => `arbitrary(${e})`, postgres: (e) => `min(${e})` }),
  textMacro('bool_or', ['expression'], { default: (e) => `bool_or(${e})` }),
  [
    'listagg',
    {
      params: ['measure', 'delimiter_text', 'order_by_clause', 'limit_num'],
      defaults: { delimiter_text: "','", order_by_clause: null, limit_num: null },
      implementations: {
        default: (args) => {
          const measure = sqlText(args.measure, 'listagg', 'measure');
          const delimiter = sqlText(args.delimiter_text, 'listagg', 'delimiter_text');
          const within = truthy(args.order_by_clause) ? ` within group (${sqlText(args.order_by_clause, 'listagg', 'order_by_clause')})` : '';
          if (truthy(args.limit_num))
            return `array_to_string(array_slice(array_agg(${measure})${within}, 0, ${sqlText(args.limit_num, 'listagg', 'limit_num')}), ${delimiter})`;
          return `listagg(${measure}, ${delimiter})${within}`;
        },
        duckdb: listagg((aggregate, delimiter, limit) => `list_aggr(${aggregate}[1:${limit}], 'string_agg', ${delimiter})`),
        postgres: listagg((aggregate, delimiter, limit) => `array_to_string(${aggregate}[1:${limit}], ${delimiter})`),
      },
    },
  ],
  [
    'last_day',
    {
      params: ['date', 'datepart'],
      defaults: {},
      implementations: { default: (args, dbt) => defaultLastDay(args.date, args.datepart, dbt), duckdb: lastDay, postgres: lastDay },
    },
  ],
  [
    'default_last_day',
    { params: ['date', 'datepart'], defaults: {}, direct: true, implementations: { default: (args, dbt) => defaultLastDay(args.date, args.datepart, dbt) } },
  ],
  textMacro('escape_single_quotes', ['expression'], { default: (e) => e.replaceAll("'", "''") }),
  textMacro('string_literal', ['value'], { default: (value) => `'${value}'` }),
  textMacro('replace', ['field', 'old_chars', 'new_chars'], { default: (field, old, replacement) => `replace(${field}, ${old}, ${replacement})` }),
  textMacro('length', ['expression'], { default: (e) => `length(${e})` }),
  textMacro('position', ['substring_text', 'string_text'], { default: (needle, text) => `position(${needle} in ${text})` }),
  textMacro('right', ['string_text', 'length_expression'], { default: (text, length) => `right(${text}, ${length})` }),
  [
    'date',
    {
      params: ['year', 'month', 'day'],
      defaults: {},
      implementations: {
        default: (args) => `to_date('${isoDate(args.year, args.month, args.day)}', 'YYYY-MM-DD')`,
        duckdb: (args) => `make_date(${sqlText(args.year, 'date', 'year')}, ${sqlText(args.month, 'date', 'month')}, ${sqlText(args.day, 'date', 'day')})`,
      },
    },
  ],
  textMacro('cast_bool_to_text', ['field'], { default: (field) => `cast(${field} as TEXT)` }),
  [
    'array_construct',
    {
      params: ['inputs', 'data_type'],
      defaults: { inputs: [], data_type: 'integer' },
      implementations: {
        default: (args) => {
          if (!Array.isArray(args.inputs)) throw contextFailure('dbt.array_construct() takes a list of inputs', macroNeedle('array_construct'));
          if (args.inputs.length === 0) return `array[]::${sqlText(args.data_type, 'array_construct', 'data_type')}[]`;
          return `array[ ${args.inputs.map((input) => sqlText(input, 'array_construct', 'inputs')).join(' , ')} ]`;
        },
      },
    },
  ],
  textMacro('array_append', ['array', 'new_element'], { default: (array, element) => `array_append(${array}, ${element})` }),
  textMacro('array_concat', ['array_1', 'array_2'], { default: (first, second) => `array_cat(${first}, ${second})` }),
  wordMacro('except', 'except'),
  wordMacro('intersect', 'intersect'),
]);
