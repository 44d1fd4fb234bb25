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
  const special = delimiter === ',' ? CSV_SPECIAL : TSV_SPECIAL;
  const encode = delimiter === ',' ? encodeCsvField : encodeTsvField;
  const lines: string[] = [];
  for (const row of [header, ...rows]) {
    // Most fields need no quoting: join them as they are unless one does.
    lines.push(row.some((field) => special.test(field)) ? row.map(encode).join(delimiter) : row.join(delimiter));
  }
  return `${lines.join('\n')}\n`;
}

const CSV_SPECIAL = /[",\r\n]/;
const TSV_SPECIAL = /[\t\r\n"]/;

function encodeCsvField(value: string): string {
  return CSV_SPECIAL.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function encodeTsvField(value: string): string {
  if (TSV_SPECIAL.test(value)) throw new Error(`TSV field cannot contain tabs, line breaks or quotes: ${JSON.stringify(value)}`);
  return value;
}

/**
 * Parses delimited text as {@link toDelimitedText} writes it (header line included, `\n` line
 * endings, CSV fields optionally quoted). The inverse of `toDelimitedText`: re-rendering the
 * rows gives back the same text.
 *
 * @example
 * parseDelimitedText('id,name\n1,"Fish, Chips"\n', ','); // [['id', 'name'], ['1', 'Fish, Chips']]
 */
export function parseDelimitedText(text: string, delimiter: Delimiter): string[][] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body === '') return [];
  if (delimiter === '\t' || !body.includes('"')) return body.split('\n').map((line) => line.split(delimiter));
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (quoted) {
      if (char !== '"') field += char;
      else if (body[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = '';
    } else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  row.push(field);
  rows.push(row);
  return rows;
}
