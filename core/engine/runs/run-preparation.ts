/**
 * What `assets materialize` and `assets backfill` do before a run: mark the runs whose process
 * died as failed (releasing their leases), then open the warehouse, waiting while another
 * process holds it and saying once on stderr which process and run that is.
 */

import { assertCheckColumns } from '../execution/check-columns.ts';
import { reapDeadRuns } from '../execution/dead-run-reaper.ts';
import { shortId } from '../execution/run-leases.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import type { Project } from '../../model/project.ts';
import type { Storage } from '../../../storage/storage.ts';
import type { Output } from '../../cli/output.ts';
import type { Workspace } from '../workspace.ts';

/**
 * Reaps dead runs (see {@link reapDeadRuns}) with the project's heartbeat timeout, telling `err`
 * about each one.
 */
export async function reapDeadRunsNoisily(workspace: Workspace, storage: Storage, err: Output): Promise<void> {
  const reaped = await reapDeadRuns(storage, { now: Date.now(), timeoutMs: workspace.project.config.heartbeat.timeoutMs });
  for (const run of reaped) {
    const leases = run.releasedLeases === 0 ? '' : `; released ${run.releasedLeases} lease${run.releasedLeases === 1 ? '' : 's'}`;
    const backfill = run.backfillId
      ? `; backfill ${shortId(run.backfillId)} failed with it (resume with: assets backfill --resume ${shortId(run.backfillId)})`
      : '';
    err.line(err.paint('yellow', `run ${shortId(run.runId)} marked failed: ${run.error}${leases}${backfill}`));
  }
}

/**
 * Opens the project's warehouse, waiting (abortable by `signal`) while another process holds
 * it; then checks that the checks of `checkedKeys` name columns their tables have (a
 * definition error, before anything is written).
 */
export async function openWarehouseForRun(
  workspace: Workspace,
  storage: Storage,
  err: Output,
  signal: AbortSignal,
  checkedKeys: readonly string[] = [],
): Promise<Warehouse> {
  const warehouse = await openWarehouse(workspace, storage, err, signal);
  await assertCheckColumnsIn(workspace.project, warehouse, checkedKeys);
  return warehouse;
}

/**
 * Checks, in a rolled-back session of `warehouse`, that the checks of `keys` name columns their
 * tables have (a definition error otherwise). The UI's run launcher calls it too.
 */
export async function assertCheckColumnsIn(project: Project, warehouse: Warehouse, keys: readonly string[]): Promise<void> {
  const session = warehouse.session('strata/check-columns');
  try {
    await assertCheckColumns(project, keys, session);
  } finally {
    await session.rollback();
  }
}

function openWarehouse(workspace: Workspace, storage: Storage, err: Output, signal: AbortSignal): Promise<Warehouse> {
  const file = workspace.project.config.warehouseFile;
  return workspace.warehouseWhenFree({
    signal,
    onBusy: async ({ pid }) => err.line(err.paint('yellow', `waiting for the warehouse ${file}: ${await describeHolder(storage, pid)} is using it`)),
  });
}

/**
 * Who holds the warehouse, for a person: `process 41872 (run c92a4680, +marts/*)` when the
 * process is running a recorded run, `process 41872` or `another process` otherwise.
 */
export async function describeHolder(storage: Storage, pid: number | undefined): Promise<string> {
  if (pid === undefined) return 'another process';
  const run = (await storage.listRuns({ status: 'running' })).find((r) => r.pid === pid);
  return `process ${pid}${run ? ` (run ${shortId(run.id)}, ${run.selection})` : ''}`;
}
