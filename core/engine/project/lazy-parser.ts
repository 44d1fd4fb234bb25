/**
 * An in-memory DuckDB for its parser, opened only when a query is not in a cache by SQL hash.
 *
 * @example
 * const parser = new LazyParser();
 * try { await parseSqlTree(await parser.connection(), sql); } finally { parser.close(); }
 */
export class LazyParser {
  #instance: import('@duckdb/node-api').DuckDBInstance | undefined;
  #connection: import('@duckdb/node-api').DuckDBConnection | undefined;

  /** The connection, opening DuckDB on first call. */
  async connection(): Promise<import('@duckdb/node-api').DuckDBConnection> {
    if (!this.#connection) {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      // One thread: it only parses, and starting a thread pool costs more than the parsing.
      this.#instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      this.#connection = await this.#instance.connect();
    }
    return this.#connection;
  }

  /** Closes DuckDB if it was opened. */
  close(): void {
    this.#connection?.closeSync();
    this.#instance?.closeSync();
  }
}
