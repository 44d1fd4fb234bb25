/**
 * The one way the example loads POS exports into the raw layer, as all-text DuckDB tables with
 * the name of the file each row came from. Cleaning and typing happen in the staging layer.
 *
 * A nightly export (`orders_{date}.csv`) is a daily-partitioned asset: partition `2025-03-14`
 * is the file `orders_2025-03-14.csv`, its rows carry the file's date in `_file_date`, and a
 * step loads exactly the files of its partitions. A snapshot (`locations.csv`) is one
 * unpartitioned table, replaced on every load. Each raw asset depends on the source asset
 * observing its files (`raw/orders` reads `landing/orders`, see ./landing-source.ts).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { asset } from 'strata';
import type { AssetContext, AssetDefinition, CheckSpec, MaterializeResult } from 'strata';
import { DATE_PLACEHOLDER, ensureExampleLanding } from './landing-source.ts';
import { DATA_ENG } from './owners.ts';
import { DAILY } from './partitions.ts';

/** Field separator of a landing file format. */
export type LandingDelimiter = ',' | '\t';

/** How many missing file names an error lists before it just counts. */
const MISSING_LISTED = 5;

/** What {@link landingFileAsset} needs to know about one kind of export. */
export interface LandingFileAssetOptions {
  /** Asset key, `raw/<table>`. */
  readonly key: string;
  /**
   * File name in the landing zone: with `{date}` for a nightly export, one file per day
   * (`orders_{date}.csv`, partitioned daily); without it for a snapshot (`locations.csv`).
   */
  readonly file: string;
  readonly delimiter: LandingDelimiter;
  readonly description: string;
  /** Tags besides `source=pos`, e.g. `{ domain: 'sales' }`. */
  readonly tags: Readonly<Record<string, string>>;
  /** Data-quality checks run on every load (e.g. a row-count anomaly check on a nightly export). */
  readonly checks?: readonly CheckSpec[];
}

/**
 * Declares a raw asset that loads one kind of landing file.
 *
 * @example
 * export const orders = landingFileAsset({
 *   key: 'raw/orders',
 *   file: 'orders_{date}.csv', // daily partitions, one file each
 *   delimiter: ',',
 *   description: 'Nightly POS order exports, as text.',
 *   tags: { domain: 'sales' },
 * });
 */
export function landingFileAsset(options: LandingFileAssetOptions): AssetDefinition {
  const nightly = options.file.includes(DATE_PLACEHOLDER);
  return asset({
    key: options.key,
    deps: [options.key.replace(/^raw\//, 'landing/')],
    config: { file: options.file, delimiter: options.delimiter },
    checks: [...(options.checks ?? [])],
    group: 'raw',
    description: options.description,
    owners: [DATA_ENG],
    tags: { source: 'pos', format: options.delimiter === ',' ? 'csv' : 'tsv', ...options.tags },
    // A nightly export: a backfill loads a whole range of files in one statement.
    ...(nightly ? { partitions: DAILY, partitionColumn: '_file_date', backfillPolicy: { type: 'single_run' } as const } : {}),
    materialize: (ctx) => (nightly ? loadNightlyFiles(ctx, options.file, options.delimiter) : loadSnapshot(ctx, options.file, options.delimiter)),
  });
}

/**
 * Loads the files of the step's partitions (`ctx.partition.keys`) into their partitions of the
 * asset's table, replacing what those partitions held. Fails, naming the files, when a day's
 * file is not in the landing zone.
 */
export async function loadNightlyFiles(ctx: AssetContext, file: string, delimiter: LandingDelimiter): Promise<MaterializeResult> {
  const partition = ctx.partition;
  if (!partition) throw new Error(`${ctx.key} loads one file per day and needs a partition`);
  await ensureExampleLanding(ctx.landing.dir, ctx.log);
  ctx.signal.throwIfAborted();

  const wanted = partition.keys.map((day) => file.replace(DATE_PLACEHOLDER, day));
  const present = new Set((await ctx.landing.list(file.replace(DATE_PLACEHOLDER, '*'))).map((p) => path.basename(p)));
  const missing = wanted.filter((name) => !present.has(name));
  if (missing.length > 0) {
    const listed = missing.slice(0, MISSING_LISTED).join(', ');
    const more = missing.length > MISSING_LISTED ? ` and ${missing.length - MISSING_LISTED} more` : '';
    throw new Error(
      `${ctx.key}: missing landing file${missing.length === 1 ? '' : 's'} for ${missing.length} of ${wanted.length} partition(s): ` +
        `${listed}${more} (in ${ctx.landing.dir})`,
    );
  }
  const files = wanted.map((name) => ctx.landing.path(name));
  const query = landingLoadQuery(delimiter, { fileDate: true, byName: !(await sameHeaderLine(files)) });
  const rowCount = await ctx.warehouse.replacePartitions(query, [files]);
  ctx.log.info(`loaded ${rowCount} rows from ${wanted.length} file(s) ${wanted[0]}${wanted.length > 1 ? ` .. ${wanted.at(-1)}` : ''}`);
  return { rowCount, metadata: { files: wanted.length } };
}

/** Loads a snapshot file into the asset's table, replacing it. */
export async function loadSnapshot(ctx: AssetContext, file: string, delimiter: LandingDelimiter): Promise<MaterializeResult> {
  await ensureExampleLanding(ctx.landing.dir, ctx.log);
  ctx.signal.throwIfAborted();
  const files = await ctx.landing.list(file);
  if (files.length === 0) throw new Error(`${ctx.key}: missing landing file ${file} (in ${ctx.landing.dir})`);
  const rowCount = await ctx.warehouse.replaceTable(landingLoadQuery(delimiter, { fileDate: false, byName: files.length > 1 }), [files]);
  ctx.log.info(`loaded ${rowCount} rows from ${file}`);
  return { rowCount, metadata: { files: files.length } };
}

/** How {@link landingLoadQuery} reads its files. */
export interface LandingLoadOptions {
  /** Add `_file_date`, the date in the file name. */
  readonly fileDate: boolean;
  /**
   * Match columns by name across files (`union_by_name`), so an export that adds a column
   * does not break older files. DuckDB then inspects every file, which is much slower on a
   * year of files: leave it off when every file has the same header.
   */
  readonly byName: boolean;
}

/**
 * The SELECT that reads a list of landing files (bound as `$1`) as text, adding the base file
 * name as `_source_file` and, for nightly exports, the date in the name as `_file_date`
 * (a DATE).
 */
export function landingLoadQuery(delimiter: LandingDelimiter, options: LandingLoadOptions): string {
  const delim = delimiter === ',' ? "','" : "'\\t'";
  const fileDate = options.fileDate ? `,\n  cast(regexp_extract(parse_filename(filename), '(\\d{4}-\\d{2}-\\d{2})', 1) as date) as _file_date` : '';
  return [
    `select * exclude (filename), parse_filename(filename) as _source_file${fileDate}`,
    `from read_csv($1, header = true, all_varchar = true, union_by_name = ${options.byName}, filename = true, delim = ${delim})`,
  ].join('\n');
}

/** True when every file starts with the same header line (read from the first few KB of each). */
async function sameHeaderLine(files: readonly string[]): Promise<boolean> {
  let first: string | undefined;
  for (const file of files) {
    const header = await headerLine(file);
    first ??= header;
    if (header !== first) return false;
  }
  return true;
}

async function headerLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\n');
    // A header longer than the buffer cannot be compared: treat it as different.
    return end === -1 ? `${file}\u0000` : text.slice(0, end);
  } finally {
    await handle.close();
  }
}
