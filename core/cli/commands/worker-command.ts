import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import type { Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';

/** Runs one process may write the DuckDB warehouse with at once. */
const DUCKDB_WRITERS = 1;

/** `assets worker`: run the runs queued with `--queue`, claimed from the shared Postgres storage. */
export const workerCommand: Command = {
  name: 'worker',
  help: `Usage: assets worker [--concurrency N] [--once] [--json]

Claims the runs queued with assets materialize --queue, oldest first, and runs them with
heartbeats; several workers (on several hosts) share one queue, and each run is claimed by
exactly one of them. Needs Postgres storage ("storage": "postgres://…" in strata.json, or
STRATA_STORAGE): SQLite storage is single-host and is refused. While idle it marks runs whose
process died (no heartbeat for the heartbeat timeout) as failed, releasing their leases.

Ctrl-C (or SIGTERM) stops claiming and waits for the runs going on; a second Ctrl-C cancels
them (their steps roll back).

Options:
  --concurrency N  runs at once (default 1). The DuckDB warehouse has one writer: with it a
                   worker runs one run at a time, and the workers take turns at the file; on
                   a Postgres warehouse runs of all workers write at once
  --once           run what is queued, then exit (1 if a run did not succeed)
  --json           with --once: print the runs run as JSON

Exit codes: 0 success, 1 a run failed (--once), 2 bad input or SQLite storage.`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('worker', argv, { concurrency: { type: 'string' }, once: { type: 'boolean' } });
    const requested = positiveInt(values.concurrency, '--concurrency', 1);
    const workspace = await Workspace.load(values.project, { withStorage: true });
    try {
      if (workspace.project.config.storageUrl === undefined) {
        throw new UsageError(
          `assets worker needs Postgres storage: the SQLite storage ${workspace.project.config.storageFile} is single-host (set "storage": "postgres://…" in strata.json or STRATA_STORAGE)`,
        );
      }
      // Two runs of one process writing one DuckDB file conflict on its catalog (as the daemon's one-slot "warehouse" pool knows).
      const concurrency = workspace.project.config.warehouseUrl === undefined ? Math.min(requested, DUCKDB_WRITERS) : requested;
      if (requested > concurrency) err.notice(`--concurrency ${requested}: the DuckDB warehouse has one writer, so this worker runs one run at a time`);
      const service = await workspace.runService(err.notice);
      const { runWorker } = await import('../../engine/runs/run-worker.ts');
      const stop = new AbortController();
      const cancel = new AbortController();
      const onSignal = stopOnSignals(err, stop, cancel);
      try {
        if (!values.json)
          out.line(
            `worker ${process.pid} started: at most ${concurrency} run${concurrency === 1 ? '' : 's'} at once${values.once ? ', until the queue is empty' : ' (Ctrl-C to stop)'}`,
          );
        const worked = await runWorker(
          { service, concurrency, once: values.once === true, ...(values.json ? {} : { log: (line: string) => out.line(line) }) },
          { stop: stop.signal, cancel: cancel.signal },
        );
        if (values.json) out.json({ runs: worked });
        else out.line(`worker ${process.pid} stopped: ${worked.length} run${worked.length === 1 ? '' : 's'} run`);
        return values.once && worked.some((w) => w.status !== 'success') ? 1 : 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    } finally {
      await workspace.close();
    }
  },
};

/** Ctrl-C or SIGTERM: the first stops claiming, the second cancels the runs going on, the third quits. */
function stopOnSignals(err: Output, stop: AbortController, cancel: AbortController): () => void {
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      err.line(err.paint('yellow', 'stopping: no more claims; waiting for the runs going on (Ctrl-C again to cancel them)'));
      stop.abort();
    } else if (signals === 2) {
      err.line(err.paint('yellow', 'canceling the runs going on: their steps roll back (Ctrl-C again to quit at once)'));
      cancel.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return onSignal;
}
