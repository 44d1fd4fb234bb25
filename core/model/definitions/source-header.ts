/**
 * The `source:` header of a SQL asset file: the query runs on a Postgres resource of strata.json
 * and its rows land in the asset's DuckDB table.
 *
 * @example
 * -- source: shop_db
 * -- deps: landing/orders
 * select id, customer_id, amount, updated_at from public.orders
 *
 * With `materialization: incremental` the rows are merged (or appended) instead: `{{ watermark }}`
 * is then the column's maximum in the DuckDB table, written as a literal Postgres reads.
 */
import type { SqlMaterialization } from './asset-spec.ts';

/** Header fields of a Postgres-sourced SQL asset. */
export const SOURCE_HEADER_FIELDS = ['source'] as const;

const RESOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The resource named by `source:`, or `undefined`; problems go to `fail`. */
export function parseSourceHeader(
  value: string | undefined,
  materialization: SqlMaterialization,
  fail: (code: string, message: string) => void,
): string | undefined {
  if (value === undefined) return undefined;
  if (!RESOURCE_NAME.test(value)) {
    fail('sql_header_invalid', `source must name a resource of strata.json "resources", not "${value}"`);
    return undefined;
  }
  if (materialization !== 'table' && materialization !== 'incremental') {
    fail(
      'sql_header_invalid',
      `a "source: ${value}" query runs on Postgres and its rows land in a table: materialization must be "table" or "incremental", not "${materialization}"`,
    );
    return undefined;
  }
  return value;
}
