import { UsageError } from '../../errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { Workspace } from '../workspace.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** `assets ui`: serves the read-only JSON API (the web pages come later) until Ctrl-C. */
export const uiCommand: Command = {
  name: 'ui',
  help: `Usage: assets ui [--port 3000] [--host 127.0.0.1]

Serves a read-only JSON API over the project's assets, lineage, runs and backfills until
Ctrl-C. It never opens the DuckDB warehouse, so materializations can run alongside.

  GET /api/assets?select=SELECTION             assets with state and stale count
  GET /api/assets/KEY                          one asset: spec, SQL, latest materialization, checks
  GET /api/lineage/KEY?depth=N&direction=up|down|both
  GET /api/runs?limit=&offset=&status=         runs, newest first
  GET /api/runs/RUN_ID                         one run and its events
  GET /api/backfills?limit=&offset=

Options:
  --port N      port to listen on, 0-65535 (default 3000; 0 picks a free one)
  --host HOST   address to bind (default 127.0.0.1: this machine only; the API has no login)`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('ui', argv, { port: { type: 'string' }, host: { type: 'string' } });
    const port = parsePort(values.port);
    const host = values.host ?? '127.0.0.1';
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new UsageError(`--host must be a host name or IP address, got "${host}"`, '--host');
    const workspace = await Workspace.load(values.project, { withStorage: true });
    try {
      await workspace.storage();
      const { startApiServer } = await import('../../../ui/server.ts');
      const server = await startApiServer(workspace, { port, host, log: (error) => err.line(err.paint('red', `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)) });
      out.line(`Strata API for ${workspace.project.config.name} at ${out.paint('bold', `${server.url}/api/assets`)} (Ctrl-C to stop)`);
      if (!LOOPBACK.has(host)) err.line(err.paint('yellow', `warning: listening on ${host}: anyone who can reach it can read the project's definitions and runs`));
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
