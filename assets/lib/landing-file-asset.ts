/**
 * The one way the example loads POS exports: every raw asset reads all landing files that
 * match its pattern into one all-text DuckDB table, with the name of the file each row came
 * from. Cleaning and typing happen in the staging layer.
 */
import { asset } from 'strata';
import type { AssetContext, AssetDefinition, MaterializeResult } from 'strata';
import { DATA_ENG } from './owners.ts';

/** Field separator of a landing file format. */
export type LandingDelimiter = ',' | '\t';

/** What {@link landingFileAsset} needs to know about one kind of export. */
export interface LandingFileAssetOptions {
  /** Asset key, `raw/<table>`. */
  readonly key: string;
  /** Glob on file names in the landing zone, e.g. `orders_*.csv`. */
  readonly pattern: string;
  readonly delimiter: LandingDelimiter;
  readonly description: string;
  /** Tags besides `source=pos`, e.g. `{ domain: 'sales' }`. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Declares a raw asset that loads every landing file matching `pattern`.
 *
 * @example
 * export const orders = landingFileAsset({
 *   key: 'raw/orders',
 *   pattern: 'orders_*.csv',
 *   delimiter: ',',
 *   description: 'Daily POS order exports, as text.',
 *   tags: { domain: 'sales' },
 * });
 */
export function landingFileAsset(options: LandingFileAssetOptions): AssetDefinition {
  return asset({
    key: options.key,
    group: 'raw',
    description: options.description,
    owners: [DATA_ENG],
    tags: { source: 'pos', format: options.delimiter === ',' ? 'csv' : 'tsv', ...options.tags },
    materialize: (ctx) => loadLandingFiles(ctx, options.pattern, options.delimiter),
  });
}

/**
 * Loads the landing files matching `pattern` into the asset's table (generating the example
 * landing zone first if it is empty) and reports how many rows and files it read.
 */
export async function loadLandingFiles(ctx: AssetContext, pattern: string, delimiter: LandingDelimiter): Promise<MaterializeResult> {
  // Imported here rather than at the top: listing assets should not load the generator.
  const { ensureLanding } = await import('../generator/generate-landing.ts');
  const { generated } = await ensureLanding(ctx.landing.dir);
  if (generated) ctx.log.info(`generated the example landing zone in ${ctx.landing.dir}`);
  ctx.signal.throwIfAborted();

  const files = await ctx.landing.list(pattern);
  if (files.length === 0) {
    throw new Error(`no landing files match "${pattern}" in ${ctx.landing.dir}`);
  }
  const rowCount = await ctx.warehouse.replaceTable(landingLoadQuery(delimiter), [files]);
  ctx.log.info(`loaded ${rowCount} rows from ${files.length} file(s) matching ${pattern}`);
  return { rowCount, metadata: { files: files.length } };
}

/**
 * The SELECT that reads a list of landing files (bound as `$1`) as text, adding the base
 * file name as `_source_file`. Columns are matched by name, so a later export that adds a
 * column does not break older files.
 */
export function landingLoadQuery(delimiter: LandingDelimiter): string {
  const delim = delimiter === ',' ? "','" : "'\\t'";
  return [
    'select * exclude (filename), parse_filename(filename) as _source_file',
    `from read_csv($1, header = true, all_varchar = true, union_by_name = true, filename = true, delim = ${delim})`,
  ].join('\n');
}
