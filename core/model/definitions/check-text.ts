import { DefinitionError } from '../errors.ts';
import {
  acceptedRange,
  acceptedValues,
  customSql,
  freshness,
  notEmptyString,
  notNull,
  relationships,
  rowCount,
  rowCountAnomaly,
  schema,
  unique,
  type CheckOptions,
  type CheckSpec,
  type CheckValue,
} from './check-spec.ts';

/** Check names a SQL header accepts besides `custom_sql(name): query`. */
export const HEADER_CHECKS = [
  'not_null',
  'unique',
  'accepted_values',
  'accepted_range',
  'relationships',
  'row_count',
  'freshness',
  'not_empty_string',
  'schema',
  'row_count_anomaly',
] as const;

const CHECK_LINE = /^([a-z_]+)\s*\((.*)\)\s*(.*)$/s;

/** `custom_sql(name[, severity=warn, blocking=false]): select ...` — the query returns the violating rows. */
const CUSTOM_LINE = /^custom_sql\s*\(\s*([A-Za-z0-9_]+)\s*(?:,([^)]*))?\)\s*:\s*(.+)$/s;

/**
 * Reads a check as a SQL header writes it: `name(arguments) [severity=warn] [blocking=false]
 * [name=...]`, e.g. `unique(order_id, line)`, `accepted_range(amount, min=0)`,
 * `relationships(order_id, staging/orders.order_id)`, `freshness(closed_at, 36h)`,
 * `schema(order_id VARCHAR, total DECIMAL(10,2))`, `schema(previous)` (no column removed or retyped since
 * the previous materialization; `allow_added=false`: none added either), `row_count_anomaly(lookback=14, max_percent=50)`,
 * `custom_sql(no_refunds, severity=warn): select * from {{ this }} where amount < 0`.
 * Throws a DefinitionError naming what is wrong.
 */
export function parseCheckText(text: string): CheckSpec {
  const fail = (message: string) => new DefinitionError('check_invalid', `check "${text.trim()}": ${message}`);
  const custom = CUSTOM_LINE.exec(text.trim());
  if (custom) {
    const [, name = '', optionText = '', sql = ''] = custom;
    return customSql(name, sql, parseOptions(optionText.replaceAll(',', ' '), fail));
  }
  const match = CHECK_LINE.exec(text.trim());
  if (!match) throw fail(`expected name(arguments), e.g. not_null(order_id); checks: ${HEADER_CHECKS.join(', ')}`);
  const [, name = '', argText = '', optionText = ''] = match;
  const options = parseOptions(optionText, fail);
  const args = splitArguments(argText);
  const positional = args.filter((a) => !/^[a-z_]+\s*=/.test(a));
  const named = new Map(args.filter((a) => /^[a-z_]+\s*=/.test(a)).map((a) => [a.slice(0, a.indexOf('=')).trim(), a.slice(a.indexOf('=') + 1).trim()]));
  const number = (key: string) => {
    const value = named.get(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw fail(`${key}=${value} is not a number`);
    return n;
  };
  const only = (count: number) => {
    if (positional.length !== count) throw fail(`${name} takes ${count} column argument${count === 1 ? '' : 's'}, got ${positional.length}`);
    return positional;
  };
  switch (name) {
    case 'not_null':
      return notNull(only(1)[0] as string, options);
    case 'not_empty_string':
      return notEmptyString(only(1)[0] as string, options);
    case 'unique':
      return unique(positional, options);
    case 'accepted_values': {
      const [column, ...values] = positional;
      return acceptedValues(
        column ?? '',
        values.map((v) => literal(v, fail)),
        options,
      );
    }
    case 'accepted_range':
      return acceptedRange(only(1)[0] as string, { ...optional('min', number('min')), ...optional('max', number('max')) }, options);
    case 'row_count':
      return rowCount({ ...optional('min', number('min')), ...optional('max', number('max')) }, options);
    case 'relationships': {
      const [column, target] = only(2) as [string, string];
      const dot = target.lastIndexOf('.');
      if (dot <= 0) throw fail(`"${target}" must be asset.column, e.g. staging/orders.order_id`);
      return relationships(column, { to: target.slice(0, dot), field: target.slice(dot + 1) }, options);
    }
    case 'freshness': {
      const [column, age] = only(2) as [string, string];
      return freshness(column, age, options);
    }
    case 'schema':
      if (positional[0] === 'previous') {
        if (positional.length > 1) throw fail('schema(previous) takes no columns: compare with the previous materialization, or list the columns and types');
        const allowAdded = named.get('allow_added');
        if (allowAdded !== undefined && allowAdded !== 'true' && allowAdded !== 'false') throw fail(`allow_added=${allowAdded} must be true or false`);
        const unknown = [...named.keys()].filter((k) => k !== 'allow_added');
        if (unknown.length > 0) throw fail(`schema(previous) takes allow_added=true|false, not ${unknown.join(', ')}`);
        return schema({ against: 'previous', allowAdded: allowAdded !== 'false' }, options);
      }
      return schema(
        Object.fromEntries(
          positional.map((p) => {
            const [column = '', ...type] = p.split(/\s+/);
            if (type.length === 0) throw fail(`"${p}" must be a column and its type, e.g. order_id VARCHAR`);
            return [column, type.join(' ')];
          }),
        ),
        options,
      );
    case 'row_count_anomaly':
      return rowCountAnomaly({
        ...options,
        ...optional('lookback', number('lookback')),
        ...optional('maxStdDevs', number('max_std_devs')),
        ...optional('maxPercent', number('max_percent')),
      });
    default:
      throw fail(`unknown check "${name}" (checks: ${HEADER_CHECKS.join(', ')}, custom_sql(name): select ...)`);
  }
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** `'open'` → `open`, `42` → 42, `true` → true. */
function literal(text: string, fail: (message: string) => Error): CheckValue {
  if (/^'.*'$/s.test(text)) return text.slice(1, -1).replaceAll("''", "'");
  if (text === 'true' || text === 'false') return text === 'true';
  const n = Number(text);
  if (text !== '' && Number.isFinite(n)) return n;
  throw fail(`${text} is not a value: quote text ('open'), or write a number or true/false`);
}

/** Splits on commas outside quotes and parentheses (`DECIMAL(10,2)` stays whole). */
function splitArguments(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === "'") quoted = !quoted;
    if (!quoted && char === '(') depth++;
    if (!quoted && char === ')') depth--;
    if (!quoted && depth === 0 && char === ',') {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function parseOptions(text: string, fail: (message: string) => Error): CheckOptions {
  const options: { name?: string; severity?: 'warn' | 'error'; blocking?: boolean } = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const [key, value = ''] = part.split('=');
    if (key === 'severity' && (value === 'warn' || value === 'error')) options.severity = value;
    else if (key === 'blocking' && (value === 'true' || value === 'false')) options.blocking = value === 'true';
    else if (key === 'name' && value !== '') options.name = value;
    else throw fail(`"${part}" is not an option (severity=warn|error, blocking=true|false, name=...)`);
  }
  return options;
}
