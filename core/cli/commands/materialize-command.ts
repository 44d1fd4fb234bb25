import { UsageError } from '../../errors.ts';
import { executeRun, type RunResult } from '../../execution/executor.ts';
import { buildPlan } from '../../planning/plan.ts';
import { selectAssets } from '../../selection/index.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, formatDuration, type Output } from '../output.ts';
import { Workspace } from '../workspace.ts';

/** `assets materialize`: build the selected assets in dependency order. */
export const materializeCommand: Command = {
  name: 'materialize',
  summary: 'materialize the selected assets in dependency order',
  help: `Usage: assets materialize --select SELECTION [--dry-run] [--concurrency N] [--json]

Builds the selected assets in dependency order. Each asset is written in one DuckDB
transaction; a failure skips everything downstream of it. Ctrl-C cancels: running steps
roll back and the run is recorded as canceled.

Options:
  --select SELECTION   what to build, e.g. 'marts/*', '+marts/*' (with everything upstream),
                       'staging/orders+' (and everything downstream), 'group:raw and tag:domain=sales'
  --dry-run            print the plan without running it
  --concurrency N      steps run at once (default: strata.json "concurrency", 4)
  --json               print the run result as JSON

Exit codes: 0 success, 1 the run failed or was canceled, 2 bad input.`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('materialize', argv, {
      select: { type: 'string', short: 's' },
      'dry-run': { type: 'boolean' },
      concurrency: { type: 'string' },
    });
    if (values.select === undefined) throw new UsageError("assets materialize needs --select, e.g. --select '+marts/*'", '--select');
    const workspace = await Workspace.load(values.project);
    try {
      const { project } = workspace;
      const concurrency = positiveInt(values.concurrency, '--concurrency', project.config.concurrency);
      const { keys } = selectAssets(project.graph, values.select);
      const plan = buildPlan(project.graph, keys);
      if (values['dry-run']) {
        if (values.json) out.json({ selection: values.select, steps: plan.steps });
        else {
          out.table(
            ['#', 'ASSET', 'KIND', 'WAITS FOR'],
            plan.steps.map((s, i) => [String(i + 1), s.key, project.graph.spec(s.key).kind, s.waitsFor.join(', ') || '-']),
          );
          out.line(out.paint('gray', `dry run: ${plan.steps.length} steps, nothing written`));
        }
        return 0;
      }
      const [storage, warehouse] = await Promise.all([workspace.storage(), workspace.warehouse()]);
      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        err.line(err.paint('yellow', 'canceling: rolling back running steps (Ctrl-C again to quit at once)'));
        controller.abort();
      };
      // The event loop emptying while the run is unfinished means a step's promise can never
      // settle (it waits on nothing): cancel instead of exiting with the run left "running".
      const onStall = () => {
        err.line(err.paint('yellow', 'a step never finished (its promise waits on nothing): canceling the run'));
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.once('beforeExit', onStall);
      const started = performance.now();
      if (!values.json) out.line(out.paint('bold', `Materializing ${plan.steps.length} asset${plan.steps.length === 1 ? '' : 's'} (${values.select})`));
      let result: RunResult;
      try {
        result = await executeRun({
          project,
          plan,
          storage,
          warehouse,
          landing: workspace.landing(),
          selection: values.select,
          concurrency,
          signal: controller.signal,
          ...(values.json ? {} : { onEvent: (event: EventRecord) => printProgress(out, event) }),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('beforeExit', onStall);
      }
      if (values.json) out.json(result);
      else printSummary(out, result, performance.now() - started);
      return result.status === 'success' ? 0 : 1;
    } finally {
      await workspace.close();
    }
  },
};

const WIDTH = 40;

function printProgress(out: Output, event: EventRecord): void {
  const key = (event.assetKey ?? '').padEnd(WIDTH);
  if (event.type === 'step_success') {
    const ms = Number(event.data?.durationMs ?? 0);
    const rows = typeof event.data?.rowCount === 'number' ? plural(event.data.rowCount, 'row') : '';
    out.line(`  ${out.paint('green', '✓')} ${key} ${rows.padStart(14)} ${out.paint('gray', formatDuration(ms).padStart(7))}`);
  } else if (event.type === 'step_failure') {
    out.line(`  ${out.paint('red', '✗')} ${key} ${out.paint('red', firstLines(String(event.data?.error ?? event.message)))}`);
  } else if (event.type === 'step_skipped') {
    out.line(`  ${out.paint('yellow', '-')} ${key} ${out.paint('gray', event.message)}`);
  } else if (event.type === 'log') {
    out.line(`    ${out.paint('gray', `${event.assetKey}: ${event.message}`)}`);
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
