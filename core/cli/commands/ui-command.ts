import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { Workspace } from '../../engine/workspace.ts';
import { QUEUE_OPTIONS, queueMode } from '../queue-mode.ts';

/** `assets ui`: serves the web UI and its JSON API until Ctrl-C. */
export const uiCommand: Command = {
  name: 'ui',
  help: `Usage: assets ui [--port 3000] [--host 127.0.0.1] [--token TOKEN] [--queue | --no-queue]

Serves the web UI at http://HOST:PORT/ and its JSON API until Ctrl-C: assets, lineage, runs
and backfills, and buttons that launch materializations and backfills. Launched runs go on
inside this process with the same engine as assets materialize / assets backfill; the DuckDB
warehouse is open only while one of them runs, so CLI commands can use it the rest of the time.
Ctrl-C cancels the runs it launched (running steps roll back) before it stops. With --queue
(or strata.json "queue": true) a launched run is recorded as queued instead, for assets worker
to run; its page shows it queued, then live while a worker runs it (backfills still run here).

  GET  /api/assets?select=SELECTION            assets with state and stale count
  GET  /api/assets/KEY                         one asset: spec, SQL, latest materialization, checks summed up
  GET  /api/lineage/KEY?depth=N&direction=up|down|both
  GET  /api/runs?limit=&offset=&status=        runs, newest first
  GET  /api/runs/RUN_ID                        one run and its events
  GET  /api/backfills?limit=&offset=
  GET  /api/backfills/BACKFILL_ID              one backfill, its progress and its runs
  GET  /api/history/KEY?limit=100&offset=0     materializations per run, check results with samples
  GET  /api/partitions/KEY                     each partition: fresh, stale, missing or failed
  GET  /api/events?run=RUN_ID                  Server-Sent Events: run, run_event, asset
  POST /api/runs       {"select": "marts/*", "partition"?: "2025-01-01", "staleOnly"?: true}
  POST /api/backfills  {"select": "staging/*", "from": "2025-01-01", "to": "2025-01-31",
                        "mode"?: "all"|"missing"|"stale", "perPartition"?: true}
  POST /api/runs/RUN_ID/cancel                 cancel a run of this UI, a queued one, or a backfill's
  POST /api/backfills/BACKFILL_ID/cancel       cancel a running backfill, in any process

POST requests need Content-Type: application/json. They are accepted from the UI page itself
(same origin) when the server listens on this machine only, or from anything that sends
Authorization: Bearer TOKEN when a token is set.

Options:
  --port N       port to listen on, 0-65535 (default 3000; 0 picks a free one)
  --host HOST    address to bind (default 127.0.0.1: this machine only; reading needs no login)
  --token TOKEN  secret that lets scripts (Authorization: Bearer TOKEN) launch runs; default:
                 the STRATA_UI_TOKEN environment variable. Without one, a server listening
                 beyond this machine refuses to launch anything.
  --queue        queue launched runs and backfills for assets worker (the answers say
                 queued: true); needs Postgres storage
  --no-queue     run them in this process even with strata.json "queue": true`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('ui', argv, { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, ...QUEUE_OPTIONS });
    const port = parsePort(values.port);
    const host = values.host ?? '127.0.0.1';
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new UsageError(`--host must be a host name or IP address, got "${host}"`, '--host');
    const token = parseToken(values.token ?? process.env.STRATA_UI_TOKEN, values.token === undefined ? 'STRATA_UI_TOKEN' : '--token');
    const workspace = await Workspace.load(values, { withStorage: true });
    try {
      const queue = queueMode(values, workspace.project.config);
      await workspace.storage();
      // The UI server comes through the engine's public API, so the CLI and the UI never import each other.
      const { startApiServer } = await import('../../engine.ts');
      const server = await startApiServer(workspace, {
        port,
        host,
        ...(token === undefined ? {} : { token }),
        queue,
        log: (error) => err.line(err.paint('red', `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)),
        notice: (message) => err.line(err.paint('yellow', message)),
      });
      out.line(`Strata UI for ${workspace.project.config.name} at ${out.paint('bold', `${server.url}/`)} (Ctrl-C to stop)`);
      if (!server.loopback) {
        err.line(err.paint('yellow', `warning: listening on ${host}: anyone who can reach it can read the project's definitions and runs`));
        if (token === undefined)
          err.line(err.paint('yellow', 'warning: launching runs is disabled (POST requests are refused): set --token or STRATA_UI_TOKEN to allow it'));
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      out.line('stopped');
      return 0;
    } finally {
      await workspace.close();
    }
  },
};

/** A TCP port from `--port`: 0-65535, default 3000. */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return 3000;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${value}"`, '--port');
  return Number(value);
}

/** The token from `--token` or STRATA_UI_TOKEN: 16-200 visible ASCII characters; empty means none. */
export function parseToken(value: string | undefined, source: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[\x21-\x7e]{16,200}$/.test(value))
    throw new UsageError(
      `${source} must be 16 to 200 visible ASCII characters (no spaces), e.g. from: openssl rand -hex 24`,
      source === '--token' ? '--token' : undefined,
    );
  return value;
}
