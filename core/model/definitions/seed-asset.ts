/**
 * Seeds: CSV files in the project's seeds folder, each loaded by DuckDB into the table
 * `seeds.<name>` (asset key `seeds/<name>`). A seed's code version hashes its file's content and
 * its column types, so editing the file (or its types) makes the seed stale, and through it
 * everything downstream; touching the file without changing it does not. Its data version is
 * the SHA-256 of the content (with the column types, when it has any).
 *
 * Parsing is pure; reading the folder lives in `core/engine/project/seed-files.ts`, loading the
 * file is the warehouse's (`StepSession.replaceTableFromCsv`).
 */
import { createHash } from 'node:crypto';
import { buildSpec, makeDefinition, type AssetDefinition } from './asset-spec.ts';
import { stableJson } from './code-version.ts';

/** The layer (and DuckDB schema) of every seed. */
export const SEED_LAYER = 'seeds';

/** What a seed's compute holds: where its file is and how DuckDB reads it. */
export interface SeedCompute {
  readonly type: 'seed';
  /** Absolute path of the CSV file. */
  readonly path: string;
  /** SHA-256 (hex) of the file's content when the project was loaded. */
  readonly contentHash: string;
  /** DuckDB types of some columns (by column name); the others are detected. */
  readonly columnTypes: Readonly<Record<string, string>>;
}

/** What {@link seedDefinition} is built from. */
export interface SeedOptions {
  /** The seed's name: its file's path under the seeds folder without `.csv`, e.g. `countries`. */
  readonly name: string;
  readonly path: string;
  /** The file as messages name it, e.g. `seeds/countries.csv`. */
  readonly displayFile: string;
  readonly contentHash: string;
  readonly columnTypes?: Readonly<Record<string, string>>;
}

/** The asset key of a seed name: `countries` → `seeds/countries`. */
export function seedKey(name: string): string {
  return `${SEED_LAYER}/${name}`;
}

/**
 * The definition of one seed: kinds `seed` and `duckdb`, group `seeds`.
 *
 * @example
 * seedDefinition({ name: 'countries', path: '/p/seeds/countries.csv', displayFile: 'seeds/countries.csv', contentHash: sha256(text) });
 */
export function seedDefinition(options: SeedOptions): AssetDefinition {
  const spec = buildSpec(seedKey(options.name), { deps: [], tags: {}, owners: [], description: `Seed loaded from ${options.displayFile}` }, ['seed', 'duckdb']);
  const compute: SeedCompute = {
    type: 'seed',
    path: options.path,
    contentHash: options.contentHash,
    columnTypes: Object.freeze({ ...(options.columnTypes ?? {}) }),
  };
  return makeDefinition(spec, compute, options.displayFile);
}

/** SHA-256 (hex) of a seed file's content. */
export function contentHashOf(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The data version of a seed written from content with hash `contentHash`: the hash itself, or,
 * with column types, a hash of both (other types are other data).
 */
export function seedDataVersion(contentHash: string, columnTypes: Readonly<Record<string, string>>): string {
  if (Object.keys(columnTypes).length === 0) return contentHash;
  return contentHashOf(`${contentHash}\n${stableJson(columnTypes)}`);
}

/**
 * The column names of a CSV file's header row (its first record; comma-separated, `"` quotes
 * with `""` for a quote inside; a UTF-8 byte order mark is skipped). `[]` for an empty file.
 *
 * @example
 * csvHeader('code,"full name"\nfr,France\n'); // ['code', 'full name']
 */
export function csvHeader(text: string): string[] {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const names: string[] = [];
  let current = '';
  let quoted = false;
  let any = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      any = true;
    } else if (char === ',') {
      names.push(current);
      current = '';
      any = true;
    } else if (char === '\n' || char === '\r') break;
    else {
      current += char;
      any = true;
    }
  }
  if (any) names.push(current);
  return names.map((name) => name.trim());
}
