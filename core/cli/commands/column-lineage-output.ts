/**
 * `assets lineage KEY --column COL`: the output of one column's lineage, as a tree per direction
 * or as JSON. The lineage itself is computed by the engine (core/engine/lineage).
 */
import type { AssetColumnLineage } from '../../model/lineage/column-lineage.ts';
import { downstreamColumns, upstreamColumns, type ColumnHop, type IndirectHop } from '../../model/lineage/column-lineage-walk.ts';
import type { Output } from '../output.ts';

/** What to print. */
export interface ColumnLineageRequest {
  readonly key: string;
  readonly column: string;
  readonly depth: number;
  readonly upstream: boolean;
  readonly downstream: boolean;
  readonly json: boolean;
}

/** Prints the lineage of one column. */
export function printColumnLineage(out: Output, lineage: ReadonlyMap<string, AssetColumnLineage>, request: ColumnLineageRequest, note?: string): void {
  const { key, column, depth } = request;
  const up = request.upstream ? upstreamColumns(lineage, key, column, depth) : { hops: [], unknown: [] };
  const down = request.downstream ? downstreamColumns(lineage, key, column, depth) : { hops: [], indirect: [] };
  const indirect = request.upstream ? (lineage.get(key)?.indirect ?? []) : [];
  if (request.json) {
    out.json({
      key,
      column,
      upstream: up.hops,
      unknown: up.unknown,
      indirect,
      downstream: down.hops,
      downstreamIndirect: down.indirect,
      ...(note ? { note } : {}),
    });
    return;
  }
  const start = `${key}.${column}`;
  if (request.upstream) {
    out.line(out.paint('bold', `upstream of ${start}`));
    out.line(start);
    const reasons = new Map(up.unknown.map((u) => [`${u.asset}.${u.column}`, u.reason]));
    printTree(out, start, up.hops, [], reasons);
    if (indirect.length > 0) {
      out.line(out.paint('gray', `${key} also uses (joins, filters, grouping, sorting, windows):`));
      for (const use of indirect) out.line(out.paint('gray', `  ${use.asset}.${use.column} (${use.kind})`));
    }
  }
  if (request.upstream && request.downstream) out.line();
  if (request.downstream) {
    out.line(out.paint('bold', `downstream of ${start}`));
    out.line(start);
    printTree(out, start, down.hops, down.indirect, new Map());
  }
  if (note) out.line(out.paint('gray', `note: ${note}`));
}

/** Prints hops as a tree under `root`, each under the column it was reached from. */
function printTree(out: Output, root: string, hops: readonly ColumnHop[], indirect: readonly IndirectHop[], reasons: ReadonlyMap<string, string>): void {
  const children = new Map<string, string[]>();
  const label = new Map<string, string>();
  for (const hop of hops) {
    const id = `${hop.asset}.${hop.column}`;
    children.set(hop.of, [...(children.get(hop.of) ?? []), id]);
    label.set(id, `${id} ${out.paint('gray', `(${hop.kind})`)}`);
  }
  for (const hop of indirect) {
    const id = `${hop.asset} (${hop.kind})\u0000`;
    children.set(hop.of, [...(children.get(hop.of) ?? []), id]);
    label.set(id, `${hop.asset} ${out.paint('gray', `(uses it: ${hop.kind})`)}`);
  }
  const walk = (node: string, prefix: string) => {
    const reason = reasons.get(node);
    const next = children.get(node) ?? [];
    if (reason !== undefined) out.line(`${prefix}${next.length === 0 ? '└── ' : '├── '}${out.paint('yellow', `unknown: ${reason}`)}`);
    next.forEach((child, i) => {
      const last = i === next.length - 1;
      out.line(`${prefix}${last ? '└── ' : '├── '}${label.get(child) ?? child}`);
      walk(child, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root, '');
}
