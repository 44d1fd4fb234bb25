/**
 * Column lineage for the CLI (and any other shell): traced for the workspace's project with the
 * warehouse's table columns filling in what cannot be traced (a DuckDB file opened read-only
 * when it exists and is free, or the Postgres warehouse), then recorded in storage for the
 * project's column lineage version (its definition and code versions, see {@link columnLineageVersion}).
 */
import { existsSync } from 'node:fs';
import { openProjectWarehouse } from '../project-warehouse.ts';
import type { Project } from '../../model/project.ts';
import { columnLineageVersion, type AssetColumnLineage } from '../../model/lineage/column-lineage.ts';
import type { Storage } from '../../../storage/storage.ts';
import { projectColumnLineage } from './project-column-lineage.ts';

/** The project's column lineage and, when the warehouse could not be read, why. */
export interface WorkspaceColumnLineage {
  readonly lineage: Map<string, AssetColumnLineage>;
  /** Column types of the tables the warehouse has, by asset key then column. */
  readonly types: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Set when the warehouse was not read (its columns could not fill in untraced assets). */
  readonly warehouseNote?: string;
}

/**
 * Computes the column lineage of the workspace's project (see {@link projectColumnLineage}).
 *
 * @example
 * const { lineage } = await workspaceColumnLineage(workspace);
 */
export async function workspaceColumnLineage(workspace: { readonly project: Project }): Promise<WorkspaceColumnLineage> {
  const { config } = workspace.project;
  const types = new Map<string, ReadonlyMap<string, string>>();
  let warehouse: Awaited<ReturnType<typeof openProjectWarehouse>> | undefined;
  let warehouseNote: string | undefined;
  if (config.warehouseUrl !== undefined || existsSync(config.warehouseFile)) {
    try {
      warehouse = await openProjectWarehouse(config, { readOnly: true, wait: false });
    } catch (error) {
      warehouseNote = `the warehouse could not be read (${error instanceof Error ? error.message.split('\n')[0] : String(error)}), so only traced columns are known`;
    }
  } else warehouseNote = 'nothing is materialized yet, so only traced and declared columns are known';
  try {
    const lineage = await projectColumnLineage(workspace.project, {
      ...(warehouse === undefined
        ? {}
        : {
            warehouseColumns: async (key: string) => {
              const columns = await warehouse.columns(key);
              if (columns.size > 0) types.set(key, columns);
              return columns.size === 0 ? null : [...columns.keys()];
            },
          }),
    });
    return { lineage, types, ...(warehouseNote === undefined ? {} : { warehouseNote }) };
  } finally {
    warehouse?.close();
  }
}

/** Records `lineage` for the project's column lineage version in the workspace's storage. */
export async function recordWorkspaceColumnLineage(
  workspace: { readonly project: Project; storage(): Promise<Storage> },
  lineage: ReadonlyMap<string, AssetColumnLineage>,
): Promise<void> {
  const storage = await workspace.storage();
  await storage.recordColumnLineage(columnLineageVersion(workspace.project), [...lineage.values()]);
}
