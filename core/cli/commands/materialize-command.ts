import { UsageError } from '../../model/errors.ts';
import type { RunResult } from '../../engine/execution/executor.ts';
import type { PlanStep } from '../../model/planning/plan.ts';
import type { Project } from '../../model/project.ts';
import { cancelOnSignals } from '../run-signals.ts';
import { prepareMaterialization } from '../../engine/execution/materialize-request.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, formatDuration, type Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';
import { fullRefreshRequest } from '../../engine/execution/full-refresh-request.ts';
import { buildModes, type BuildMode } from '../build-modes.ts';
import { stepLabel } from '../step-label.ts';
import { StepProgressLine } from '../step-progress-line.ts';
import { QUEUE_OPTIONS, queueMode } from '../queue-mode.ts';

/** `assets materialize`: build the selected assets in dependency order. */
export const materializeCommand: Command = {
  name: 'materialize',
  help: `Usage: assets materialize --select SELECTION [--partition KEY] [--stale-only] [--full-refresh [--force KEYS]] [--dry-run] [--queue | --no-queue] [--concurrency N] [--json]

Builds the selected assets in dependency order. Each asset is written in one DuckDB
transaction; a failure skips everything downstream of it. Ctrl-C cancels: running steps
roll back and the run is recorded as canceled.

Options:
  --select SELECTION   what to build, e.g. 'marts/*', '+marts/*' (with everything upstream),
                       'staging/orders+' (and everything downstream), 'group:raw and tag:domain=sales'
  --partition KEY      only this partition of the partitioned assets (default: every partition;
                       unpartitioned assets in the selection are built once)
  --stale-only         only the stale partitions of the selection (missing, failed last time, code or
                       dependencies changed, upstream data changed; see assets status --stale --why)
  --full-refresh       rebuild incremental assets from scratch instead of merging new rows into them;
                       refused when the selection has snapshots, whose history cannot be rebuilt
  --force KEYS         with --full-refresh: drop and rebuild these snapshots (comma-separated keys)
  --dry-run            print the plan without running it, with how each step builds (BUILD:
                       incremental, full or partitions); over 200 steps: one line per asset;
                       with --json: every step
  --queue              record the run as queued and print its id instead of running it: an
                       assets worker runs it (planned again then, with the same clock); the
                       default with strata.json "queue": true. Needs Postgres storage
  --no-queue           run it in this process even with strata.json "queue": true
  --concurrency N      steps run at once (default: strata.json "concurrency", 4)
  --vars YAML          dbt vars overriding those of dbt_project.yml ('{start_date: 2024-01-01}');
                       a queued run keeps them for the worker
  --json               print the run result as JSON

Exit codes: 0 success, 1 the run failed or was canceled, 2 bad input.`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('materialize', argv, {
      select: { type: 'string', short: 's' },
      partition: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'stale-only': { type: 'boolean' },
      'full-refresh': { type: 'boolean' },
      force: { type: 'string' },
      concurrency: { type: 'string' },
      ...QUEUE_OPTIONS,
    });
    if (values.select === undefined) throw new UsageError("assets materialize needs --select, e.g. --select '+marts/*'", '--select');
    const workspace = await Workspace.load(values, { withStorage: true });
    try {
      const { project } = workspace;
      const queue = queueMode(values, project.config);
      const concurrency = positiveInt(values.concurrency, '--concurrency', project.config.concurrency);
      const now = new Date();
      const { keys, plan, staleSummary } = await prepareMaterialization(
        { project, storage: () => workspace.storage(), landing: workspace.landing(), now },
        { select: values.select, ...(values.partition === undefined ? {} : { partition: values.partition }), staleOnly: values['stale-only'] === true },
      );
      if (values['stale-only'] && plan.steps.length === 0) {
        if (values.json) out.json({ selection: values.select, steps: [], status: 'fresh' });
        else {
          const built = keys.filter((k) => !project.graph.spec(k).source).length;
          out.line(`Nothing to do: the ${plural(built, 'selected asset')} ${built === 1 ? 'is' : 'are'} fresh (${values.select})`);
        }
        return 0;
      }
      const { fullRefresh, forcedSnapshots } = fullRefreshRequest(project, keys, {
        fullRefresh: values['full-refresh'] === true,
        ...(values.force === undefined ? {} : { force: values.force }),
      });
      if (values['dry-run']) {
        const modes = await buildModes(project, plan.steps, fullRefresh);
        if (values.json) out.json({ selection: values.select, steps: plan.steps.map((s) => ({ ...s, build: modes.get(s.key) })) });
        else printDryRun(out, project, plan.steps, modes);
        return 0;
      }
      if (queue) {
        const { enqueueMaterialization } = await import('../../engine/runs/queued-runs.ts');
        const { queuedDbtVars } = await import('../../engine/runs/claimed-plan.ts');
        const request = {
          select: values.select,
          ...(values.partition === undefined ? {} : { partition: values.partition }),
          ...(values['stale-only'] ? { staleOnly: true } : {}),
          ...(fullRefresh ? { fullRefresh: true, force: forcedSnapshots } : {}),
          ...(values.concurrency === undefined ? {} : { concurrency }),
          now: now.getTime(),
          ...queuedDbtVars(project.config),
        };
        const run = await enqueueMaterialization(await workspace.storage(), request, plan, { graph: project.graph });
        const pools = run.pools ?? [];
        if (values.json) out.json({ runId: run.id, status: run.status, selection: run.selection, assetKeys: run.assetKeys, pools });
        else
          out.line(
            `Queued run ${run.id} (${values.select}${values.partition ? ` @ ${values.partition}` : ''}; pool${pools.length === 1 ? '' : 's'} ${pools.join(', ')}): an assets worker will run it`,
          );
        return 0;
      }
      // The run service loads only now (with the executor, ~50 modules): "nothing to do" and a dry run need neither.
      const runs = await workspace.runService(err.notice);
      await runs.reapDeadRuns();
      const started = performance.now();
      const running = new StepProgressLine();
      let width = 0;
      for (const step of plan.steps) width = Math.min(60, Math.max(width, step.id.length));
      if (!values.json) {
        out.line(out.paint('bold', `Materializing ${describePlan(plan.steps)} (${values.select}${values.partition ? ` @ ${values.partition}` : ''})`));
        if (staleSummary) out.line(out.paint('gray', `stale: ${staleSummary}`));
      }
      // Another process may hold the warehouse: the service waits for it (Ctrl-C stops waiting).
      const result: RunResult = await cancelOnSignals(err, (signal) =>
        runs.materialize(
          {
            plan,
            selection: values.select as string,
            concurrency,
            now,
            fullRefresh,
            forcedSnapshots,
            ...(values.partition ? { tags: { partition: values.partition } } : {}),
            ...(values.json ? {} : { onEvent: (event: EventRecord) => printProgress(out, event, width, running) }),
          },
          signal,
        ),
      );
      if (values.json) out.json(result);
      else printSummary(out, result, performance.now() - started);
      // A step that failed on bad input found at bind time (a definition error) is bad input too.
      return result.status === 'success' ? 0 : result.steps.some((s) => s.definitionError) ? 2 : 1;
    } finally {
      await workspace.close();
    }
  },
};

/** Plans of up to this many steps are listed step by step in a dry run; larger ones are summarized per asset. */
const DRY_RUN_LISTED_STEPS = 200;

/** A dry run: the steps in order with what each waits for, or for a large plan one line per asset. */
function printDryRun(out: Output, project: Project, steps: readonly PlanStep[], modes: ReadonlyMap<string, BuildMode>): void {
  if (steps.length <= DRY_RUN_LISTED_STEPS) {
    out.table(
      ['#', 'STEP', 'KINDS', 'BUILD', 'WAITS FOR'],
      steps.map((s, i) => [String(i + 1), s.id, project.graph.spec(s.key).kinds.join(', '), modes.get(s.key) ?? 'full', summarize(s.waitsFor)]),
    );
    out.line(out.paint('gray', `dry run: ${plural(steps.length, 'step')}, nothing written`));
    return;
  }
  const byAsset = new Map<string, { steps: number; first: string | null; last: string | null }>();
  for (const step of steps) {
    const first = step.partitions?.[0] ?? null;
    const last = step.partitions?.at(-1) ?? null;
    const asset = byAsset.get(step.key);
    if (asset === undefined) byAsset.set(step.key, { steps: 1, first, last });
    else {
      asset.steps++;
      asset.last = last;
    }
  }
  out.table(
    ['ASSET', 'KINDS', 'BUILD', 'STEPS', 'PARTITIONS'],
    [...byAsset].map(([key, a]) => [
      key,
      project.graph.spec(key).kinds.join(', '),
      modes.get(key) ?? 'full',
      formatCount(a.steps),
      a.first === null ? '-' : a.first === a.last ? a.first : `${a.first}..${a.last}`,
    ]),
  );
  out.line(out.paint('gray', `dry run: ${formatCount(steps.length)} steps of ${plural(byAsset.size, 'asset')}, nothing written (--json lists every step)`));
}

/** `18 assets` or `18 assets, 730 partitions in 40 steps`. */
function describePlan(steps: readonly PlanStep[]): string {
  const assets = new Set(steps.map((s) => s.key)).size;
  const partitions = steps.reduce((n, s) => n + (s.partitions?.length ?? 0), 0);
  const base = `${assets} asset${assets === 1 ? '' : 's'}`;
  return partitions === 0 ? base : `${base}, ${plural(partitions, 'partition')} in ${plural(steps.length, 'step')}`;
}

function summarize(ids: readonly string[]): string {
  if (ids.length === 0) return '-';
  return ids.length > 3 ? `${ids.slice(0, 3).join(', ')} +${ids.length - 3}` : ids.join(', ');
}

/** A range step records one failure per partition: show the step once. */
function isFirstOfStep(event: EventRecord): boolean {
  const range = event.data?.partitions as { from?: string } | undefined;
  return range?.from === undefined || event.partition === range.from;
}

/** One line per finished step (and warnings, logs); on a terminal, the running steps' progress below them. */
function printProgress(out: Output, event: EventRecord, width: number, running: StepProgressLine): void {
  running.update(event);
  printEvent(out, event, width);
  const text = running.text();
  if (text !== '') out.status(out.paint('cyan', `  ⋯ ${text}`));
}

function printEvent(out: Output, event: EventRecord, width: number): void {
  const key = stepLabel(event).padEnd(width);
  if (event.type === 'step_success') {
    const ms = Number(event.data?.durationMs ?? 0);
    const rows = typeof event.data?.rowCount === 'number' ? plural(event.data.rowCount, 'row') : '';
    out.line(`  ${out.paint('green', '✓')} ${key} ${rows.padStart(14)} ${out.paint('gray', formatDuration(ms).padStart(7))}`);
  } else if (event.type === 'step_failure' && isFirstOfStep(event)) {
    out.line(`  ${out.paint('red', '✗')} ${key} ${out.paint('red', firstLines(String(event.data?.error ?? event.message)))}`);
  } else if (event.type === 'observation_failure') {
    out.line(`  ${out.paint('red', '✗')} ${key} ${out.paint('red', firstLines(event.message))}`);
  } else if (event.type === 'step_retry' || event.type === 'observation_retry') {
    out.line(`  ${out.paint('yellow', '↻')} ${key} ${out.paint('yellow', firstLines(event.message))}`);
  } else if (event.type === 'step_skipped') {
    // The label already names the step: show only why it was skipped.
    out.line(`  ${out.paint('yellow', '-')} ${key} ${out.paint('gray', `skipped: ${String(event.data?.reason ?? event.message)}`)}`);
  } else if (event.type === 'check_result' && event.level !== 'info') {
    out.line(`    ${out.paint(event.level === 'error' ? 'red' : 'yellow', '!')} ${stepLabel(event)}: ${event.message}`);
  } else if (event.type === 'schema_change') {
    out.line(`    ${out.paint(event.level === 'warn' ? 'yellow' : 'gray', '~')} ${stepLabel(event)}: ${event.message}`);
  } else if (event.type === 'log') {
    // A run's own log (column lineage not recorded) names no step.
    out.line(`    ${out.paint('gray', `${event.assetKey === null ? '' : `${stepLabel(event)}: `}${event.message}`)}`);
  }
}

function printSummary(out: Output, result: RunResult, elapsedMs: number): void {
  const count = (status: string) => result.steps.filter((s) => s.status === status).length;
  const rows = result.steps.reduce((sum, s) => sum + (s.rowCount ?? 0), 0);
  const parts = [`${count('success')} materialized`, plural(rows, 'row')];
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('skipped')) parts.push(`${count('skipped')} skipped`);
  if (count('canceled')) parts.push(`${count('canceled')} canceled`);
  const colour = result.status === 'success' ? 'green' : result.status === 'canceled' ? 'yellow' : 'red';
  out.line(
    `${out.paint(colour, `Run ${result.runId.slice(0, 8)} ${result.status === 'success' ? 'succeeded' : result.status}`)}: ${parts.join(', ')} in ${formatDuration(elapsedMs)}`,
  );
  if (result.status !== 'success') out.line(out.paint('gray', `details: assets runs show ${result.runId.slice(0, 8)}`));
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function firstLines(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, 3).join(' | ');
}
