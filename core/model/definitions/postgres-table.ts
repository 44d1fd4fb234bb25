/**
 * A source asset on a Postgres table (or any Postgres query): observed by `count(*)` and
 * `max(watermark)`, so what reads it becomes stale when rows are inserted, updated or deleted.
 */
import { createHash } from 'node:crypto';
import { DefinitionError } from '../errors.ts';
import { makeDefinition, type AssetDefinition } from './asset-spec.ts';
import { sourceAsset, type ObserveContext, type SourceAssetOptions, type SourceObservation } from './source-asset.ts';

/** What {@link postgresTable} accepts: a source asset's options without `observe`. */
export interface PostgresTableOptions extends Omit<SourceAssetOptions, 'observe'> {
  /** The resource of strata.json `"resources"` the table lives in. */
  resource: string;
  /** `schema.table` (or `table`): observed by `count(*)` and, with `watermark`, `max(watermark)`. */
  table?: string;
  /** A column that grows when a row changes (`updated_at`, an id): part of the data version. */
  watermark?: string;
  /** Instead of `table`: a query returning one row whose values are the data version (`select max(lsn) from ...`). */
  query?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * Declares a source asset on a Postgres table. Its data version is the row count and the
 * largest watermark (or the values of `query`'s row); a failing connection follows the
 * source's retry policy (else strata.json `"retries"`).
 *
 * @example
 * export const orders = postgresTable({ key: 'landing/orders', resource: 'shop_db', table: 'public.orders', watermark: 'updated_at' });
 */
export function postgresTable(options: PostgresTableOptions): AssetDefinition {
  const { resource, table, watermark, query, ...rest } = options;
  const fail = (message: string) => new DefinitionError('asset_invalid', message, typeof rest.key === 'string' ? { assetKey: rest.key } : {});
  if (typeof resource !== 'string' || !NAME.test(resource)) throw fail('postgresTable needs `resource`: the name of a resource in strata.json "resources"');
  if ((table === undefined) === (query === undefined)) throw fail('postgresTable needs exactly one of `table` and `query`');
  if (query !== undefined && watermark !== undefined) throw fail('`watermark` goes with `table`; a `query` returns its own data version');
  const sql = query ?? observeSql(table as string, watermark, fail);
  const observe = async (ctx: ObserveContext): Promise<SourceObservation[]> => {
    const rows = await ctx.resources[resource]!.query(sql);
    if (rows.length !== 1) throw new Error(`the observation query of ${ctx.key} returned ${rows.length} rows, not 1`);
    const values = rows[0] as Record<string, unknown>;
    const metadata = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
    const text = JSON.stringify(metadata);
    const dataVersion = text.length <= 120 ? text : createHash('sha256').update(text).digest('hex');
    return [{ dataVersion, metadata }];
  };
  const definition = sourceAsset({ ...rest, kinds: [...(rest.kinds ?? []), 'postgres'], observe });
  return makeDefinition(definition.spec, { type: 'source', observe, resources: [resource] });
}

function observeSql(table: string, watermark: string | undefined, fail: (message: string) => DefinitionError): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => !NAME.test(p))) throw fail(`table "${table}" is not "schema.table" or "table"`);
  if (watermark !== undefined && !NAME.test(watermark)) throw fail(`watermark "${watermark}" is not a column name`);
  const quoted = parts.map((p) => `"${p}"`).join('.');
  const max = watermark === undefined ? '' : `, max("${watermark}")::text as watermark`;
  return `select count(*)::bigint::text as row_count${max} from ${quoted}`;
}
