/**
 * What a dry run says each step will do to its table: `incremental` (an incremental asset whose
 * table exists, without `--full-refresh`; a partitioned one merges within its steps' windows),
 * `full` (any other table or view: rebuilt) or `partitions` (the step's partitions are replaced:
 * any other partitioned asset). Only incremental assets need the warehouse:
 * it is opened read-only, and only when the plan has one and the file exists.
 */
import { existsSync } from 'node:fs';
import { keyToTable } from '../model/definitions/asset-key.ts';
import type { PlanStep } from '../model/planning/plan.ts';
import type { Project } from '../model/project.ts';
import { openProjectWarehouse } from '../engine/project-warehouse.ts';

/** How one step writes its asset. */
export type BuildMode = 'incremental' | 'full' | 'partitions';

/** The build mode of every step's asset, by key. */
export async function buildModes(project: Project, steps: readonly PlanStep[], fullRefresh: boolean): Promise<Map<string, BuildMode>> {
  const modes = new Map<string, BuildMode>();
  const incremental: string[] = [];
  for (const { key } of steps) {
    if (modes.has(key)) continue;
    const definition = project.definitions.get(key);
    const compute = definition?.compute;
    const isIncremental = (compute?.type === 'sql' || compute?.type === 'typescript') && compute.incremental !== undefined;
    if (isIncremental && !fullRefresh) incremental.push(key);
    modes.set(key, project.graph.spec(key).partitions ? 'partitions' : 'full');
  }
  const file = project.config.warehouseFile;
  if (incremental.length === 0 || (project.config.warehouseUrl === undefined && !existsSync(file))) return modes;
  const warehouse = await openProjectWarehouse(project.config, { readOnly: true, wait: false });
  try {
    const tables = new Set((await warehouse.relations()).filter((r) => r.kind === 'table').map((r) => `${r.schema}.${r.name}`));
    for (const key of incremental) {
      const { schema, table } = keyToTable(key);
      if (tables.has(`${schema}.${table}`)) modes.set(key, 'incremental');
    }
  } finally {
    warehouse.close();
  }
  return modes;
}
