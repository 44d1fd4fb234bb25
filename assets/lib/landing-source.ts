/**
 * The landing files as source assets: `landing/orders` is the nightly `orders_{date}.csv`
 * exports, one daily partition per file. Strata observes them (size, modification time and a
 * content hash per file) instead of building them, so a re-delivered file makes the raw,
 * staging and mart partitions built from it stale.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { sourceAsset } from 'strata';
import type { AssetDefinition, ObserveContext, SourceObservation } from 'strata';
import { DATA_ENG } from './owners.ts';
import { DAILY } from './partitions.ts';

/** Where a nightly export's file name holds its date. */
export const DATE_PLACEHOLDER = '{date}';

/** Files hashed at once. */
const HASH_CONCURRENCY = 8;

/** What {@link landingSource} needs to know about one kind of export. */
export interface LandingSourceOptions {
  /** Asset key, `landing/<table>`. */
  readonly key: string;
  /** File name, with `{date}` for a nightly export (daily partitions), without for a snapshot. */
  readonly file: string;
  readonly description: string;
}

/**
 * Declares the landing files of one export as a source asset.
 *
 * @example
 * export const ordersFiles = landingSource({ key: 'landing/orders', file: 'orders_{date}.csv', description: 'Nightly order exports.' });
 */
export function landingSource(options: LandingSourceOptions): AssetDefinition {
  const nightly = options.file.includes(DATE_PLACEHOLDER);
  return sourceAsset({
    key: options.key,
    group: 'landing',
    description: options.description,
    owners: [DATA_ENG],
    tags: { source: 'pos' },
    ...(nightly ? { partitions: DAILY } : {}),
    observe: (ctx) => observeLandingFiles(ctx, options.file),
  });
}

/** Data version of the landing file of a `nightly` export's partition (or of a snapshot): its content hash. */
export async function observeLandingFiles(ctx: ObserveContext, file: string): Promise<SourceObservation[]> {
  await ensureExampleLanding(ctx.landing.dir, ctx.log);
  const wanted =
    ctx.partitions === null ? [{ partition: null, name: file }] : ctx.partitions.map((day) => ({ partition: day, name: file.replace(DATE_PLACEHOLDER, day) }));
  const observations: SourceObservation[] = [];
  for (let i = 0; i < wanted.length; i += HASH_CONCURRENCY) {
    const batch = await Promise.all(wanted.slice(i, i + HASH_CONCURRENCY).map((w) => observeFile(ctx, w.partition, ctx.landing.path(w.name))));
    for (const found of batch) if (found) observations.push(found);
    ctx.signal.throwIfAborted();
  }
  return observations;
}

/** One file's observation; the content is hashed only when its size or modification time changed. */
async function observeFile(ctx: ObserveContext, partition: string | null, path: string): Promise<SourceObservation | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const metadata = { file: path.slice(ctx.landing.dir.length + 1), size: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
  const previous = ctx.previous.get(partition);
  if (previous && previous.metadata.size === metadata.size && previous.metadata.mtimeMs === metadata.mtimeMs) {
    return { partition, dataVersion: previous.dataVersion, metadata };
  }
  return { partition, dataVersion: await contentHash(path), metadata };
}

async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 16);
}

/** Generates the example landing zone (the whole of 2025) when the landing folder is empty. */
export async function ensureExampleLanding(dir: string, log: { info(message: string): void }): Promise<void> {
  // A landing folder with files is never regenerated: skip loading the generator at all.
  if ((await readdir(dir).catch(() => [])).length > 0) return;
  // Imported here rather than at the top: listing assets should not load the generator.
  const { ensureLanding } = await import('../generator/generate-landing.ts');
  const { generated } = await ensureLanding(dir);
  if (generated) log.info(`generated the example landing zone in ${dir}`);
}
