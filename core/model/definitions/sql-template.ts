/**
 * Template variables in SQL assets. Partition variables — `{{ partition_key }}`,
 * `{{ partition_start }}` and `{{ partition_end }}` — become typed SQL literals built from
 * validated partition keys and engine-computed window bounds (never from free user text), so a
 * range run is one statement. Path variables — `{{ landing }}` and `{{ project_dir }}` — become
 * string literals of the project's absolute landing and project folders, for SQL that reads
 * files by an explicit path: `read_csv({{ landing }} || '/orders_*.csv')`.
 * Incremental variables — `{{ this }}` (the asset's own table), `{{ is_incremental }}` (`true` or
 * `false`) and `{{ watermark }}` (a typed literal computed by the engine) — exist only in
 * incremental assets.
 * Text in SQL comments is not SQL: a `{{ … }}` there (a header's `-- check: custom_sql(…)` line,
 * say) is left alone.
 */
import { sqlTokens } from './sql-lexer.ts';

/** The variables a SQL asset may use. */
export const TEMPLATE_VARIABLES = [
  'partition_key',
  'partition_start',
  'partition_end',
  'landing',
  'project_dir',
  'this',
  'is_incremental',
  'watermark',
] as const;

/** One template variable's name. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** The variables every SQL asset may use, partitioned or not. */
const PATH_VARIABLES: ReadonlySet<string> = new Set<TemplateVariable>(['landing', 'project_dir']);

/** The variables of incremental assets. */
const INCREMENTAL_VARIABLES: ReadonlySet<string> = new Set<TemplateVariable>(['this', 'is_incremental', 'watermark']);

/**
 * Values for one step: the key (or `first..last` for a range) and local wall-clock bounds of a
 * partitioned asset, and the project's folders.
 */
export interface TemplateValues {
  /** Absent for an unpartitioned asset. */
  readonly partition_key?: string;
  /** `YYYY-MM-DD HH:mm:ss`, absent for static partitions. */
  readonly partition_start?: string;
  readonly partition_end?: string;
  /** Absolute path of the landing folder. */
  readonly landing?: string;
  /** Absolute path of the project folder. */
  readonly project_dir?: string;
  /** Incremental assets: the quoted, qualified table of the asset. */
  readonly this?: string;
  readonly is_incremental?: boolean;
  /** Incremental assets: the watermark as a SQL literal (see `resources/incremental-writes.ts`). */
  readonly watermark?: string;
}

/** What {@link templateProblems} needs to know about an asset's materialization. */
export interface TemplateAsset {
  readonly incremental: boolean;
  /** The declared watermark column, if any. */
  readonly watermark?: string;
  /** The query runs on this Postgres resource (`source:`), so it cannot read DuckDB tables. */
  readonly source?: string;
}

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** `{{ this }}`: the checked asset's table, in a custom SQL check (global: use with replaceAll, not test). */
export const THIS_VARIABLE = /\{\{\s*this\s*\}\}/g;
const LOCAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Names of the variables `sql` uses, in order of first use. */
export function templateVariables(sql: string): string[] {
  return [...new Set(codeParts(sql).flatMap((code) => [...code.matchAll(VARIABLE)].map((m) => m[1] as string)))];
}

/** Why a SQL asset's variables cannot be bound, or an empty list. */
export function templateProblems(sql: string, partitioned: 'time' | 'static' | 'none', asset: TemplateAsset = { incremental: false }): string[] {
  const used = templateVariables(sql);
  const problems = used.flatMap((name) => {
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
      return [`unknown template variable {{ ${name} }} (use ${TEMPLATE_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')})`];
    }
    if (PATH_VARIABLES.has(name)) return [];
    if (INCREMENTAL_VARIABLES.has(name)) {
      if (!asset.incremental) return [`{{ ${name} }} is used, but the asset is not incremental (add materialization: incremental)`];
      if (name === 'watermark' && asset.watermark === undefined)
        return ['{{ watermark }} is used, but no watermark column is declared (add watermark: <column>)'];
      if (name === 'this' && asset.source !== undefined) {
        return [`{{ this }} is the asset's DuckDB table, and this query runs on Postgres (source: ${asset.source}): filter with {{ watermark }} instead`];
      }
      return [];
    }
    if (partitioned === 'none') return [`{{ ${name} }} is used, but the asset is not partitioned (add partitioned_by)`];
    if (partitioned === 'static' && name !== 'partition_key')
      return [`{{ ${name} }} needs time-window partitions; static partitions only have {{ partition_key }}`];
    return [];
  });
  if (asset.watermark !== undefined && !used.includes('watermark')) {
    problems.push(
      `watermark: ${asset.watermark} is declared, but the query does not use {{ watermark }} (filter on it, e.g. where ${asset.watermark} > {{ watermark }})`,
    );
  }
  return problems;
}

/**
 * Replaces every variable with a literal: a quoted string for the key and the paths, `DATE '…'`
 * or `TIMESTAMP '…'` for bounds. Throws for a variable without a value.
 */
export function renderSqlTemplate(sql: string, values: TemplateValues): string {
  return outsideComments(sql, (code) =>
    code.replace(VARIABLE, (whole, name: string) => {
      if (name === 'partition_key' || name === 'landing' || name === 'project_dir') {
        const value = values[name];
        if (value === undefined) throw new Error(`no value for ${whole}`);
        return quoteLiteral(value);
      }
      if (name === 'partition_start' || name === 'partition_end') {
        const value = values[name];
        if (value === undefined || !LOCAL_TIMESTAMP.test(value)) throw new Error(`no value for ${whole}`);
        // A midnight bound is a DATE literal: DuckDB then compares a DATE column without casting
        // it, and skips the row groups outside the window. TIMESTAMP columns compare equally.
        return value.endsWith(' 00:00:00') ? `DATE '${value.slice(0, 10)}'` : `TIMESTAMP '${value}'`;
      }
      if (name === 'this' || name === 'watermark') {
        const value = values[name];
        if (value === undefined) throw new Error(`no value for ${whole}`);
        return value;
      }
      if (name === 'is_incremental') {
        if (values.is_incremental === undefined) throw new Error(`no value for ${whole}`);
        return values.is_incremental ? 'true' : 'false';
      }
      throw new Error(`unknown template variable ${whole}`);
    }),
  );
}

/** The schema `{{ this }}` gets for DuckDB's parser: tables in it are the asset itself, not dependencies. */
export const THIS_PLACEHOLDER_SCHEMA = '__strata_this__';

/**
 * The SQL with placeholder values, for DuckDB's parser (dependency inference). `{{ this }}`
 * becomes a table in {@link THIS_PLACEHOLDER_SCHEMA}: reading its own table is no dependency.
 */
export function renderForParsing(sql: string): string {
  return outsideComments(sql, (code) =>
    code.replace(VARIABLE, (_whole, name: string) => {
      if (name === 'partition_key') return "'partition'";
      if (name === 'this') return `${THIS_PLACEHOLDER_SCHEMA}.this`;
      if (name === 'is_incremental') return 'false';
      if (name === 'watermark') return 'NULL';
      return PATH_VARIABLES.has(name) ? `'/${name}'` : "TIMESTAMP '2000-01-01 00:00:00'";
    }),
  );
}

/** A single-quoted SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The runs of `sql` between comments (all of it when it has none). */
function codeParts(sql: string): string[] {
  const parts: string[] = [];
  outsideComments(sql, (code) => {
    parts.push(code);
    return code;
  });
  return parts;
}

/** `sql` with `replace` applied to each run of text between comments; comments are kept as they are. */
function outsideComments(sql: string, replace: (code: string) => string): string {
  if (!sql.includes('--') && !sql.includes('/*')) return replace(sql);
  let out = '';
  let code = '';
  for (const token of sqlTokens(sql)) {
    const text = sql.slice(token.start, token.end);
    if (token.kind !== 'comment') code += text;
    else {
      out += replace(code) + text;
      code = '';
    }
  }
  return out + replace(code);
}
