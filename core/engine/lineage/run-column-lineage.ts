/**
 * Column lineage recorded by runs: the first run of a column lineage version (the definition
 * version and every asset's code version, see {@link columnLineageVersion}) traces the project's
 * column lineage (see {@link projectColumnLineage}, cached by SQL hash) and records it for that
 * version, as runs record the dependency edges. What cannot be traced takes its columns from the
 * schema history (the columns the latest materialization recorded), never from the warehouse.
 */
import type { Project } from '../../model/project.ts';
import { columnLineageVersion } from '../../model/lineage/column-lineage.ts';
import { recordedSchema, type TableSchema } from '../../model/schema/table-schema.ts';
import type { Storage } from '../../../storage/storage.ts';
import { projectColumnLineage } from './project-column-lineage.ts';

/** What {@link recordRunColumnLineage} needs. */
export interface RunColumnLineageInput {
  readonly project: Project;
  readonly storage: Storage;
  /** Schemas the run already knows (the ones its steps wrote); others are read from storage when a query needs them. */
  readonly knownSchema: (key: string) => TableSchema | undefined;
}

/**
 * Traces and records the project's column lineage for its column lineage version unless storage
 * has some for that version (assets of which nothing is known left out); resolves whether it
 * recorded any. Throws when tracing fails (the caller logs it: a run never fails on it).
 *
 * @example
 * await recordRunColumnLineage({ project, storage, knownSchema: () => undefined });
 */
export async function recordRunColumnLineage(input: RunColumnLineageInput): Promise<boolean> {
  const { project, storage } = input;
  if (await storage.hasColumnLineage(columnLineageVersion(project))) return false;
  // The stored schemas a trace can use: the tables SQL queries read (to expand `select *`) and their own (`{{ this }}`).
  const readBySql = new Set<string>();
  for (const [key, { spec, compute }] of project.definitions) {
    if (compute.type !== 'sql' || compute.source !== undefined) continue;
    readBySql.add(key);
    for (const dep of spec.deps) readBySql.add(dep);
  }
  const lineage = await projectColumnLineage(project, {
    warehouseColumns: async (key) => {
      const known = input.knownSchema(key) ?? (readBySql.has(key) ? await storedSchema(storage, key) : undefined);
      return known === undefined ? null : known.map((c) => c.name);
    },
  });
  // An asset whose columns and uses are all unknown says nothing a reader cannot derive: left out
  // (10,000 no-op TypeScript assets cost no write; such a project traces again next run, ~10 µs an asset).
  const known = [...lineage.values()].filter((l) => l.columns !== null || l.indirect.length > 0);
  await storage.recordColumnLineage(columnLineageVersion(project), known);
  return known.length > 0;
}

/** The columns the asset's latest materialization recorded. */
async function storedSchema(storage: Storage, key: string): Promise<TableSchema | undefined> {
  const [latest] = await storage.materializationHistory(key, { limit: 1 });
  return recordedSchema(latest?.metadata);
}
