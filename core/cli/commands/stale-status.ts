import { formatRanges, toRanges } from '../../model/partitions/index.ts';
import type { Project } from '../../model/project.ts';
import { countByReason, describeReason } from '../../model/staleness/reason-text.ts';
import type { StalePartition, StalenessReport } from '../../model/staleness/stale-partition.ts';
import { formatCount, type Output } from '../output.ts';

/** How many reason lines `--why` prints per asset before it counts the rest. */
const WHY_LINES_PER_ASSET = 20;

/**
 * Prints `assets status --stale`: one row per asset with stale partitions (how many, their
 * reasons, the ranges), and with `why` the reasons of each partition, consecutive partitions
 * with the same reasons folded into ranges.
 */
export function printStaleStatus(out: Output, project: Project, keys: readonly string[], report: StalenessReport, why: boolean): void {
  const byAsset = new Map<string, StalePartition[]>();
  for (const p of report.stale) {
    const list = byAsset.get(p.key);
    if (list) list.push(p);
    else byAsset.set(p.key, [p]);
  }
  const assets = keys.filter((key) => byAsset.has(key));
  if (assets.length === 0) {
    out.line(out.paint('green', `All ${keys.length} selected assets are fresh.`));
    return;
  }
  out.table(
    ['ASSET', 'STALE', 'REASONS', 'PARTITIONS'],
    assets.map((key) => {
      const stale = byAsset.get(key) as StalePartition[];
      const partitioned = project.graph.spec(key).partitions !== undefined;
      const all = partitioned ? (project.graph.spec(key).partitions?.keys(report.now) ?? []) : [];
      return [
        key,
        partitioned ? `${stale.length}/${all.length}` : 'yes',
        countByReason(stale),
        partitioned ? formatRanges(toRanges(all, new Set(stale.map((p) => p.partition as string))), 3) : '-',
      ];
    }),
    (_row, column) => (column === 1 ? ('yellow' as const) : undefined),
  );
  if (why) {
    for (const key of assets) printWhy(out, key, byAsset.get(key) as StalePartition[], project.definitions.get(key)?.compute.type === 'seed');
  }
  out.line(
    out.paint('gray', `${assets.length} of ${keys.length} assets stale, ${formatCount(report.stale.length)} partitions: ${countByReason(report.stale)}`),
  );
  if (!why) out.line(out.paint('gray', 'add --why for the reasons of each partition'));
}

/** Groups an asset's consecutive stale partitions with identical reasons into one line each. */
function printWhy(out: Output, key: string, stale: readonly StalePartition[], seed: boolean): void {
  out.line('');
  out.line(out.paint('bold', key));
  const groups: { from: string | null; to: string | null; count: number; text: string }[] = [];
  for (const p of stale) {
    const text = p.reasons.map((reason) => describeReason(reason, seed)).join('; ');
    const last = groups.at(-1);
    if (last !== undefined && last.text === text) {
      last.to = p.partition;
      last.count++;
    } else groups.push({ from: p.partition, to: p.partition, count: 1, text });
  }
  for (const group of groups.slice(0, WHY_LINES_PER_ASSET)) {
    const where = group.from === null ? '' : group.count === 1 ? `@${group.from}` : `@${group.from}..${group.to} (${group.count})`;
    out.line(`  ${out.paint('yellow', `${key}${where}`)}  ${group.text}`);
  }
  if (groups.length > WHY_LINES_PER_ASSET) out.line(out.paint('gray', `  … ${groups.length - WHY_LINES_PER_ASSET} more`));
}
