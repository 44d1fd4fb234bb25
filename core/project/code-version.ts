import { createHash } from 'node:crypto';
import type { AssetDefinition } from '../definitions/asset-spec.ts';

/**
 * The code version of an asset: its explicit `codeVersion`, else a hash of its normalized
 * SQL (comments and whitespace do not count) or of its materialize function's source, together
 * with the spec fields that change what it computes.
 */
export function codeVersionOf(definition: AssetDefinition): string {
  if (definition.spec.codeVersion) return definition.spec.codeVersion;
  const { compute } = definition;
  // A TypeScript function's text alone can be shared by assets built from one factory, so the key counts too.
  const source =
    compute.type === 'sql' ? `${compute.materialization}:${normalizeSql(compute.sql)}` : `${definition.spec.key}:${compute.materialize.toString()}`;
  return createHash('sha256').update(`${compute.type}\n${source}`).digest('hex').slice(0, 12);
}

/** Removes comments and collapses whitespace outside string literals and quoted identifiers. */
export function normalizeSql(sql: string): string {
  const parts: string[] = [];
  let pendingSpace = false;
  const emit = (text: string) => {
    const last = parts.at(-1) ?? '';
    if (pendingSpace && parts.length > 0 && !/[(),;]$/.test(last) && !/^[(),;]/.test(text)) parts.push(' ');
    pendingSpace = false;
    parts.push(text);
  };
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      emit(sql.slice(i, end));
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      pendingSpace = true;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      pendingSpace = true;
    } else if (/\s/.test(ch)) {
      i++;
      pendingSpace = true;
    } else {
      emit(ch);
      i++;
    }
  }
  return parts.join('').replace(/;$/, '');
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}
