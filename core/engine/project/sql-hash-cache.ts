/**
 * A JSON file of values keyed by the SHA-256 of a query's text: what DuckDB's parser found in a
 * query is remembered, so a warm start needs no DuckDB. Dependency inference stores each query's
 * tables in one; column lineage its traced columns in another.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * Values keyed by the hash of a text, in one JSON file. A missing or corrupt file (or one of
 * another format) is an empty cache. {@link save} keeps the entries read or written since
 * loading, so edited and deleted queries drop out, and, when `keepUnused` is more than 0, an
 * unused entry for up to that many saves (for a cache that callers with different inputs take
 * turns to use, so that each does not evict what the other needs). The file is small and read once
 * per load, so I/O is synchronous.
 *
 * @example
 * const cache = new SqlHashCache('.strata/x.json', 1, z.string(), (s) => s);
 * const value = cache.get(sql) ?? compute(sql);
 * cache.set(sql, value);
 * cache.save();
 */
export class SqlHashCache<T> {
  readonly #path: string;
  readonly #format: number;
  readonly #freeze: (value: T) => T;
  readonly #entries = new Map<string, T>();
  readonly #used = new Set<string>();
  readonly #keepUnused: number;
  /** How many saves in a row each loaded entry has gone unused (absent: 0). */
  readonly #unused = new Map<string, number>();
  #changed = false;

  /**
   * Loads the cache file at `path` (created on the first {@link save}); entries that fail `entry`
   * make the whole file ignored. `keepUnused`: saves an unused entry survives (default 0).
   */
  constructor(path: string, format: number, entry: z.ZodType<T>, freeze: (value: T) => T, keepUnused = 0) {
    this.#path = path;
    this.#format = format;
    this.#freeze = freeze;
    this.#keepUnused = keepUnused;
    try {
      const file = z.object({ format: z.literal(format), entries: z.record(z.string(), entry), unused: z.record(z.string(), z.number()).optional() });
      const parsed = file.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (parsed.success) {
        for (const [hash, value] of Object.entries(parsed.data.entries)) this.#entries.set(hash, freeze(value as T));
        for (const [hash, saves] of Object.entries(parsed.data.unused ?? {})) if (this.#entries.has(hash)) this.#unused.set(hash, saves);
      }
    } catch {
      // Missing or not JSON: start empty; the next save rewrites it.
    }
  }

  /** The value cached for `text`, if it was seen before. */
  get(text: string): T | undefined {
    const hash = hashText(text);
    const value = this.#entries.get(hash);
    if (value !== undefined) this.#used.add(hash);
    return value;
  }

  /** Records the value of `text`. */
  set(text: string, value: T): void {
    const hash = hashText(text);
    this.#entries.set(hash, this.#freeze(value));
    this.#used.add(hash);
    this.#changed = true;
  }

  /** Number of entries currently held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Writes the kept entries (see the class comment) atomically (temp file + rename), creating the
   * folder if needed. Does nothing when every loaded entry was used, none was added and none had
   * gone unused before.
   */
  save(): void {
    if (!this.#changed && this.#used.size === this.#entries.size && this.#unused.size === 0) return;
    const kept = new Map<string, number>();
    for (const hash of this.#entries.keys()) {
      const saves = this.#used.has(hash) ? 0 : (this.#unused.get(hash) ?? 0) + 1;
      if (saves <= this.#keepUnused) kept.set(hash, saves);
    }
    const entries: Record<string, T | undefined> = {};
    const unused: Record<string, number> = {};
    for (const hash of [...kept.keys()].sort()) {
      entries[hash] = this.#entries.get(hash);
      if ((kept.get(hash) as number) > 0) unused[hash] = kept.get(hash) as number;
    }
    const temp = `${this.#path}.${process.pid}.${randomUUID()}.tmp`;
    mkdirSync(dirname(this.#path), { recursive: true });
    try {
      const text = Object.keys(unused).length === 0 ? { format: this.#format, entries } : { format: this.#format, entries, unused };
      writeFileSync(temp, `${JSON.stringify(text)}\n`, 'utf8');
      renameSync(temp, this.#path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    for (const hash of [...this.#entries.keys()]) if (!kept.has(hash)) this.#entries.delete(hash);
    this.#unused.clear();
    for (const [hash, saves] of kept) if (saves > 0) this.#unused.set(hash, saves);
    this.#changed = false;
  }
}

function hashText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
