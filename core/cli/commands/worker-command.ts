import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs, positiveInt, refuseVars } from '../args.ts';
import type { Command } from '../command.ts';
import type { Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';
import { DEFAULT_DAEMON_SETTINGS } from '../../model/config/daemon-settings.ts';
import { knownPools, poolLimit, warehouseKind } from '../../model/config/concurrency-pools.ts';

/** Runs one process may write the DuckDB warehouse with at once. */
const DUCKDB_WRITERS = 1;

/** `assets worker`: run the runs queued with `--queue`, claimed from the shared Postgres storage. */
export const workerCommand: Command = {
  name: 'worker',
  help: `Usage: assets worker [--concurrency N] [--pools NAME[,NAME…]] [--once] [--json]

Claims the runs queued with --queue (assets materialize, backfill, daemon, ui, or strata.json
"queue": true), oldest first, and runs them with
heartbeats; several workers (on several hosts) share one queue, and each run is claimed by
exactly one of them. Needs Postgres storage ("storage": "postgres://…" in strata.json, or
STRATA_STORAGE): SQLite storage is single-host and is refused. While idle it marks runs whose
process died (no heartbeat for the heartbeat timeout) as failed, releasing their leases.

Concurrency pools are limits across all workers: a queued run records the pools of its assets
(an asset's "pool", else "warehouse") and is claimed only while each has fewer running runs
than its slots (strata.json "daemon.pools"; a pool not listed has one slot, except the
default pool "warehouse" on a Postgres warehouse, which has no limit unless set there). A run
whose pool is full waits, and holds back later runs that need one of its pools; runs of other
pools go ahead.

Ctrl-C (or SIGTERM) stops claiming and waits for the runs going on; a second Ctrl-C cancels
them (their steps roll back).

Options:
  --concurrency N  runs at once (default 1). The DuckDB warehouse has one writer: with it a
                   worker runs one run at a time, and the workers take turns at the file; on
                   a Postgres warehouse runs of all workers write at once
  --pools NAMES    claim only runs all of whose pools are listed (comma-separated), e.g. on a
                   host with the credentials of one source; default: any run
  --once           run what is queued, then exit (1 if a run did not succeed)
  --json           with --once: print the runs run as JSON

Exit codes: 0 success, 1 a run failed (--once), 2 bad input (an unknown pool) or SQLite storage.`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('worker', argv, { concurrency: { type: 'string' }, pools: { type: 'string' }, once: { type: 'boolean' } });
    refuseVars('worker', values, 'a queued run renders the dbt models with the vars of the command that queued it (assets materialize --queue --vars …)');
    const requested = positiveInt(values.concurrency, '--concurrency', 1);
    const workspace = await Workspace.load(values, { withStorage: true });
    try {
      const settings = workspace.project.config.daemon ?? DEFAULT_DAEMON_SETTINGS;
      const pools = values.pools === undefined ? undefined : poolFilter(values.pools, knownPools(workspace.project.graph, settings));
      if (workspace.project.config.storageUrl === undefined) {
        throw new UsageError(
          `assets worker needs Postgres storage: the SQLite storage ${workspace.project.config.storageFile} is single-host (set "storage": "postgres://…" in strata.json or STRATA_STORAGE)`,
        );
      }
      const warehouse = warehouseKind(workspace.project.config);
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
            `worker ${process.pid} started: at most ${concurrency} run${concurrency === 1 ? '' : 's'} at once${pools ? ` of pools ${pools.join(', ')}` : ''}${values.once ? ', until the queue is empty' : ' (Ctrl-C to stop)'}`,
          );
        const worked = await runWorker(
          {
            service,
            concurrency,
            once: values.once === true,
            poolLimit: (pool) => poolLimit(settings, pool, warehouse),
            ...(pools ? { pools } : {}),
            ...(values.json ? {} : { log: (line: string) => out.line(line) }),
          },
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

/** The pools of `--pools NAME[,NAME…]`; a name the project does not know is a UsageError naming it. */
function poolFilter(text: string, known: ReadonlySet<string>): string[] {
  const names = [...new Set(text.split(',').map((name) => name.trim()))];
  if (names.some((name) => name === '')) throw new UsageError(`--pools needs pool names separated by commas, got "${text}"`, '--pools');
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `--pools: unknown pool${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `"${n}"`).join(', ')}: neither in strata.json "daemon.pools" nor the pool of any asset (known: ${[...known].sort().join(', ')})`,
      '--pools',
    );
  }
  return names;
}

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
