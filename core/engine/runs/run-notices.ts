/**
 * The words the run service uses for a person: a dead run it marked failed, the process that
 * holds the warehouse. The CLI prints them on stderr; the daemon and the UI server log them.
 */
import { shortId } from '../execution/run-leases.ts';
import type { ReapedRun } from '../execution/dead-run-reaper.ts';
import type { Storage } from '../../../storage/storage.ts';

/**
 * A reaped run, e.g. `run c92a4680 marked failed: process died: …; released 1 lease; backfill
 * 1f2e3d4c failed with it (resume with: assets backfill --resume 1f2e3d4c)`.
 */
export function reapedRunText(run: ReapedRun): string {
  const leases = run.releasedLeases === 0 ? '' : `; released ${run.releasedLeases} lease${run.releasedLeases === 1 ? '' : 's'}`;
  const backfill = run.backfillId
    ? `; backfill ${shortId(run.backfillId)} failed with it (resume with: assets backfill --resume ${shortId(run.backfillId)})`
    : '';
  const retry = run.retryRunId ? `; queued run ${shortId(run.retryRunId)} resumes it` : '';
  return `run ${shortId(run.runId)} marked failed: ${run.error}${leases}${retry}${backfill}`;
}

/**
 * Who holds the warehouse: `process 41872 (run c92a4680, +marts/*)` when the process is running
 * a recorded run, `process 41872` or `another process` otherwise.
 */
export async function describeHolder(storage: Storage, pid: number | undefined): Promise<string> {
  if (pid === undefined) return 'another process';
  const run = (await storage.listRuns({ status: 'running' })).find((r) => r.pid === pid);
  return `process ${pid}${run ? ` (run ${shortId(run.id)}, ${run.selection})` : ''}`;
}
