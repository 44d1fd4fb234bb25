/**
 * A small SQL lexer that knows what DuckDB treats as comments and quoted text: `--` line
 * comments, nested `/* *\/` comments, '' strings (E'' with backslash escapes), "" identifiers
 * and $tag$ dollar-quoted strings. Used to split statements and to normalize SQL for code
 * versions, never to parse queries (DuckDB's parser does that).
 */

/** What a token is. */
export type SqlTokenKind = 'comment' | 'space' | 'quoted' | 'word' | 'symbol' | 'semicolon';

/** A token: its kind and its `[start, end)` range in the text. */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  readonly start: number;
  readonly end: number;
}

const WORD = /[A-Za-z0-9_]/;

/** Splits `text` into tokens, covering every character exactly once. */
export function* sqlTokens(text: string): Generator<SqlToken> {
  let i = 0;
  while (i < text.length) {
    const start = i;
    const c = text[i] as string;
    const next = text[i + 1];
    let kind: SqlTokenKind;
    if (c === '-' && next === '-') {
      const newline = text.indexOf('\n', i);
      i = newline === -1 ? text.length : newline;
      kind = 'comment';
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(text, i);
      kind = 'comment';
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !WORD.test(text[i - 2] ?? '');
      i = skipQuoted(text, i, c, escapes);
      kind = 'quoted';
    } else if (c === '$' && !WORD.test(text[i - 1] ?? '') && /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64))?.[0] as string;
      const close = text.indexOf(tag, i + tag.length);
      i = close === -1 ? text.length : close + tag.length;
      kind = 'quoted';
    } else if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i] as string)) i++;
      kind = 'space';
    } else if (WORD.test(c)) {
      while (i < text.length && WORD.test(text[i] as string)) i++;
      kind = 'word';
    } else {
      i++;
      kind = c === ';' ? 'semicolon' : 'symbol';
    }
    yield { kind, start, end: i };
  }
}

function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (text.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return text.length;
}

/** Index just past the closing quote (doubled quotes, and backslashes in E'' strings, escape). */
function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (text[i + 1] !== quote) return i + 1;
      i += 2;
    } else {
      i++;
    }
  }
  return text.length;
}
