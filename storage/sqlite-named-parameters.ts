/**
 * Named parameters (`@name`) in kysely-built SQL, so a statement can be compiled once,
 * prepared once with better-sqlite3, and then bound from plain objects many times.
 */

import { sql } from './kysely/kysely-runtime.ts';
import type { RawBuilder } from 'kysely';

/**
 * A named statement parameter, bound from the property `name` of the object passed to
 * better-sqlite3's `run`/`get`/`all`.
 *
 * @example
 * const text = db.insertInto('runs').values({ id: param('id'), ... }).compile().sql;
 * sqlite.prepare(text).run({ id: 'r1', ... });
 */
export function param<T>(name: string): RawBuilder<T> {
  return sql.raw<T>(`@${name}`);
}

/** Named parameters for the given columns of a row type: `{ run_id: @run_id, ... }`. */
export function params<Row extends object>(columns: readonly (keyof Row & string)[]): { [K in keyof Row]: RawBuilder<Row[K]> } {
  return Object.fromEntries(columns.map((c) => [c, param(c)])) as { [K in keyof Row]: RawBuilder<Row[K]> };
}
