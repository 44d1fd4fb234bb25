import { UsageError } from '../../model/errors.ts';
import { parseDuration } from '../../model/definitions/duration.ts';
import { AssetDaemon } from '../../engine/daemon/asset-daemon.ts';
import { describeDecision } from '../../engine/daemon/decision-text.ts';
import { runDaemonLoop } from '../../engine/daemon/daemon-loop.ts';
import { describeDaemonLockHolder, leadWhileHolding, thisDaemon } from '../../engine/daemon/daemon-leadership.ts';
import type { DaemonTickRecord } from '../../../storage/daemon-tick-store.ts';
import type { DaemonLockStore } from '../../../storage/daemon-lock.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { formatTime, statusColour, type Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';
import { QUEUE_OPTIONS, queueMode } from '../queue-mode.ts';

/** `assets daemon`: run schedules and automation; `assets daemon ticks`: what past ticks decided. */
export const daemonCommand: Command = {
  name: 'daemon',
  help: `Usage: assets daemon [--once] [--interval 30s] [--max-runs N] [--queue | --no-queue] [--json]
       assets daemon ticks [--limit N] [--json]

Every tick (default 30 s, strata.json "daemon.tickSeconds") the daemon observes source
assets, evaluates the schedules and the assets' automation conditions (eager, on_cron,
on_missing), records the tick with every decision (what it requested and why, what it skipped
and why), and queues runs. At most --max-runs runs go at once (strata.json
"daemon.maxConcurrentRuns", default 2), and a run holds a slot of each pool of its assets
("daemon.pools"; the default pool "warehouse" has one slot on a DuckDB warehouse: one writer
to the file; on a Postgres warehouse it has no limit unless set there).
No asset partition is requested while a run for it is queued or running (here, or in storage
by any process). After downtime a schedule runs only its latest missed tick; the others are
recorded as skipped.

With --queue (or strata.json "queue": true) the daemon runs nothing itself: it records each
run it decides on as queued, with the pools of its assets, and assets worker processes run
them within the pool limits. Needs Postgres storage.

One daemon at a time evaluates, however many are started on one storage: the first holds the
daemon lock, the others print who holds it and stand by, and one of them takes over within
seconds when it stops or dies (Postgres: an advisory lock held by its connection; SQLite: a
lock row it renews, taken over when it expires or its process is gone from this host).
--once does not wait: it exits 1 while another daemon holds the lock.

Ctrl-C (or SIGTERM) stops ticking and waits for running runs; a second Ctrl-C cancels them
(their steps roll back). The stop is recorded as a last tick.

ticks   recent ticks, newest first, with their decisions (default 20)

Options:
  --once           run one tick, wait for its runs, exit (1 if one of them failed)
  --interval DUR   time between ticks: 5s, 1m, 500ms (default: daemon.tickSeconds, 30 s)
  --max-runs N     runs going at once (default: daemon.maxConcurrentRuns, 2; not with --queue)
  --queue          queue the runs for assets worker instead of running them (with --once: one
                   tick, printing the queued runs, without waiting for them)
  --no-queue       run them in this process even with strata.json "queue": true
  --limit N        ticks to list (default 20)
  --json           print JSON`,

  async run(argv, out, err) {
    const { values, positionals } = parseCommandArgs(
      'daemon',
      argv,
      { once: { type: 'boolean' }, interval: { type: 'string' }, 'max-runs': { type: 'string' }, limit: { type: 'string' }, ...QUEUE_OPTIONS },
      true,
    );
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, extra[0]);
    if (action !== undefined && action !== 'ticks')
      throw new UsageError(`unknown daemon action "${action}" (use ticks, or no action to run the daemon)`, action);
    if (action === 'ticks') {
      const limit = positiveInt(values.limit, '--limit', 20);
      const workspace = await Workspace.load(values);
      try {
        const ticks = await (await workspace.storage()).listDaemonTicks({ limit });
        if (values.json) out.json(ticks);
        else printTicks(out, ticks);
        return 0;
      } finally {
        await workspace.close();
      }
    }
    if (values.limit !== undefined) throw new UsageError('--limit is for assets daemon ticks', '--limit');
    const intervalMs = values.interval === undefined ? undefined : parseDuration(values.interval);
    if (values.interval !== undefined && (intervalMs === undefined || intervalMs <= 0)) {
      throw new UsageError(`--interval must be a positive duration such as 5s, 1m or 500ms, got "${values.interval}"`, '--interval');
    }
    const workspace = await Workspace.load(values);
    try {
      const { project } = workspace;
      const queue = queueMode(values, project.config);
      const base = project.config.daemon;
      const settings = {
        tickSeconds: intervalMs === undefined ? (base?.tickSeconds ?? 30) : intervalMs / 1000,
        maxConcurrentRuns: positiveInt(values['max-runs'], '--max-runs', base?.maxConcurrentRuns ?? 2),
        pools: base?.pools ?? {},
      };
      const storage = await workspace.storage();
      // The warehouse is opened only while runs go, so other commands can write it while the daemon
      // is idle; a run waits (saying so once) while another process holds it.
      const log = values.json ? undefined : (line: string) => out.line(line);
      const daemon = new AssetDaemon({ project, storage, landing: workspace.landing(), settings, notice: err.notice, queue, ...(log ? { log } : {}) });
      try {
        if (values.once) return await runOnce(daemon, storage, out, err, values.json === true, queue);
        return await runForever(daemon, storage, settings.tickSeconds * 1000, out, err, queue);
      } finally {
        await daemon.close();
      }
    } finally {
      await workspace.close();
    }
  },
};

async function runOnce(daemon: AssetDaemon, storage: DaemonLockStore, out: Output, err: Output, json: boolean, queue: boolean): Promise<number> {
  const attempt = await storage.tryAcquireDaemonLock(thisDaemon());
  if (!attempt.acquired) {
    err.line(
      err.paint('red', `${describeDaemonLockHolder(attempt.holder)} holds the daemon lock: it evaluates schedules and automation (--once does not wait)`),
    );
    return 1;
  }
  try {
    const tick = await daemon.runIteration();
    // Queued runs are the workers' to run: nothing to wait for here.
    const outcomes = queue ? tick.runIds.map((runId) => ({ runId, status: 'queued' })) : await daemon.waitForRuns(tick.runIds);
    if (json)
      out.json({
        tick: {
          id: tick.tickId,
          timestamp: tick.now.getTime(),
          decisions: tick.decisions,
          runIds: tick.runIds,
          freshnessMisses: tick.freshnessMisses,
          error: tick.error ?? null,
        },
        runs: outcomes,
      });
    else if (tick.decisions.length === 0) out.line(`tick ${tick.tickId}: nothing to do`);
    return tick.error !== undefined || outcomes.some((o) => o.status !== (queue ? 'queued' : 'success')) ? 1 : 0;
  } finally {
    await attempt.lock.release();
  }
}

async function runForever(daemon: AssetDaemon, storage: DaemonLockStore, intervalMs: number, out: Output, err: Output, queue: boolean): Promise<number> {
  const stopTicking = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      const running = daemon.launcher.runningCount;
      err.line(
        err.paint(
          'yellow',
          `stopping: no more ticks${running > 0 ? `; waiting for ${running} running run${running === 1 ? '' : 's'} (Ctrl-C again to cancel them)` : ''}`,
        ),
      );
      stopTicking.abort();
    } else if (signals === 2) {
      err.line(err.paint('yellow', 'canceling running runs: their steps roll back (Ctrl-C again to quit at once)'));
      daemon.cancelRunning();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const runs = queue
      ? 'queueing runs for assets worker'
      : `at most ${daemon.settings.maxConcurrentRuns} run${daemon.settings.maxConcurrentRuns === 1 ? '' : 's'} at once`;
    const started = `a tick every ${intervalMs / 1000}s, ${runs} (Ctrl-C to stop)`;
    const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
    const led = await leadWhileHolding(
      {
        storage,
        signal: stopTicking.signal,
        onStandby: (holder) =>
          out.line(`standing by: ${describeDaemonLockHolder(holder)} holds the daemon lock; this daemon takes over when it stops (Ctrl-C to quit)`),
        onLead: ({ stoodBy }) => out.line(stoodBy ? `took over the daemon lock: ${started}` : `daemon started: ${started}`),
        onLost: () =>
          err.line(err.paint('yellow', 'lost the daemon lock (its storage connection closed, or it expired): no more ticks from this daemon; standing by')),
        onError: (error) => err.line(err.paint('red', `cannot take the daemon lock: ${message(error)} (trying again)`)),
      },
      (leading, lock) =>
        runDaemonLoop(daemon, {
          intervalMs,
          signal: leading,
          beforeTick: () => lock.stillHeld(),
          onError: (error) => err.line(err.paint('red', `tick failed: ${message(error)}`)),
        }),
    );
    // A daemon that only stood by has no runs and recorded no tick: its stop is not a tick either.
    if (led) await daemon.stop({ cancel: signals >= 2 });
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printTicks(out: Output, ticks: readonly DaemonTickRecord[]): void {
  if (ticks.length === 0) {
    out.line('no ticks yet: start the daemon with assets daemon (or assets daemon --once)');
    return;
  }
  for (const tick of ticks) {
    const requested = tick.decisions.filter((d) => d.action === 'requested').length;
    const head = `tick ${tick.id}  ${formatTime(tick.timestamp)}  ${tick.status}  ${requested} requested, ${tick.decisions.length - requested} skipped/other, ${tick.runIds.length} run${tick.runIds.length === 1 ? '' : 's'}`;
    out.line(out.paint(statusColour(tick.status) ?? 'bold', head));
    if (tick.error) out.line(`  ${out.paint('red', tick.error)}`);
    for (const d of tick.decisions) {
      const colour = d.action === 'requested' ? 'green' : d.action === 'error' ? 'red' : 'gray';
      const line = describeDecision(d);
      out.line(`  ${out.paint(colour, line.slice(0, 9))}${line.slice(9)}`);
    }
  }
}
