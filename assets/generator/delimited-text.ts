/** Serialises rows of strings as CSV (RFC 4180 quoting) or TSV (no quoting, no tabs allowed). */

/** The delimiter of a landing file. */
export type Delimiter = ',' | '\t';

/**
 * Renders a header and rows as delimited text with `\n` line endings.
 *
 * @example
 * toDelimitedText(['id', 'name'], [['1', 'Fish, Chips']], ','); // 'id,name\n1,"Fish, Chips"\n'
 */
export function toDelimitedText(header: readonly string[], rows: readonly (readonly string[])[], delimiter: Delimiter): string {
  const encode = delimiter === ',' ? encodeCsvField : encodeTsvField;
  const lines = [header, ...rows].map((row) => row.map(encode).join(delimiter));
  return `${lines.join('\n')}\n`;
}

function encodeCsvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function encodeTsvField(value: string): string {
  if (/[\t\r\n"]/.test(value)) throw new Error(`TSV field cannot contain tabs, line breaks or quotes: ${JSON.stringify(value)}`);
  return value;
}
