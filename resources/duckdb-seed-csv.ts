/**
 * Seeds in DuckDB: a CSV file read with DuckDB's `read_csv`.
 */

/**
 * The query that reads a seed: DuckDB's `read_csv` with a header row, comma-separated, the
 * given column types and the other types detected.
 *
 * @example
 * seedSelect('/p/seeds/countries.csv', { population: 'BIGINT' });
 * // select * from read_csv('/p/seeds/countries.csv', header = true, delim = ',', types = {'population': 'BIGINT'})
 */
export function seedSelect(path: string, columnTypes: Readonly<Record<string, string>>): string {
  const entries = Object.entries(columnTypes);
  const types = entries.length === 0 ? '' : `, types = {${entries.map(([column, type]) => `${literal(column)}: ${literal(type)}`).join(', ')}}`;
  return `select * from read_csv(${literal(path)}, header = true, delim = ','${types})`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
