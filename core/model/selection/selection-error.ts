import { SelectionError } from '../errors.ts';
import type { Span } from './selection-node.ts';

/**
 * A {@link SelectionError} pointing at `span` of `selection`: the message names the 1-based
 * column, any suggestions, and shows the selection with carets under the span. The error's
 * `position` is the 0-based offset of the span.
 *
 * @example
 * selectionError('a or )', { start: 5, end: 6 }, 'unexpected ")"').message;
 * // unexpected ")" at column 6
 * //   a or )
 * //        ^
 */
export function selectionError(selection: string, span: Span, message: string, suggestions: readonly string[] = []): SelectionError {
  const hint = suggestions.length > 0 ? ` (did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?)` : '';
  const carets = '^'.repeat(Math.max(1, span.end - span.start));
  const shown = selection.replace(/\s/g, ' ');
  return new SelectionError(
    `${message} at column ${span.start + 1}${hint}\n  ${shown}\n  ${' '.repeat(span.start)}${carets}`,
    selection,
    span.start,
    suggestions,
  );
}
