/**
 * dbt's `path:` selection method in Strata's grammar: `path:models/staging` selects the assets
 * made from the dbt nodes whose file is in that folder (at any depth), `path:models/staging/stg_orders.sql`
 * the one of that file. Paths are relative to the dbt project's root, as in dbt; the resource
 * folder may be left out (`path:staging`). The node's path is recorded on its spec
 * (`AssetSpec.dbtPath`) when the project loads: selecting reads no file.
 */

/**
 * What `path:` matches for an asset made from a dbt node at `dbtPath`: the file and every folder
 * above it, relative to the project's root and to its resource folder.
 *
 * @example
 * dbtPathValues('models/staging/stg_orders.sql');
 * // ['models/staging/stg_orders.sql', 'models/staging', 'models', 'staging/stg_orders.sql', 'staging']
 */
export function dbtPathValues(dbtPath: string | undefined): readonly string[] {
  if (dbtPath === undefined) return [];
  const segments = dbtPath.split('/');
  const values: string[] = [];
  for (let end = segments.length; end >= 1; end--) values.push(segments.slice(0, end).join('/'));
  for (let end = segments.length; end >= 2; end--) values.push(segments.slice(1, end).join('/'));
  return values;
}

/**
 * A `path:` value in the form {@link dbtPathValues} gives: without a leading `./` or a trailing `/`.
 *
 * @example
 * normalizeDbtPath('./models/staging/'); // 'models/staging'
 */
export function normalizeDbtPath(value: string): string {
  return value.replace(/^(\.\/)+/, '').replace(/\/+$/, '') || value;
}
