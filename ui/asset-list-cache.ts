import type { Storage } from '../storage/storage.ts';
import type { AssetSummary } from './asset-views.ts';

/** Selections remembered at most (the oldest is dropped first). */
const MAX_ENTRIES = 32;
/** Time-window partitions appear as the clock moves: an answer is reused within one minute only. */
const CLOCK_BUCKET_MS = 60_000;

interface Entry {
  readonly marker: string;
  readonly bucket: number;
  readonly assets: Promise<AssetSummary[]>;
}

/**
 * Remembers `GET /api/assets` answers per selection while storage has not changed (its
 * {@link Storage.changeMarker} is the same) and the clock stays in the same minute: the staleness
 * pass is the costly part of that request, and pages ask for it often. Concurrent requests for
 * the same selection share one computation.
 *
 * @example
 * const assets = await cache.get(storage, select, now, () => listAssets(project, storage, select, now));
 */
export class AssetListCache {
  readonly #entries = new Map<string, Entry>();

  async get(storage: Storage, selection: string | undefined, now: Date, compute: () => Promise<AssetSummary[]>): Promise<AssetSummary[]> {
    const key = selection ?? '';
    const marker = await storage.changeMarker();
    const bucket = Math.floor(now.getTime() / CLOCK_BUCKET_MS);
    const cached = this.#entries.get(key);
    if (cached && cached.marker === marker && cached.bucket === bucket) return cached.assets;
    const entry: Entry = { marker, bucket, assets: compute() };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    entry.assets.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return entry.assets;
  }
}
