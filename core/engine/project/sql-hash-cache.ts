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
 * another format) is an empty cache. {@link save} keeps only the entries read or written since
 * loading, so edited and deleted queries drop out. The file is small and read once per load, so
 * I/O is synchronous.
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
  #changed = false;

  /** Loads the cache file at `path` (created on the first {@link save}); entries that fail `entry` make the whole file ignored. */
  constructor(path: string, format: number, entry: z.ZodType<T>, freeze: (value: T) => T) {
    this.#path = path;
    this.#format = format;
    this.#freeze = freeze;
    try {
      const file = z.object({ format: z.literal(format), entries: z.record(z.string(), entry) });
      const parsed = file.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (parsed.success) for (const [hash, value] of Object.entries(parsed.data.entries)) this.#entries.set(hash, freeze(value as T));
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
   * Writes the used entries atomically (temp file + rename), creating the folder if needed.
   * Does nothing when every loaded entry was used and none was added.
   */
  save(): void {
    if (!this.#changed && this.#used.size === this.#entries.size) return;
    const entries: Record<string, T | undefined> = {};
    for (const hash of [...this.#used].sort()) entries[hash] = this.#entries.get(hash);
    const temp = `${this.#path}.${process.pid}.${randomUUID()}.tmp`;
    mkdirSync(dirname(this.#path), { recursive: true });
    try {
      writeFileSync(temp, `${JSON.stringify({ format: this.#format, entries })}\n`, 'utf8');
      renameSync(temp, this.#path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    for (const hash of [...this.#entries.keys()]) if (!this.#used.has(hash)) this.#entries.delete(hash);
    this.#changed = false;
  }
}

function hashText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
