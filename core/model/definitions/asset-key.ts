/**
 * Asset keys are slash-separated paths such as `staging/orders`. The first segment is the
 * layer and, for DuckDB assets, the schema; the remaining segments name the table.
 */

const SEGMENT = /^[a-z_][a-z0-9_]*$/;

/** The DuckDB schema Strata keeps its own tables in (`_strata.commits`); no asset may use it as its layer. */
export const STRATA_SCHEMA = '_strata';

/** Returns why `key` is not a valid asset key, or `undefined` when it is valid. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'asset key is empty';
  const segments = key.split('/');
  if (segments.length < 2) return `asset key "${key}" needs a layer and a name, e.g. "staging/orders"`;
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) {
    return `asset key "${key}" has an invalid segment "${bad}" (use lowercase letters, digits and _; start with a letter or _)`;
  }
  if (segments[0] === STRATA_SCHEMA) return `asset key "${key}" uses the layer "${STRATA_SCHEMA}", which Strata keeps for its own tables`;
  return undefined;
}

/** The DuckDB schema and table an asset key maps to: `marts/fct_sales` → `marts`, `fct_sales`. */
export function keyToTable(key: string): { readonly schema: string; readonly table: string } {
  const [schema, ...rest] = key.split('/');
  return { schema: schema ?? 'main', table: rest.join('__') };
}

/** The quoted, qualified DuckDB name of an asset key: `marts/fct_sales` → `"marts"."fct_sales"`. */
export function qualifiedTableName(key: string): string {
  const { schema, table } = keyToTable(key);
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/** The asset key a DuckDB `schema.table` reference names (inverse of {@link keyToTable}). */
export function tableToKey(schema: string, table: string): string {
  return `${schema}/${table.split('__').join('/')}`.toLowerCase();
}

/** Quotes an SQL identifier, doubling embedded quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `key@partition`, the identity of one asset partition. */
export function partitionId(key: string, partition: string | null): string {
  return partition === null ? key : `${key}@${partition}`;
}
