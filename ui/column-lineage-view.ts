/**
 * `GET /api/column-lineage/KEY[?column=COL]`: an asset's columns (name, type when its table
 * exists, upstream columns with how, or why unknown) and its indirect uses; with `column`, that
 * column's upstream and downstream columns across assets, as `assets lineage --column --json`.
 */
import { checkedColumn, downstreamColumns, upstreamColumns } from '../core/model/lineage/column-lineage-walk.ts';
import type { Project } from '../core/model/project.ts';
import type { Storage } from '../storage/storage.ts';
import { recordWorkspaceColumnLineage, workspaceColumnLineage } from '../core/engine/lineage/workspace-column-lineage.ts';

/**
 * The column lineage view of `key` (known to the project); a `NotFoundError` with "did you mean"
 * for a column the asset does not have. What was computed is recorded for the definition version.
 */
export async function columnLineageView(workspace: { readonly project: Project; storage(): Promise<Storage> }, key: string, column: string | undefined) {
  const { lineage, types, warehouseNote } = await workspaceColumnLineage(workspace);
  const checked = column === undefined ? undefined : checkedColumn(lineage, key, column);
  await recordWorkspaceColumnLineage(workspace, lineage);
  const asset = lineage.get(key);
  const typeOf = types.get(key);
  let path: Record<string, unknown> | undefined;
  if (checked !== undefined) {
    const down = downstreamColumns(lineage, key, checked, Infinity);
    path = { column: checked, ...upstreamColumns(lineage, key, checked, Infinity), downstream: down.hops, downstreamIndirect: down.indirect };
  }
  return {
    key,
    columns: asset?.columns?.map((c) => ({ ...c, type: typeOf?.get(c.name) ?? null })) ?? null,
    indirect: asset?.indirect ?? [],
    ...(asset?.unknown === undefined ? {} : { unknown: asset.unknown }),
    ...(warehouseNote === undefined ? {} : { note: warehouseNote }),
    ...(path === undefined ? {} : { path }),
  };
}
