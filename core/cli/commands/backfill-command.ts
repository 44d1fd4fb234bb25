import { resolveBackfillKeys, type BackfillOutcome } from '../../engine/execution/backfill-runner.ts';
import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, formatDuration } from '../output.ts';
import { ProgressReporter } from '../progress.ts';
import { cancelOnSignals } from '../run-signals.ts';
import { findBackfill } from './backfills-command.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import { Workspace } from '../../engine/workspace.ts';
import { fullRefreshRequest } from '../../engine/execution/full-refresh-request.ts';
import { assertQueueable, isQueuedBackfill, queueBackfill, requeue } from './backfill-queue.ts';
import { QUEUE_OPTIONS, queueMode } from '../queue-mode.ts';

/** `assets backfill`: materialize a selection over a partition range, resumably. */
export const backfillCommand: Command = {
  name: 'backfill',
  help: `Usage: assets backfill --select SELECTION --from START --to END [options]
       assets backfill --resume BACKFILL_ID [--skip-committed]

Materializes every partition of the selected assets between START and END (inclusive; dates
YYYY-MM-DD, hourly keys YYYY-MM-DD-HH:mm, or static keys). Assets with the single-run policy
write a whole range in one step; the others one step per partition. A downstream partition
waits for the upstream partitions it reads. The backfill is stored: after a crash, Ctrl-C or a
failure, --resume builds the partitions its runs did not commit, and the committed ones that are
stale now (a landing file re-delivered, code changed, upstream data changed: see assets status
--stale --why), so a backfill whose cause was fixed can finish.

Options:
  --select SELECTION   what to build, e.g. 'staging/*' or '+marts/daily_revenue_by_location'
  --from START         first partition (inclusive)
  --to END             last partition (inclusive)
  --missing-only       only partitions never materialized
  --stale-only         only partitions missing, failed last time, or built by older code
  --per-partition      one step per partition even for single-run assets
  --full-refresh       rebuild incremental assets in the selection from scratch (refused for snapshots)
  --force KEYS         with --full-refresh: drop and rebuild these snapshots (comma-separated keys)
  --concurrency N      steps run at once
  --queue              record the backfill and queue its runs for assets worker instead of running
                       it (Postgres storage): one run per partition (or partition group) when no
                       step reads another partition's data, else one run; --resume of a queued
                       backfill queues again what its failed runs did not commit. The default
                       with strata.json "queue": true
  --no-queue           run it in this process even with strata.json "queue": true
  --resume ID          resume a stored backfill (see assets backfills)
  --skip-committed     with --resume: leave out every partition its runs committed, even a stale one
  --json               print the outcome as JSON

Exit codes: 0 success, 1 some partitions failed or the backfill was canceled, 2 bad input.`,

  async run(argv, out, err) {
    const { values } = parseCommandArgs('backfill', argv, {
      select: { type: 'string', short: 's' },
      from: { type: 'string' },
      to: { type: 'string' },
      'missing-only': { type: 'boolean' },
      'stale-only': { type: 'boolean' },
      'per-partition': { type: 'boolean' },
      concurrency: { type: 'string' },
      resume: { type: 'string' },
      'skip-committed': { type: 'boolean' },
      'full-refresh': { type: 'boolean' },
      force: { type: 'string' },
      ...QUEUE_OPTIONS,
    });
    if (values['missing-only'] && values['stale-only']) throw new UsageError('--missing-only and --stale-only cannot be combined', '--stale-only');
    if (values['skip-committed'] && values.resume === undefined) {
      throw new UsageError('--skip-committed goes with --resume: assets backfill --resume ID --skip-committed', '--skip-committed');
    }
    if (values.resume === undefined) {
      if (values.select === undefined) throw new UsageError("assets backfill needs --select, e.g. --select 'staging/*'", '--select');
      if (values.from === undefined || values.to === undefined)
        throw new UsageError('assets backfill needs --from and --to', values.from === undefined ? '--from' : '--to');
    } else if (values.select !== undefined || values.from !== undefined || values.to !== undefined) {
      throw new UsageError('--resume takes the stored selection and range: leave out --select, --from and --to', '--resume');
    }
    const workspace = await Workspace.load(values);
    try {
      const { project } = workspace;
      const concurrency = positiveInt(values.concurrency, '--concurrency', project.config.concurrency);
      const queue = queueMode(values, project.config);
      const now = new Date();
      if (values.resume === undefined) {
        // Bad selections and ranges fail here, before any file is created.
        resolveBackfillKeys(project, values.select as string, { from: values.from as string, to: values.to as string }, now);
      }
      const storage = await workspace.storage();
      const runs = await workspace.runService(err.notice);
      await runs.reapDeadRuns();
      const stored = values.resume === undefined ? undefined : await findBackfill(storage, values.resume);
      const selection = stored?.selection ?? (values.select as string);
      const keys = resolveBackfillKeys(project, selection, { from: stored?.from ?? (values.from as string), to: stored?.to ?? (values.to as string) }, now);
      const refresh = fullRefreshRequest(project, keys, {
        fullRefresh: values['full-refresh'] === true,
        ...(values.force === undefined ? {} : { force: values.force }),
      });
      if (stored && (await isQueuedBackfill(storage, stored))) {
        assertQueueable(workspace);
        return await requeue(workspace, stored, keys, out, values.json === true);
      }
      if (values.queue && stored) throw new UsageError(`backfill ${stored.id.slice(0, 8)} was not queued: resume it without --queue`, '--queue');
      if (queue && !stored) {
        const mode = values['missing-only'] ? 'missing_only' : values['stale-only'] ? 'stale_only' : 'all';
        const grouping = values['per-partition'] ? 'per_partition' : 'policy';
        const request = { selection, keys, from: values.from as string, to: values.to as string, mode, grouping } as const;
        const options = {
          ...(refresh.fullRefresh ? { fullRefresh: true, force: refresh.forcedSnapshots } : {}),
          ...(values.concurrency === undefined ? {} : { concurrency }),
        };
        return await queueBackfill(workspace, request, options, now, out, values.json === true);
      }
      const progress = values.json ? undefined : new ProgressReporter(out);
      let planned = 0;
      const started = performance.now();
      // Another process may hold the warehouse: the service waits for it (Ctrl-C stops waiting).
      const outcome: BackfillOutcome = await cancelOnSignals(err, (signal) => {
        const env = {
          now,
          concurrency,
          fullRefresh: refresh.fullRefresh,
          forcedSnapshots: refresh.forcedSnapshots,
          onPlan: (_plan: unknown, total: number) => {
            planned = total;
            // Nothing to do draws no progress bar.
            if (total > 0) progress?.start(total);
          },
          ...(progress ? { onStepEnd: progress.step.bind(progress), onEvent: (event: EventRecord) => showEvent(progress, event) } : {}),
        };
        if (stored) return runs.backfill({ resume: stored, keys, options: { skipCommitted: values['skip-committed'] === true } }, env, signal);
        const mode = values['missing-only'] ? 'missing_only' : values['stale-only'] ? 'stale_only' : 'all';
        const grouping = values['per-partition'] ? 'per_partition' : 'policy';
        return runs.backfill({ request: { selection, keys, from: values.from as string, to: values.to as string, mode, grouping } }, env, signal);
      });
      if (planned > 0) progress?.finish();
      const { backfill } = outcome;
      if (values.json) out.json(outcome);
      else if (stored === undefined && backfill.total === 0) {
        const built = keys.filter((k) => !project.graph.spec(k).source).length;
        const assets = built === 1 ? 'the selected asset' : `the ${formatCount(built)} selected assets`;
        const range = `from ${backfill.from} to ${backfill.to} (${selection})`;
        out.line(
          values['missing-only']
            ? `Nothing to do: ${assets} ${built === 1 ? 'has' : 'have'} no missing partitions ${range}`
            : `Nothing to do: ${assets} ${built === 1 ? 'is' : 'are'} fresh ${range}`,
        );
      } else {
        const colour = backfill.status === 'success' ? 'green' : backfill.status === 'canceled' ? 'yellow' : 'red';
        out.line(
          `${out.paint(colour, `Backfill ${backfill.id.slice(0, 8)} ${backfill.status === 'success' ? 'succeeded' : backfill.status}`)}: ` +
            `${backfill.done}/${backfill.total} partitions done${backfill.failed ? `, ${backfill.failed} failed` : ''} in ${formatDuration(performance.now() - started)}`,
        );
        if (backfill.status !== 'success') out.line(out.paint('gray', `resume with: assets backfill --resume ${backfill.id.slice(0, 8)}`));
      }
      return backfill.status === 'success' ? 0 : 1;
    } finally {
      await workspace.close();
    }
  },
};

/**
 * A run event for the progress bar: a running step's progress at its end, a source's failed
 * observation attempt as a line (the steps it skips are shown as steps).
 */
function showEvent(progress: ProgressReporter, event: EventRecord): void {
  progress.event(event);
  if (event.type === 'observation_retry') progress.note(`↻ ${event.assetKey}: ${event.message}`);
  else if (event.type === 'observation_failure') progress.note(`✗ ${event.assetKey}: ${event.message}`);
}
