import { UsageError } from '../../model/errors.ts';
import type { EventRecord, RunRecord, RunStatus, Storage } from '../../../storage/storage.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { pickByPrefix } from '../../model/collections/pick-by-prefix.ts';
import { formatDuration, formatTime, statusColour, type Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';

const STATUSES: readonly RunStatus[] = ['queued', 'running', 'success', 'failed', 'canceled'];

/** `assets runs`: past runs and their event logs. */
export const runsCommand: Command = {
  name: 'runs',
  help: `Usage: assets runs [list] [--limit N] [--status STATUS] [--json]
       assets runs show RUN_ID [--json]

list   recent runs, newest first (default 20)
show   one run (a unique prefix of its id is enough) and its events in order

Options:
  --limit N         runs to list (default 20)
  --status STATUS   only runs with this status: ${STATUSES.join(', ')}
  --json            print JSON`,

  async run(argv, out) {
    const { values, positionals } = parseCommandArgs('runs', argv, { limit: { type: 'string' }, status: { type: 'string' } }, true);
    const [action = 'list', id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, extra[0]);
    if (action !== 'list' && action !== 'show') throw new UsageError(`unknown runs action "${action}" (use list or show)`, action);
    if (values.status !== undefined && !STATUSES.includes(values.status as RunStatus)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${values.status}"`, '--status');
    }
    const limit = positiveInt(values.limit, '--limit', 20);
    const workspace = await Workspace.load(values);
    try {
      const storage = await workspace.storage();
      if (action === 'show') {
        if (!id) throw new UsageError('assets runs show needs a run id', 'RUN_ID');
        return await showRun(out, storage, id, values.json === true);
      }
      const runs = await storage.listRuns({ limit, ...(values.status ? { status: values.status as RunStatus } : {}) });
      if (values.json) out.json(runs);
      else printRuns(out, runs);
      return 0;
    } finally {
      await workspace.close();
    }
  },
};

function printRuns(out: Output, runs: readonly RunRecord[]): void {
  if (runs.length === 0) {
    out.line('no runs yet: try assets materialize --select "+marts/*"');
    return;
  }
  out.table(
    ['RUN', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION', 'STEPS', 'SELECTION'],
    runs.map((r) => [r.id.slice(0, 8), r.status, r.trigger, formatTime(r.startedAt), duration(r), String(r.assetKeys.length), r.selection + resumes(r)]),
    (_row, column, cell) => (column === 1 ? statusColour(cell) : undefined),
  );
}

async function showRun(out: Output, storage: Storage, id: string, json: boolean): Promise<number> {
  const run = pickByPrefix(await storage.findRunsByPrefix(id), id, 'run', 'RUN_ID');
  const events = await storage.listEvents(run.id);
  if (json) {
    out.json({ run, events });
    return 0;
  }
  out.line(`${out.paint('bold', `Run ${run.id}`)}  ${out.paint(statusColour(run.status) ?? 'bold', run.status)}`);
  out.line(`selection ${run.selection} · trigger ${run.trigger} · started ${formatTime(run.startedAt)} · duration ${duration(run)}`);
  if (run.tags.resumes) out.line(`resumes run ${run.tags.resumes.slice(0, 8)}, whose process died (attempt ${run.tags.attempt ?? '?'})`);
  if (run.error) out.line(out.paint('red', run.error));
  out.line();
  out.table(
    ['TIME', 'EVENT', 'ASSET', 'MESSAGE'],
    events.map((e) => [formatTime(e.timestamp).slice(11), e.type, eventTarget(e), e.message.split('\n')[0] ?? '']),
    (row, column) => {
      const level = events[row]?.level;
      return column === 3 && level === 'error' ? 'red' : column === 3 && level === 'warn' ? 'yellow' : undefined;
    },
  );
  return 0;
}

/**
 * What an event is about: `key@partition` for one partition (so the per-partition failures of a
 * range step are told apart), `key@from..to` for a whole range step, else the key.
 */
function eventTarget(event: EventRecord): string {
  if (!event.assetKey) return '';
  if (event.partition) return `${event.assetKey}@${event.partition}`;
  const range = event.data?.partitions as { from?: string; to?: string } | undefined;
  return range?.from ? `${event.assetKey}@${range.from}..${range.to}` : event.assetKey;
}

/** ` (resumes 1a2b3c4d)` for the retry of a reclaimed run, else nothing. */
function resumes(run: RunRecord): string {
  return run.tags.resumes ? ` (resumes ${run.tags.resumes.slice(0, 8)})` : '';
}

function duration(run: RunRecord): string {
  if (run.startedAt === null) return '-';
  return formatDuration((run.endedAt ?? Date.now()) - run.startedAt);
}
