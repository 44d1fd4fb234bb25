/**
 * The kind naming the warehouse an asset's SQL runs on: SQL assets and seeds are built with kind
 * `duckdb` (the default warehouse); on a Postgres warehouse they carry `postgres` instead, so
 * `list`, the UI and `kind:postgres` say where they are.
 */
import { makeDefinition, type AssetDefinition } from './asset-spec.ts';

/**
 * `definition` with its `duckdb` kind replaced by `warehouse`'s, when it is a SQL asset or a seed.
 *
 * @example
 * onWarehouse(seed, 'postgres').spec.kinds // ['seed', 'postgres', 'dbt']
 */
export function onWarehouse(definition: AssetDefinition, warehouse: 'duckdb' | 'postgres'): AssetDefinition {
  const { spec, compute, file } = definition;
  if (warehouse === 'duckdb' || (compute.type !== 'sql' && compute.type !== 'seed') || !spec.kinds.includes('duckdb')) return definition;
  const kinds = Object.freeze(spec.kinds.map((kind) => (kind === 'duckdb' ? warehouse : kind)));
  return makeDefinition(Object.freeze({ ...spec, kinds }), compute, file);
}
