/**
 * Warehouse settings (`"warehouse"` in strata.json): the DuckDB file and how much of the machine
 * DuckDB may use. Either a path (`".strata/warehouse.duckdb"`) or an object
 * `{ "path", "memoryLimit": "4GB", "threads": 2, "tempDirectory": ".strata/tmp" }`; what the
 * object leaves out is DuckDB's default (80% of RAM, one thread per core, `<file>.tmp`).
 * A `postgres://user@host:port/database` URL (or `env:NAME` naming one) is a Postgres warehouse
 * instead: never a path, never with a password written in strata.json, and without DuckDB's settings.
 */

import { resolve } from 'node:path';
import { z } from 'zod';
import { isPostgresUrl, locationProblem } from './storage-settings.ts';

/** Default warehouse file, relative to the project folder. */
export const DEFAULT_WAREHOUSE_PATH = '.strata/warehouse.duckdb';

/** DuckDB resource limits of the warehouse; absent fields keep DuckDB's defaults. */
export interface WarehouseSettings {
  /** DuckDB `memory_limit`, e.g. `"4GB"`, `"512MB"`. */
  readonly memoryLimit?: string;
  /** DuckDB `threads`. */
  readonly threads?: number;
  /** DuckDB `temp_directory` (absolute), where operators spill when memory runs out. */
  readonly tempDirectory?: string;
}

const memoryLimit = z.string().regex(/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i, 'a size such as "512MB" or "4GB"');

const warehouseObject = z
  .object({
    path: z
      .string()
      .min(1)
      .default(DEFAULT_WAREHOUSE_PATH)
      .superRefine((value, ctx) => {
        const problem = locationProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
    memoryLimit: memoryLimit.optional(),
    threads: z.number().int().min(1).max(1024).optional(),
    tempDirectory: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!isPostgresUrl(value.path)) return;
    const duckdbOnly = (['memoryLimit', 'threads', 'tempDirectory'] as const).filter((field) => value[field] !== undefined);
    if (duckdbOnly.length > 0)
      ctx.addIssue({ code: 'custom', path: [duckdbOnly[0] as string], message: 'is a DuckDB setting: a Postgres warehouse does not take it' });
  });

/**
 * The zod schema of the `"warehouse"` field: a path, or an object with settings. A path is read
 * as `{ path }`, so errors name the object's fields (`warehouse.threads: …`).
 */
export const warehouseSchema = z
  .preprocess((value) => (typeof value === 'string' ? { path: value } : value), warehouseObject)
  .default({ path: DEFAULT_WAREHOUSE_PATH });

/** The warehouse path as written and its settings, the temp folder made absolute against `dir`. */
export function resolveWarehouse(raw: z.infer<typeof warehouseSchema>, dir: string): { readonly path: string; readonly settings: WarehouseSettings } {
  const settings: WarehouseSettings = Object.freeze({
    ...(raw.memoryLimit === undefined ? {} : { memoryLimit: raw.memoryLimit.replace(/\s+/g, '') }),
    ...(raw.threads === undefined ? {} : { threads: raw.threads }),
    ...(raw.tempDirectory === undefined ? {} : { tempDirectory: resolve(dir, raw.tempDirectory) }),
  });
  return { path: raw.path, settings };
}
