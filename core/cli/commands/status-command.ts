import { formatRanges } from '../../model/partitions/index.ts';
import { selectAssets } from '../../model/selection/index.ts';
import { UsageError } from '../../model/errors.ts';
import { findStale } from '../../engine/staleness/find-stale.ts';
import { REASON_LABELS } from '../../model/staleness/reason-text.ts';
import { parseCommandArgs } from '../args.ts';
import { printStaleStatus } from './stale-status.ts';
import { readAssetStates, type AssetState } from '../../model/status/asset-states.ts';
import type { Command } from '../command.ts';
import { formatCount, formatTime, statusColour } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';
import { writeSummaryText } from '../../model/format/write-summary-text.js';
import type { SchemaDiff } from '../../model/schema/table-schema.ts';
import { freshnessText } from '../../model/format/freshness-text.js';

/** `assets status`: the last materialization of each asset; partition counts for partitioned ones. */
export const statusCommand: Command = {
  name: 'status',
  help: `Usage: assets status [--select SELECTION] [--stale [--why]] [--json]

For each asset: its state (fresh, stale, partial, missing, failed), when it was last
materialized, by which run, with how many rows, its stale partitions counted by reason, and its
checks. For partitioned assets: how many partitions are materialized, missing and failed, and
the ranges that are missing. For incremental assets and snapshots: what their latest write did
(LAST WRITE: rows inserted, updated and deleted, and the watermark read; versions inserted and
closed). Assets whose latest materialization changed the table's columns say which (SCHEMA
CHANGED: +added, -removed, ~retyped; --json: schemaChange). For assets with a freshness policy
(-- freshness: 26h): FRESHNESS, ok or overdue and for how long, from stored materializations
(the daemon need not run). Plain status and --stale read one staleness report (source assets
are observed first), so an asset is fresh exactly when --stale lists none of its partitions.

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
    const workspace = await Workspace.load(values, { withStorage: true });
    try {
      const { graph } = workspace.project;
      const keys = values.select === undefined ? [...graph.keys] : selectAssets(graph, values.select).keys;
      const storage = await workspace.storage();
      // One report for both views: sources are observed first, as for --stale-only.
      const materializable = keys.filter((k) => !graph.spec(k).source);
      const sources = values.select === undefined ? [] : keys.filter((k) => graph.spec(k).source);
      const report = await findStale({ project: workspace.project, storage, landing: workspace.landing(), keys: materializable, sources });
      if (values.stale) {
        if (values.json) out.json(report.stale);
        else printStaleStatus(out, workspace.project, materializable, report, values.why === true);
        return 0;
      }
      const rows = await readAssetStates(workspace.project, storage, keys, report);
      if (values.json) {
        out.json(rows);
        return 0;
      }
      // Incremental assets and snapshots say what their latest write did, in a column of its own.
      const writes = rows.map((r) => writeSummaryText(r.incremental ?? r.snapshot) ?? '');
      const withWrites = writes.some((w) => w !== '');
      // Assets whose latest materialization changed columns say which, in a column of its own.
      const schemaChanges = rows.map((r) => (r.schemaChange ? schemaChangeNames(r.schemaChange) : ''));
      const withSchemaChanges = schemaChanges.some((c) => c !== '');
      // Only when a selected asset has a freshness policy: `ok`, `overdue 3h`, `overdue (no data)`.
      const withFreshness = rows.some((r) => r.freshness !== undefined);
      // The optional columns follow MISSING (index 8) in this order.
      const freshnessColumn = withFreshness ? 9 : -1;
      const schemaColumn = withSchemaChanges ? 9 + (withFreshness ? 1 : 0) + (withWrites ? 1 : 0) : -1;
      out.table(
        [
          'ASSET',
          'STATE',
          'PARTITIONS',
          'STALE',
          'LAST MATERIALIZED',
          'ROWS',
          'RUN',
          'CHECKS',
          'MISSING',
          ...(withFreshness ? ['FRESHNESS'] : []),
          ...(withWrites ? ['LAST WRITE'] : []),
          ...(withSchemaChanges ? ['SCHEMA CHANGED'] : []),
        ],
        rows.map((r, i) => [
          r.key,
          r.state,
          r.partitions ? `${r.partitions.materialized}/${r.partitions.total}${r.partitions.failed ? ` (${r.partitions.failed} failed)` : ''}` : '-',
          staleText(r.staleness),
          formatTime(r.lastMaterializedAt),
          formatCount(r.rowCount),
          r.runId?.slice(0, 8) ?? '-',
          checksText(r.checks),
          r.partitions && r.partitions.missing > 0 ? formatRanges(r.partitions.missingRanges, 2) : '',
          ...(withFreshness ? [r.freshness ? freshnessText(r.freshness) : '-'] : []),
          ...(withWrites ? [writes[i] as string] : []),
          ...(withSchemaChanges ? [schemaChanges[i] as string] : []),
        ]),
        (_row, column, cell) => {
          if (column === 1) return stateColour(cell);
          if (column === 3 && cell !== '-') return 'yellow' as const;
          if (column === 7) return checksColour(cell);
          if (column === freshnessColumn && cell !== '-') return cell === 'ok' ? ('green' as const) : ('red' as const);
          if (column === schemaColumn && /(^|, )[-~]/.test(cell)) return 'yellow' as const;
          return undefined;
        },
      );
      const count = (state: string) => rows.filter((r) => r.state === state).length;
      const overdue = rows.filter((r) => r.freshness?.status === 'overdue').length;
      const stalePartitions = rows.reduce((sum, r) => sum + (r.staleness?.partitions ?? 0), 0);
      out.line(
        out.paint(
          'gray',
          `${rows.length} assets: ${count('fresh')} fresh, ${count('stale')} stale, ${count('partial')} partial, ${count('missing')} missing, ${count('failed')} failed` +
            (rows.length > materializable.length ? `, ${rows.length - materializable.length} observed sources` : '') +
            (withFreshness ? `; ${overdue} overdue` : '') +
            (stalePartitions > 0 ? ` (${formatCount(stalePartitions)} stale partitions: assets status --stale --why)` : ''),
        ),
      );
      return 0;
    } finally {
      await workspace.close();
    }
  },
};

/** `-` when fresh, else `59 code changed` or `3 missing, 1 upstream stale` (partitions by first reason). */
function staleText(staleness: AssetState['staleness']): string {
  if (!staleness || staleness.partitions === 0) return '-';
  return Object.entries(staleness.byReason)
    .map(([kind, n]) => `${n} ${REASON_LABELS[kind as keyof typeof REASON_LABELS]}`)
    .join(', ');
}

/** `+discount_pct, -legacy_code, ~amount`: columns added, removed and retyped. */
function schemaChangeNames(change: SchemaDiff): string {
  return [...change.added.map((c) => `+${c.name}`), ...change.removed.map((c) => `-${c.name}`), ...change.retyped.map((c) => `~${c.name}`)].join(', ');
}

function checksText(checks: AssetState['checks']): string {
  if (!checks) return '-';
  if (checks.failed === 0 && checks.warned === 0 && checks.errored === 0) return `${checks.total} ok`;
  return [checks.errored ? `${checks.errored} error` : '', checks.failed ? `${checks.failed} failed` : '', checks.warned ? `${checks.warned} warn` : '']
    .filter(Boolean)
    .join(', ');
}

function checksColour(cell: string) {
  if (cell.endsWith(' ok')) return 'green' as const;
  if (cell.includes('failed') || cell.includes('error')) return 'red' as const;
  return cell.includes('warn') ? ('yellow' as const) : undefined;
}

function stateColour(state: string) {
  if (state === 'observed' || state === 'fresh') return 'green' as const;
  if (state === 'partial' || state === 'stale') return 'yellow' as const;
  return statusColour(state);
}
