import { createHash } from 'node:crypto';
import type { AssetDefinition } from '../definitions/asset-spec.ts';
import { sqlTokens, type SqlTokenKind } from '../definitions/sql-lexer.ts';

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

/**
 * Removes comments and whitespace outside quoted text. A space is kept only where dropping it
 * would join two words (`select a`) or two operator characters (`- -`, `> =`).
 */
export function normalizeSql(sql: string): string {
  let out = '';
  let previous: SqlTokenKind | undefined;
  let spaced = false;
  for (const token of sqlTokens(sql)) {
    if (token.kind === 'comment' || token.kind === 'space') {
      spaced = true;
      continue;
    }
    if (spaced && previous !== undefined && previous === token.kind && (token.kind === 'word' || token.kind === 'symbol')) out += ' ';
    out += sql.slice(token.start, token.end);
    previous = token.kind;
    spaced = false;
  }
  return out.replace(/;$/, '');
}
