import { existsSync } from 'node:fs';
import { runChecks, type CheckRun, type CheckTarget } from '../../engine/execution/check-runner.ts';
import { committedSchemas } from '../../engine/execution/step-schema.ts';
import { describeFailure, latestRowCounts } from '../../engine/execution/step-checks.ts';
import { checkSource } from '../../engine/execution/source-checks.ts';
import { UsageError } from '../../model/errors.ts';
import { partitionsInRange } from '../../model/planning/partition-request.ts';
import { selectAssets } from '../../model/selection/index.ts';
import { checkStatus, type CheckResultRecord, type Storage } from '../../../storage/storage.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, formatTime, type Output } from '../output.ts';
import { cancelOnSignals } from '../run-signals.ts';
import type { Warehouse } from '../../engine/runs/run-service.ts';
import { Workspace } from '../../engine/workspace.ts';

/** `assets checks`: run data-quality checks on what is materialized now, or list past results. */
export const checksCommand: Command = {
  name: 'checks',
  help: `Usage: assets checks [--select SELECTION] [--partition KEY] [--json]
       assets checks history KEY [--limit N] [--json]

Runs the data-quality checks of the selected assets against their tables as they are now,
without rebuilding anything, and records the results (per partition for partitioned assets:
every materialized partition, or --partition KEY). history lists the recorded results of one
asset's checks, newest first, from runs and from this command.

Options:
  --select SELECTION   which assets (default: every asset with checks)
  --partition KEY      only this partition of the partitioned assets
  --limit N            history: results to list (default 30)
  --json               print JSON

Exit codes: 0 every error-severity check passed, 1 one failed or a check could not run,
2 bad input.`,

  async run(argv, out, err) {
    const { values, positionals } = parseCommandArgs(
      'checks',
      argv,
      { select: { type: 'string' }, partition: { type: 'string' }, limit: { type: 'string' } },
      true,
    );
    const [action, key, ...extra] = positionals;
    if (extra.length > 0 || (action !== undefined && action !== 'history'))
      throw new UsageError(`unexpected argument "${extra[0] ?? action}" (assets checks [history KEY])`, extra[0] ?? action);
    const workspace = await Workspace.load(values, { withStorage: true });
    try {
      const { graph } = workspace.project;
      if (action === 'history') {
        if (!key) throw new UsageError('assets checks history needs an asset key', 'KEY');
        if (!graph.has(key)) selectAssets(graph, key); // throws the "did you mean" error
        const results = await (await workspace.storage()).checkHistory(key, { limit: positiveInt(values.limit, '--limit', 30) });
        if (values.json) out.json(results);
        else printHistory(out, key, results);
        return 0;
      }
      const selected = values.select === undefined ? graph.keys : selectAssets(graph, values.select).keys;
      const keys = selected.filter((k) => graph.spec(k).checks.length > 0);
      if (keys.length === 0) {
        out.line(values.select === undefined ? 'no asset has checks' : `none of the assets selected by ${values.select} has checks`);
        return 0;
      }
      const now = new Date();
      for (const k of keys) {
        if (values.partition !== undefined && graph.spec(k).partitions) partitionsInRange(graph.spec(k), { key: values.partition }, now);
      }
      if (workspace.project.config.warehouseUrl === undefined && !existsSync(workspace.project.config.warehouseFile))
        throw new UsageError('nothing is materialized yet: run assets materialize first', '--select');
      const storage = await workspace.storage();
      const service = await workspace.runService(err.notice);
      const runs = await cancelOnSignals(err, (signal) =>
        service.withWarehouse({ keys, signal }, async (warehouse) => {
          const all: { key: string; runs: CheckRun[] }[] = [];
          for (const k of keys) {
            // A source is observed, not materialized: its checks read its table as it is.
            const source = graph.spec(k).source === true && !graph.spec(k).partitions;
            all.push({
              key: k,
              runs: source
                ? await checkSource(workspace.project, warehouse, k, null, now)
                : await checkAsset(workspace, storage, warehouse, k, values.partition, now),
            });
          }
          return all;
        }),
      );
      await storage.commitStep({ events: [], checkResults: runs.flatMap((a) => a.runs.flatMap((r) => r.results)) });
      if (values.json) out.json(runs.flatMap((a) => a.runs.flatMap((r) => r.results)));
      else printRuns(out, runs);
      const bad = (r: CheckRun) => r.results.some((x) => checkStatus(x) === 'error') || (r.check.severity === 'error' && r.results.some((x) => !x.passed));
      return runs.some((a) => a.runs.some(bad)) ? 1 : 0;
    } finally {
      await workspace.close();
    }
  },
};

/** Runs one asset's checks over its materialized partitions (or one), reading its table as it is. */
async function checkAsset(
  workspace: Workspace,
  storage: Storage,
  warehouse: Warehouse,
  key: string,
  partition: string | undefined,
  now: Date,
): Promise<CheckRun[]> {
  const spec = workspace.project.graph.spec(key);
  const latest = await storage.latestMaterializations([key]);
  const materialized = new Set(latest.map((m) => m.partition));
  const column = spec.partitionColumn;
  const keys = spec.partitions ? (partition === undefined ? spec.partitions.keys(now).filter((p) => materialized.has(p)) : [partition]) : [null];
  if (keys.length === 0 || (!spec.partitions && !materialized.has(null))) return [];
  const list = spec.partitions && column ? (keys as string[]).map((k) => ({ key: k, ...spec.partitions?.localWindow(k) })) : undefined;
  const session = warehouse.session(key);
  try {
    const target: CheckTarget = {
      key,
      table: session.tableOf(key),
      session,
      tableOf: (k) => session.tableOf(k),
      ...(list && column ? { scope: { column, partitions: list, complete: false } } : {}),
      partitions: keys,
      history: {
        partitionKeys: spec.partitions?.keys(now) ?? [],
        rowCounts: latestRowCounts(latest),
        previousCounts: [],
      },
      runId: null,
      now,
    };
    const schemas = spec.checks.some((c) => c.type === 'schema_change') ? await committedSchemas(storage, session, key) : undefined;
    return await runChecks(spec.checks, schemas === undefined ? target : { ...target, schemas });
  } finally {
    await session.rollback();
  }
}

function printRuns(out: Output, assets: readonly { key: string; runs: readonly CheckRun[] }[]): void {
  const rows = assets.flatMap(({ key, runs }) =>
    runs.map((run) => {
      const failed = run.results.filter((r) => !r.passed);
      const verdict = run.results.some((r) => checkStatus(r) === 'error')
        ? 'error'
        : failed.length === 0
          ? 'passed'
          : run.check.severity === 'warn'
            ? 'warn'
            : 'failed';
      return [
        key,
        run.check.name,
        run.check.severity,
        verdict,
        failed.length === 0 ? `${run.results.length} partition${run.results.length === 1 ? '' : 's'}` : describeFailure(run).slice(run.check.name.length + 2),
      ];
    }),
  );
  out.table(['ASSET', 'CHECK', 'SEVERITY', 'RESULT', 'DETAIL'], rows, (_row, column, cell) =>
    column === 3 ? (cell === 'passed' ? 'green' : cell === 'warn' ? 'yellow' : 'red') : undefined,
  );
  const errored = rows.filter((r) => r[3] === 'error').length;
  const failed = rows.filter((r) => r[3] !== 'passed').length - errored;
  out.line(
    out.paint(
      'gray',
      `${rows.length} checks on ${assets.length} assets: ${rows.length - failed - errored} passed, ${failed} failed${errored ? `, ${errored} could not run` : ''}`,
    ),
  );
}

/** `passed`, `error` (could not run), `warn` or `failed`. */
function historyVerdict(result: CheckResultRecord): string {
  const status = checkStatus(result);
  return status === 'failed' && result.severity === 'warn' ? 'warn' : status;
}

function printHistory(out: Output, key: string, results: readonly CheckResultRecord[]): void {
  if (results.length === 0) {
    out.line(`no check results for ${key} yet`);
    return;
  }
  out.table(
    ['TIME', 'CHECK', 'PARTITION', 'RESULT', 'VIOLATIONS / ERROR', 'RUN'],
    results.map((r) => [
      formatTime(r.timestamp),
      r.checkName,
      r.partition ?? '-',
      historyVerdict(r),
      r.error ?? formatCount(r.violations),
      r.runId?.slice(0, 8) ?? 'checks',
    ]),
    (_row, column, cell) => (column === 3 ? (cell === 'passed' ? 'green' : cell === 'warn' ? 'yellow' : 'red') : undefined),
  );
}
