import { groupBy } from '../../collections/group-by.ts';
import { formatRanges, toRanges } from '../../partitions/index.ts';
import { lastAttemptFailed } from '../../planning/last-attempt.ts';
import { partitionId } from '../../planning/plan.ts';
import { selectAssets } from '../../selection/index.ts';
import type { CheckResultRecord, MaterializationRecord } from '../../../storage/storage.ts';
import type { ObservationRecord } from '../../../storage/staleness-store.ts';
import { UsageError } from '../../errors.ts';
import { findStale } from '../../staleness/find-stale.ts';
import { parseCommandArgs } from '../args.ts';
import { printStaleStatus } from './stale-status.ts';
import type { Command } from '../command.ts';
import { formatCount, formatTime, statusColour } from '../output.ts';
import { Workspace } from '../workspace.ts';

/** The status of one asset, as printed and as `--json` gives it. */
interface AssetStatus {
  readonly key: string;
  /**
   * `materialized`, `missing`, `failed`, `code changed`, or for partitioned assets `partial`/`complete`;
   * for source assets `observed`, `partial` or `not observed`.
   */
  readonly state: string;
  readonly lastMaterializedAt: number | null;
  readonly runId: string | null;
  readonly rowCount: number | null;
  readonly codeVersion: string | null;
  /** Latest outcome of the asset's checks: how many it has results for, failed (error) and warned. */
  readonly checks: { readonly total: number; readonly failed: number; readonly warned: number } | null;
  readonly partitions: null | {
    readonly total: number;
    readonly materialized: number;
    readonly missing: number;
    readonly failed: number;
    readonly missingRanges: readonly { from: string; to: string; count: number }[];
    readonly failedPartitions: readonly string[];
  };
}

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
      const sources = keys.filter((k) => graph.spec(k).source);
      const [latest, failures, observations, checkResults] = await Promise.all([
        storage.latestMaterializations(keys),
        storage.latestStepFailures(keys),
        storage.latestObservations(sources),
        storage.latestCheckResults(keys),
      ]);
      const byAsset = groupBy(latest, (m) => m.assetKey);
      const observedBy = groupBy(observations, (o) => o.assetKey);
      const checksBy = groupBy(checkResults, (c) => c.assetKey);
      const failureOf = new Map(failures.map((f) => [partitionId(f.assetKey, f.partition), f]));
      const now = new Date();
      const rows: AssetStatus[] = keys.map((key) => {
        const spec = graph.spec(key);
        const mine = byAsset.get(key) ?? [];
        const newest = mine.reduce<MaterializationRecord | undefined>((a, m) => (a === undefined || m.timestamp > a.timestamp ? m : a), undefined);
        const base = {
          key,
          lastMaterializedAt: newest?.timestamp ?? null,
          runId: newest?.runId ?? null,
          codeVersion: codeVersions.get(key) ?? null,
          checks: checkOutcome(checksBy.get(key)),
        };
        if (spec.source) return sourceStatus(key, spec.partitions?.keys(now) ?? null, observedBy.get(key) ?? [], base);
        if (!spec.partitions) {
          const m = mine.find((x) => x.partition === null);
          const state = lastAttemptFailed(m, failureOf.get(key)) ? 'failed' : !m ? 'missing' : m.codeVersion !== codeVersions.get(key) ? 'code changed' : 'materialized';
          return { ...base, state, rowCount: m?.rowCount ?? null, partitions: null };
        }
        const all = spec.partitions.keys(now);
        const done = new Map(mine.map((m) => [m.partition, m]));
        const failed = all.filter((p) => lastAttemptFailed(done.get(p), failureOf.get(partitionId(key, p))));
        const failedSet = new Set(failed);
        const materialized = all.filter((p) => done.has(p) && !failedSet.has(p));
        const missing = new Set(all.filter((p) => !done.has(p) && !failedSet.has(p)));
        const state = failed.length > 0 ? 'failed' : missing.size === 0 ? 'complete' : materialized.length === 0 ? 'missing' : 'partial';
        const rowCount = mine.every((m) => m.rowCount === null) ? null : mine.reduce((sum, m) => sum + (m.rowCount ?? 0), 0);
        return {
          ...base,
          state,
          rowCount,
          partitions: {
            total: all.length,
            materialized: materialized.length,
            missing: missing.size,
            failed: failed.length,
            missingRanges: toRanges(all, missing),
            failedPartitions: failed,
          },
        };
      });
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

/** The latest outcome per check (a check fails when its latest result failed on any partition). */
function checkOutcome(results: readonly CheckResultRecord[] | undefined): AssetStatus['checks'] {
  if (!results || results.length === 0) return null;
  const byCheck = groupBy(results, (r) => r.checkName);
  let failed = 0;
  let warned = 0;
  for (const list of byCheck.values()) {
    const bad = list.find((r) => !r.passed);
    if (bad?.severity === 'error') failed++;
    else if (bad) warned++;
  }
  return { total: byCheck.size, failed, warned };
}

function checksText(checks: AssetStatus['checks']): string {
  if (!checks) return '-';
  if (checks.failed === 0 && checks.warned === 0) return `${checks.total} ok`;
  return [checks.failed ? `${checks.failed} failed` : '', checks.warned ? `${checks.warned} warn` : ''].filter(Boolean).join(', ');
}

function checksColour(cell: string) {
  if (cell.endsWith(' ok')) return 'green' as const;
  if (cell.includes('failed')) return 'red' as const;
  return cell.includes('warn') ? ('yellow' as const) : undefined;
}

/** A source asset's row: observed partitions instead of materialized ones. */
function sourceStatus(key: string, all: readonly string[] | null, observed: readonly ObservationRecord[], base: Omit<AssetStatus, 'state' | 'rowCount' | 'partitions'>): AssetStatus {
  const lastObservedAt = observed.reduce<number | null>((t, o) => (t === null || o.timestamp > t ? o.timestamp : t), null);
  const common = { ...base, lastMaterializedAt: lastObservedAt, runId: null, rowCount: null };
  if (all === null) return { ...common, state: observed.length > 0 ? 'observed' : 'not observed', partitions: null };
  const seen = new Set(observed.map((o) => o.partition));
  const missing = new Set(all.filter((p) => !seen.has(p)));
  const state = observed.length === 0 ? 'not observed' : missing.size === 0 ? 'observed' : 'partial';
  return {
    ...common,
    state,
    partitions: { total: all.length, materialized: all.length - missing.size, missing: missing.size, failed: 0, missingRanges: toRanges(all, missing), failedPartitions: [] },
  };
}

function stateColour(state: string) {
  if (state === 'observed') return 'green' as const;
  if (state === 'complete') return 'green' as const;
  if (state === 'partial' || state === 'code changed') return 'yellow' as const;
  return statusColour(state);
}

