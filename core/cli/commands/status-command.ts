import { formatRanges } from '../../partitions/index.ts';
import { selectAssets } from '../../selection/index.ts';
import { UsageError } from '../../errors.ts';
import { findStale } from '../../staleness/find-stale.ts';
import { parseCommandArgs } from '../args.ts';
import { printStaleStatus } from './stale-status.ts';
import { readAssetStates, type AssetState } from '../../status/asset-states.ts';
import type { Command } from '../command.ts';
import { formatCount, formatTime, statusColour } from '../output.ts';
import { Workspace } from '../workspace.ts';

/** `assets status`: the last materialization of each asset; partition counts for partitioned ones. */
export const statusCommand: Command = {
  name: 'status',
  help: `Usage: assets status [--select SELECTION] [--stale [--why]] [--json]

For each asset: whether it has been materialized, when, by which run, with how many rows,
whether its last attempt failed, and whether its code changed since (code version differs).
For partitioned assets: how many partitions are materialized, missing and failed, and the
ranges that are missing.

With --stale: the stale asset partitions and why. A partition is stale when it is missing, its
last attempt failed, its code or its dependencies changed since it was built, an upstream
partition it reads now has another data version than the one it read (source assets such as
landing files are observed first), or an upstream partition it reads is itself stale.

Options:
  --select SELECTION   only these assets
  --stale              list stale partitions with their reasons, per asset
  --why                with --stale: the reasons of every partition (consecutive ones folded)
  --json               print JSON`,

  async run(argv, out) {
    const { values } = parseCommandArgs('status', argv, { select: { type: 'string' }, stale: { type: 'boolean' }, why: { type: 'boolean' } });
    if (values.why && !values.stale) throw new UsageError('--why goes with --stale: assets status --stale --why', '--why');
    const workspace = await Workspace.load(values.project, { withStorage: true });
    try {
      const { graph, codeVersions } = workspace.project;
      const keys = values.select === undefined ? [...graph.keys] : selectAssets(graph, values.select).keys;
      const storage = await workspace.storage();
      if (values.stale) {
        const materializable = keys.filter((k) => !graph.spec(k).source);
        const report = await findStale({ project: workspace.project, storage, landing: workspace.landing(), keys: materializable });
        if (values.json) out.json(report.stale);
        else printStaleStatus(out, workspace.project, materializable, report, values.why === true);
        return 0;
      }
      const rows = await readAssetStates(workspace.project, storage, keys);
      if (values.json) {
        out.json(rows);
        return 0;
      }
      out.table(
        ['ASSET', 'STATE', 'PARTITIONS', 'LAST MATERIALIZED', 'ROWS', 'RUN', 'CHECKS', 'MISSING'],
        rows.map((r) => [
          r.key,
          r.state,
          r.partitions ? `${r.partitions.materialized}/${r.partitions.total}${r.partitions.failed ? ` (${r.partitions.failed} failed)` : ''}` : '-',
          formatTime(r.lastMaterializedAt),
          formatCount(r.rowCount),
          r.runId?.slice(0, 8) ?? '-',
          checksText(r.checks),
          r.partitions && r.partitions.missing > 0 ? formatRanges(r.partitions.missingRanges, 2) : '',
        ]),
        (_row, column, cell) => (column === 1 ? stateColour(cell) : column === 6 ? checksColour(cell) : undefined),
      );
      const count = (state: string) => rows.filter((r) => r.state === state).length;
      out.line(
        out.paint(
          'gray',
          `${rows.length} assets: ${count('materialized') + count('complete')} up to date, ${count('partial')} partial, ${count('missing')} missing, ${count('failed')} failed, ${count('code changed')} code changed`,
        ),
      );
      return 0;
    } finally {
      await workspace.close();
    }
  },
};


function checksText(checks: AssetState['checks']): string {
  if (!checks) return '-';
  if (checks.failed === 0 && checks.warned === 0) return `${checks.total} ok`;
  return [checks.failed ? `${checks.failed} failed` : '', checks.warned ? `${checks.warned} warn` : ''].filter(Boolean).join(', ');
}

function checksColour(cell: string) {
  if (cell.endsWith(' ok')) return 'green' as const;
  if (cell.includes('failed')) return 'red' as const;
  return cell.includes('warn') ? ('yellow' as const) : undefined;
}


function stateColour(state: string) {
  if (state === 'observed') return 'green' as const;
  if (state === 'complete') return 'green' as const;
  if (state === 'partial' || state === 'code changed') return 'yellow' as const;
  return statusColour(state);
}

