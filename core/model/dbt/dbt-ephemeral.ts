/**
 * Ephemeral dbt models are not built: a model that refs one reads it as a CTE named
 * `__dbt__cte__<name>`, added in front of its own query (after its `with`, when it has one), as dbt does.
 */
import { sqlTokens } from '../definitions/sql-lexer.ts';

/** The CTE name an ephemeral model is read under. */
export function ephemeralCteName(model: string): string {
  return `__dbt__cte__${model}`;
}

/**
 * `sql` with the CTEs `ctes` (name → query, in order) added in front of its query.
 *
 * @example
 * injectCtes('with a as (select 1) select * from a, __dbt__cte__e', [['__dbt__cte__e', 'select 2']])
 * // 'with __dbt__cte__e as (select 2), a as (select 1) select * from a, __dbt__cte__e'
 */
export function injectCtes(sql: string, ctes: readonly (readonly [string, string])[]): string {
  if (ctes.length === 0) return sql;
  const definitions = ctes.map(([name, query]) => `${name} as (\n${query}\n)`).join(',\n');
  const words = significantWords(sql, 2);
  const first = words[0];
  if (first !== undefined && first.text.toLowerCase() === 'with') {
    const second = words[1];
    const after = second !== undefined && second.text.toLowerCase() === 'recursive' ? second.end : first.end;
    return `${sql.slice(0, after)} ${definitions},\n${sql.slice(after)}`;
  }
  const at = first?.start ?? 0;
  return `${sql.slice(0, at)}with ${definitions}\n${sql.slice(at)}`;
}

/** The first `count` tokens that are neither comments nor whitespace. */
function significantWords(sql: string, count: number): { text: string; start: number; end: number }[] {
  const words: { text: string; start: number; end: number }[] = [];
  for (const token of sqlTokens(sql)) {
    if (token.kind === 'comment' || token.kind === 'space') continue;
    words.push({ text: sql.slice(token.start, token.end), start: token.start, end: token.end });
    if (words.length === count) break;
  }
  return words;
}
