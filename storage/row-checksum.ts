/**
 * A checksum of a table's rows that does not depend on their order, so a table read from SQLite
 * and the same table read back from Postgres compare equal whatever order each returns rows in:
 * the sum (mod 2^64) of a hash of every row's values, with the row count.
 */

import { createHash } from 'node:crypto';

const MASK = (1n << 64n) - 1n;

/**
 * Accumulates rows (arrays of values, columns in one agreed order) into a checksum.
 *
 * @example
 * const sum = new RowChecksum();
 * sum.add([1, 'run-1', null]);
 * sum.digest(); // '1:…'
 */
export class RowChecksum {
  #rows = 0;
  #sum = 0n;

  /** Adds one row. Numbers, strings and nulls hash as JSON; a bigint as its decimal number. */
  add(row: readonly unknown[]): void {
    const text = JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value));
    this.#sum = (this.#sum + createHash('md5').update(text).digest().readBigUInt64BE(0)) & MASK;
    this.#rows++;
  }

  /** Adds every row of `rows`. */
  addAll(rows: readonly (readonly unknown[])[]): void {
    for (const row of rows) this.add(row);
  }

  /** `rows:sum` in hex: equal for equal multisets of rows. */
  digest(): string {
    return `${this.#rows}:${this.#sum.toString(16).padStart(16, '0')}`;
  }
}
