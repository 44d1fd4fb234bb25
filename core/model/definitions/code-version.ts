import { createHash } from 'node:crypto';
import type { AssetDefinition } from './asset-spec.ts';
import { sqlTokens, type SqlTokenKind } from './sql-lexer.ts';

/**
 * The code version of an asset: its explicit `codeVersion`, else a hash of its normalized
 * SQL (comments and whitespace do not count), of its materialize (observe) function's
 * source plus its `config`, or of a seed's file content and column types.
 */
export function codeVersionOf(definition: AssetDefinition): string {
  if (definition.spec.codeVersion) return definition.spec.codeVersion;
  return shortHash(`${definition.compute.type}\n${codeSource(definition)}`, 12);
}

function codeSource({ spec, compute }: AssetDefinition): string {
  switch (compute.type) {
    case 'sql':
      // A snapshot's key and strategy, and an incremental asset's settings, live in header comments, which normalizeSql drops.
      return `${compute.materialization}:${compute.snapshot === undefined ? '' : `${stableJson(compute.snapshot)}:`}${compute.incremental === undefined ? '' : `${stableJson(compute.incremental)}:`}${normalizeSql(compute.sql)}${compute.incrementalSql === undefined ? '' : `:${normalizeSql(compute.incrementalSql)}`}`;
    // A TypeScript function's text alone can be shared by assets built from one factory, so the key counts too.
    case 'typescript':
      return `${spec.key}:${compute.materialize.toString()}:${compute.config === undefined ? '' : stableJson(compute.config)}`;
    case 'source':
      return `${spec.key}:${compute.observe.toString()}`;
    // A seed's file is its code: an edit makes it stale, a touch does not.
    case 'seed':
      return `${compute.contentHash}:${stableJson(compute.columnTypes)}`;
  }
}

/**
 * The dependency version of an asset: a hash of its sorted upstream keys. A materialization
 * records it, so adding or removing a dependency makes the asset's partitions stale.
 */
export function depsVersionOf(parents: readonly string[]): string {
  return shortHash([...parents].sort().join('\n'), 8);
}

/** JSON with object keys sorted, so equal data always serializes (and hashes) the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
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
