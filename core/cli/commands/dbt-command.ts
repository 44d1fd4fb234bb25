import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { Workspace } from '../../engine/workspace.ts';
import { listDbtNodes } from '../../engine/dbt/dbt-nodes.ts';

/** `assets dbt ls`: each node of the project's dbt project and the asset it became. */
export const dbtCommand: Command = {
  name: 'dbt',
  help: `Usage: assets dbt ls [--vars YAML] [--json] [--project DIR]

Lists the models and seeds of the project's dbt project (a folder with dbt_project.yml, or
"dbt" in strata.json) with the asset each became: its key (the model's path under models/,
main/<name> for a model directly in it, <schema>/<name> with a schema config), how it is
materialized, and its file. An ephemeral model has no asset: its readers inline it as a CTE.

Options:
  --vars YAML    dbt vars overriding those of dbt_project.yml ('{name: value}'), as in dbt
  --json         print JSON
  --project DIR  project folder (default: current folder if it has strata.json or dbt_project.yml, else the bundled example)`,

  async run(argv, out) {
    const { values, positionals } = parseCommandArgs('dbt', argv, {}, true);
    const [action, ...extra] = positionals;
    if (action !== 'ls')
      throw new UsageError(action === undefined ? 'assets dbt needs an action: assets dbt ls' : `unknown dbt action "${action}" (use ls)`, action);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, extra[0]);
    // Loading the project first reports any definition error (exit 2) before listing.
    const workspace = await Workspace.load(values);
    const nodes = await listDbtNodes(workspace.project.config);
    if (nodes === undefined) throw new UsageError(`this project has no dbt project (no dbt_project.yml in its folder, no "dbt" in strata.json)`, '--project');
    if (values.json) {
      out.json(nodes);
      return 0;
    }
    out.table(
      ['NODE', 'ASSET', 'MATERIALIZED', 'FILE'],
      nodes.map((node) => [node.id, node.key ?? '(inlined as a CTE)', node.materialized, node.file]),
    );
    return 0;
  },
};
