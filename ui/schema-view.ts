/**
 * `GET /api/schema/KEY`: an asset's schema history: the columns and types its latest
 * materialization recorded, and each run whose materialization changed them (added, removed,
 * retyped columns), newest first.
 */
import { recordedSchema, recordedSchemaChange, schemaChangeText, type SchemaDiff, type TableSchema } from '../core/model/schema/table-schema.ts';
import type { Storage } from '../storage/storage.ts';

/** Runs of the asset read for its changes. */
const RUNS_READ = 200;

/** What the asset page's Schema section shows. */
export interface AssetSchemaView {
  readonly key: string;
  /** The latest materialization's columns (`null`: never materialized, or recorded no schema). */
  readonly columns: TableSchema | null;
  /** When and by which run those columns were recorded. */
  readonly recordedAt: number | null;
  readonly runId: string | null;
  /** Changes among the last {@link RUNS_READ} runs that built the asset, newest first. */
  readonly changes: readonly (SchemaDiff & { readonly runId: string; readonly timestamp: number; readonly message: string })[];
}

/** The schema history of `key` (which must exist). */
export async function assetSchema(storage: Storage, key: string): Promise<AssetSchemaView> {
  const runs = await storage.materializationsByRun(key, { limit: RUNS_READ });
  const latest = runs.find((r) => recordedSchema(r.metadata) !== undefined);
  const changes = runs.flatMap((r) => {
    const change = recordedSchemaChange(r.metadata);
    return change === undefined ? [] : [{ runId: r.runId, timestamp: r.timestamp, ...change, message: `schema changed: ${schemaChangeText(change)}` }];
  });
  return {
    key,
    columns: latest === undefined ? null : (recordedSchema(latest.metadata) ?? null),
    recordedAt: latest?.timestamp ?? null,
    runId: latest?.runId ?? null,
    changes,
  };
}
