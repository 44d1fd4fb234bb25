/**
 * Partition variables in SQL assets: `{{ partition_key }}`, `{{ partition_start }}` and
 * `{{ partition_end }}`. They become typed SQL literals built from validated partition keys and
 * engine-computed window bounds (never from free user text), so a range run is one statement.
 */

/** The variables a SQL asset may use. */
export const TEMPLATE_VARIABLES = ['partition_key', 'partition_start', 'partition_end'] as const;

/** One template variable's name. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** Values for one step: the key (or `first..last` for a range) and local wall-clock bounds. */
export interface TemplateValues {
  readonly partition_key: string;
  /** `YYYY-MM-DD HH:mm:ss`, absent for static partitions. */
  readonly partition_start?: string;
  readonly partition_end?: string;
}

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const LOCAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Names of the variables `sql` uses, in order of first use. */
export function templateVariables(sql: string): string[] {
  return [...new Set([...sql.matchAll(VARIABLE)].map((m) => m[1] as string))];
}

/** Why a SQL asset's variables cannot be bound, or an empty list. */
export function templateProblems(sql: string, partitioned: 'time' | 'static' | 'none'): string[] {
  return templateVariables(sql).flatMap((name) => {
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
      return [`unknown template variable {{ ${name} }} (use ${TEMPLATE_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')})`];
    }
    if (partitioned === 'none') return [`{{ ${name} }} is used, but the asset is not partitioned (add partitioned_by)`];
    if (partitioned === 'static' && name !== 'partition_key') return [`{{ ${name} }} needs time-window partitions; static partitions only have {{ partition_key }}`];
    return [];
  });
}

/** Replaces every variable with a typed literal: a quoted string for the key, `DATE '…'` or `TIMESTAMP '…'` for bounds. */
export function renderSqlTemplate(sql: string, values: TemplateValues): string {
  return sql.replace(VARIABLE, (whole, name: string) => {
    if (name === 'partition_key') return quoteLiteral(values.partition_key);
    if (name === 'partition_start' || name === 'partition_end') {
      const value = values[name];
      if (value === undefined || !LOCAL_TIMESTAMP.test(value)) throw new Error(`no value for ${whole}`);
      // A midnight bound is a DATE literal: DuckDB then compares a DATE column without casting
      // it, and skips the row groups outside the window. TIMESTAMP columns compare equally.
      return value.endsWith(' 00:00:00') ? `DATE '${value.slice(0, 10)}'` : `TIMESTAMP '${value}'`;
    }
    throw new Error(`unknown template variable ${whole}`);
  });
}

/** The SQL with placeholder values, for DuckDB's parser (dependency inference). */
export function renderForParsing(sql: string): string {
  return sql.replace(VARIABLE, (_whole, name: string) => (name === 'partition_key' ? "'partition'" : "TIMESTAMP '2000-01-01 00:00:00'"));
}

/** A single-quoted SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
