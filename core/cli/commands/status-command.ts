import { selectAssets } from '../../selection/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, formatTime, statusColour } from '../output.ts';
import { Workspace } from '../workspace.ts';

/** `assets status`: the last materialization of each asset. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show the last materialization, run and row count of each asset',
  help: `Usage: assets status [--select SELECTION] [--json]

For each asset: whether it has been materialized, when, by which run, with how many rows,
and whether its code changed since (the code version differs from the one recorded).

Options:
  --select SELECTION   only these assets
  --json               print JSON`,

  async run(argv, out) {
    const { values } = parseCommandArgs('status', argv, { select: { type: 'string' } });
    const workspace = await Workspace.load(values.project);
    try {
      const { graph, codeVersions } = workspace.project;
      const keys = values.select === undefined ? [...graph.keys] : selectAssets(graph, values.select).keys;
      const storage = await workspace.storage();
      const latest = new Map((await storage.latestMaterializations(keys)).filter((m) => m.partition === null).map((m) => [m.assetKey, m]));
      const rows = keys.map((key) => {
        const m = latest.get(key);
        const state = !m ? 'missing' : m.codeVersion !== codeVersions.get(key) ? 'code changed' : 'materialized';
        return {
          key,
          state,
          lastMaterializedAt: m?.timestamp ?? null,
          runId: m?.runId ?? null,
          rowCount: m?.rowCount ?? null,
          codeVersion: codeVersions.get(key) ?? null,
          dataVersion: m?.dataVersion ?? null,
        };
      });
      if (values.json) {
        out.json(rows);
        return 0;
      }
      out.table(
        ['ASSET', 'STATE', 'LAST MATERIALIZED', 'ROWS', 'RUN'],
        rows.map((r) => [r.key, r.state, formatTime(r.lastMaterializedAt), formatCount(r.rowCount), r.runId?.slice(0, 8) ?? '-']),
        (_row, column, cell) => (column === 1 ? (cell === 'code changed' ? 'yellow' : statusColour(cell)) : undefined),
      );
      const missing = rows.filter((r) => r.state === 'missing').length;
      out.line(out.paint('gray', `${rows.length} assets, ${rows.length - missing} materialized, ${missing} missing`));
      return 0;
    } finally {
      await workspace.close();
    }
  },
};
