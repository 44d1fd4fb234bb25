/**
 * Seed settings (`"seeds"` in strata.json): the folder of seed CSV files, and optional DuckDB
 * column types per seed. Either a folder path, or an object:
 *
 * ```json
 * "seeds": "seeds"
 * "seeds": { "path": "seeds", "columnTypes": { "countries": { "code": "VARCHAR", "population": "BIGINT" } } }
 * ```
 *
 * A seed is named by its file's path under the folder without `.csv` (`countries`, `geo/regions`).
 */

import { resolve } from 'node:path';
import { z } from 'zod';

/** The seeds folder when strata.json names none. */
export const DEFAULT_SEEDS_DIR = 'seeds';

/** The DuckDB type of a seed column: a type name such as `VARCHAR`, `DECIMAL(10, 2)`, `INTEGER[]`. */
const columnType = z.string().regex(/^[A-Za-z][A-Za-z0-9_ (),[\]]*$/, 'must be a DuckDB type such as VARCHAR, BIGINT, DATE or DECIMAL(10, 2)');

const columnTypesSchema = z.record(z.string().min(1), z.record(z.string().min(1), columnType, { error: 'must map column names to DuckDB types' }));

const seedObjectSchema = z
  .object(
    { path: z.string().min(1).optional(), columnTypes: columnTypesSchema.optional() },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? 'must be the seeds folder ("seeds") or an object { "path": "seeds", "columnTypes": { "<seed>": { "<column>": "<DuckDB type>" } } }'
          : undefined,
    },
  )
  .strict();

/** The zod schema of the `"seeds"` field: a folder path, or `{ path, columnTypes }`. */
export const seedSettingsSchema = z.preprocess((value) => (typeof value === 'string' ? { path: value } : value), seedObjectSchema);

/** Resolved seed settings. */
export interface SeedSettings {
  /** The absolute path of the seeds folder. */
  readonly dir: string;
  /** True when strata.json names the folder: then it must exist. */
  readonly explicit: boolean;
  /** DuckDB column types per seed name, then per column (`{ countries: { population: 'BIGINT' } }`). */
  readonly columnTypes: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The settings of a validated `"seeds"` field (absent: the `seeds` folder, if there is one). */
export function resolveSeedSettings(raw: z.infer<typeof seedSettingsSchema> | undefined, projectDir: string): SeedSettings {
  const path = raw?.path;
  const columnTypes = raw?.columnTypes ?? {};
  return Object.freeze({
    dir: resolve(projectDir, path ?? DEFAULT_SEEDS_DIR),
    explicit: path !== undefined,
    columnTypes: Object.freeze(Object.fromEntries(Object.entries(columnTypes).map(([name, types]) => [name, Object.freeze({ ...types })]))),
  });
}
