/**
 * The query of a SQL asset file: the one statement after its header, checked to look like a
 * SELECT before DuckDB's parser has the final word.
 */
import { sqlTokens } from './sql-lexer.ts';

/** How a finding is reported: a stable code and a message. */
export type QueryReport = (code: string, message: string) => void;

/** First words a SELECT-like query may start with (DuckDB accepts FROM-first and `TABLE t`). */
const QUERY_STARTS: ReadonlySet<string> = new Set(['select', 'with', 'from', 'values', 'table']);

/**
 * Cuts the query out of the file: keeps everything up to its last token, drops a trailing `;`
 * (and comments after it, so callers may wrap the query in parentheses), and rejects files that
 * are empty, hold several statements, or do not start like a SELECT. DuckDB's parser has the
 * final word; this check only gives a clear message early.
 */
export function extractQuery(text: string, report: QueryReport): string | undefined {
  const statements = scanStatements(text).filter((s) => s.first !== -1);
  if (statements.length === 0) {
    report('sql_body_empty', 'the SQL file has no query');
    return undefined;
  }
  if (statements.length > 1) {
    report('sql_not_select', `a SQL asset must be a single SELECT query, but the file has ${statements.length} statements`);
    return undefined;
  }
  const statement = statements[0]!;
  const word = /^[A-Za-z_]+/.exec(text.slice(statement.first))?.[0]?.toLowerCase();
  if (text[statement.first] !== '(' && (word === undefined || !QUERY_STARTS.has(word))) {
    const start = text.slice(statement.first, statement.first + 40).split(/\r?\n/)[0];
    report('sql_not_select', `a SQL asset must be a single SELECT query, but the file starts with "${start}"`);
    return undefined;
  }
  return text.slice(statement.start, statement.end);
}

/** A `;`-separated statement: where it starts, and its first and last significant characters. */
interface StatementSpan {
  start: number;
  /** Index of the first character that is not whitespace or comment; -1 when there is none. */
  first: number;
  /** Index just past the last significant character. */
  end: number;
}

/** Splits SQL at top-level semicolons, ignoring comments and quoted text. */
function scanStatements(text: string): StatementSpan[] {
  const spans: StatementSpan[] = [];
  let current: StatementSpan = { start: 0, first: -1, end: 0 };
  for (const token of sqlTokens(text)) {
    if (token.kind === 'comment' || token.kind === 'space') continue;
    if (token.kind === 'semicolon') {
      spans.push(current);
      current = { start: token.end, first: -1, end: token.end };
    } else {
      if (current.first === -1) current.first = token.start;
      current.end = token.end;
    }
  }
  spans.push(current);
  return spans;
}
