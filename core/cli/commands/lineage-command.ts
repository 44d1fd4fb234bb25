import { lineageLevels } from '../../model/graph/lineage-levels.ts';
import { NotFoundError, UsageError } from '../../model/errors.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { closestKeys } from '../../model/collections/key-compare.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import type { Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';
import { printColumnLineage } from './column-lineage-output.ts';
import { checkedColumn } from '../../model/lineage/column-lineage-walk.ts';

/** `assets lineage KEY`: where an asset's data comes from and where it goes. */
export const lineageCommand: Command = {
  name: 'lineage',
  help: `Usage: assets lineage KEY [--column COL] [--upstream | --downstream] [--depth N] [--json]

Prints the assets KEY reads from (upstream) and the assets that read it (downstream).
An asset only KEY's checks read (a relationships target, a table a custom SQL check reads)
is marked "(check)": it is built first, but does not make KEY stale.

With --column, prints the columns COL of KEY comes from and the columns made from it,
each with how (identity, transformation, aggregation), traced through DuckDB's parse tree
of every SQL asset; the columns KEY only joins, filters, groups or sorts on; and where a
column cannot be traced, why. The result is recorded for the project's definition version.

Options:
  --column COL   one column's lineage instead of the asset's
  --upstream     only upstream
  --downstream   only downstream
  --depth N      at most N levels (default: all)
  --json         print JSON: { key, upstream: [{key, depth}], downstream: [...],
                 edges: [{upstream, downstream, via: data|check}] }; with --column:
                 { key, column, upstream: [{asset, column, kind, depth, of}], unknown:
                 [{asset, column, reason}], indirect: [{asset, column, kind}],
                 downstream: [...], downstreamIndirect: [{asset, kind, depth, of}] }`,

  async run(argv, out) {
    const { values, positionals } = parseCommandArgs(
      'lineage',
      argv,
      { upstream: { type: 'boolean' }, downstream: { type: 'boolean' }, depth: { type: 'string' }, column: { type: 'string' } },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('assets lineage needs exactly one asset key, e.g. assets lineage marts/fct_sales', 'KEY');
    const key = positionals[0] as string;
    const depth = positiveInt(values.depth, '--depth', Infinity);
    const workspace = await Workspace.load(values);
    const { graph } = workspace.project;
    if (!graph.has(key)) {
      const hint = closestKeys(key, graph.keys);
      throw new NotFoundError(`unknown asset "${key}"${hint.length ? ` (did you mean ${hint.map((h) => `"${h}"`).join(', ')}?)` : ''}`, { assetKey: key });
    }
    const both = !values.upstream && !values.downstream;
    const showUp = both || values.upstream === true;
    const showDown = both || values.downstream === true;
    if (values.column !== undefined) {
      const { recordWorkspaceColumnLineage, workspaceColumnLineage } = await import('../../engine/lineage/workspace-column-lineage.ts');
      const { lineage, warehouseNote } = await workspaceColumnLineage(workspace);
      const column = checkedColumn(lineage, key, values.column);
      try {
        await recordWorkspaceColumnLineage(workspace, lineage);
      } finally {
        await workspace.close();
      }
      printColumnLineage(out, lineage, { key, column, depth, upstream: showUp, downstream: showDown, json: values.json === true }, warehouseNote);
      return 0;
    }
    if (values.json) {
      const up = showUp ? lineageLevels(graph, key, depth, 'up') : [];
      const down = showDown ? lineageLevels(graph, key, depth, 'down') : [];
      const members = new Set([key, ...up.map((u) => u.key), ...down.map((d) => d.key)]);
      const edges = graph.edges(members);
      out.json({ key, upstream: up, downstream: down, edges });
      return 0;
    }
    if (showUp) printTree(out, graph, key, depth, 'up');
    if (showUp && showDown) out.line();
    if (showDown) printTree(out, graph, key, depth, 'down');
    return 0;
  },
};

function printTree(out: Output, graph: AssetGraph, key: string, depth: number, direction: 'up' | 'down'): void {
  out.line(out.paint('bold', `${direction === 'up' ? 'upstream of' : 'downstream of'} ${key}`));
  out.line(key);
  const printed = new Set<string>();
  const walk = (node: string, prefix: string, level: number) => {
    if (level > depth) return;
    const neighbours = (k: string) => (direction === 'up' ? graph.dependencies(k) : graph.dependents(k));
    const next = neighbours(node);
    next.forEach(({ key: child, via }, i) => {
      const last = i === next.length - 1;
      const repeated = printed.has(child) && neighbours(child).length > 0;
      const kind = via === 'check' ? out.paint('gray', ' (check)') : '';
      out.line(`${prefix}${last ? '└── ' : '├── '}${child}${kind}${repeated ? out.paint('gray', ' (see above)') : ''}`);
      if (repeated) return;
      printed.add(child);
      walk(child, `${prefix}${last ? '    ' : '│   '}`, level + 1);
    });
  };
  walk(key, '', 1);
}
