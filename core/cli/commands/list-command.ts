import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { Workspace } from '../../engine/workspace.ts';
import { selectAssets } from '../../model/selection/index.ts';

/** `assets list`: the assets of the project, in topological order. */
export const listCommand: Command = {
  name: 'list',
  help: `Usage: assets list [--select SELECTION] [--json] [--project DIR]

Lists the project's assets in dependency order.

Options:
  --select SELECTION   only these assets (e.g. 'marts/*', '+marts/fct_sales', 'group:staging')
  --json               print JSON
  --project DIR        project folder (default: current folder if it has strata.json, else the bundled example)`,

  async run(argv, out) {
    const { values } = parseCommandArgs('list', argv, { select: { type: 'string' } });
    const workspace = await Workspace.load(values);
    const { graph, definitions, codeVersions } = workspace.project;
    const keys = values.select === undefined ? [...graph.keys] : selectAssets(graph, values.select).keys;
    if (values.json) {
      out.json(
        keys.map((key) => {
          const spec = graph.spec(key);
          return { ...spec, file: definitions.get(key)?.file ?? null, codeVersion: codeVersions.get(key), upstream: graph.parents(key) };
        }),
      );
      return 0;
    }
    out.table(
      ['ASSET', 'KINDS', 'GROUP', 'UPSTREAM', 'DESCRIPTION'],
      keys.map((key) => {
        const spec = graph.spec(key);
        return [key, spec.kinds.join(', '), spec.group, upstreamSummary(graph.parents(key)), truncate(spec.description ?? '', 60)];
      }),
    );
    out.line(out.paint('gray', `${keys.length} of ${graph.size} assets`));
    return 0;
  },
};

/** Up to two upstream keys, then a count of the rest (the full list is in --json and `assets lineage`). */
function upstreamSummary(parents: readonly string[]): string {
  if (parents.length === 0) return '-';
  const shown = parents.slice(0, 2).join(', ');
  return parents.length > 2 ? `${shown} +${parents.length - 2}` : shown;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
