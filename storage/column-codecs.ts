/**
 * How API values are stored in columns: JSON as text (parsed on read) and the unpartitioned
 * `null` partition as `''`. Both storage implementations encode through these functions, so a
 * value read back is the same whichever storage wrote it.
 */

const EMPTY_OBJECT_TEXT = '{}';
const EMPTY_ARRAY_TEXT = '[]';

/** The `partition_key` column value of a partition: `''` for unpartitioned (`null`). */
export function partitionToColumn(partition: string | null | undefined): string {
  return partition ?? '';
}

/** The API partition of a `partition_key` column value: `''` reads back as `null`. */
export function partitionFromColumn(column: string | null): string | null {
  return column === '' || column === null ? null : column;
}

/** JSON text of a value (objects, arrays); `undefined` members are dropped as JSON does. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value);
}

/** JSON text of a value that may be `null`. */
export function toNullableJsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * Parses JSON text that holds an object. The very common empty object skips the parser
 * (bulk reads of latest materializations decode millions of these).
 */
export function parseJsonObject<T extends object = Record<string, unknown>>(text: string): T {
  return (text === EMPTY_OBJECT_TEXT ? {} : JSON.parse(text)) as T;
}

/** Parses JSON text that holds an array; the empty array skips the parser. */
export function parseJsonArray<T>(text: string): T[] {
  return text === EMPTY_ARRAY_TEXT ? [] : (JSON.parse(text) as T[]);
}

/** Parses JSON text that may be `null`. */
export function parseNullableJsonObject<T extends object = Record<string, unknown>>(text: string | null): T | null {
  return text === null ? null : parseJsonObject<T>(text);
}
