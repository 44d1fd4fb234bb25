import { UsageError } from '../../model/errors.ts';
import type { BackfillRecord, Storage } from '../../../storage/storage.ts';
import { parseCommandArgs, positiveInt } from '../args.ts';
import type { Command } from '../command.ts';
import { pickByPrefix } from '../../model/collections/pick-by-prefix.ts';
import { formatTime, statusColour, type Output } from '../output.ts';
import { Workspace } from '../../engine/workspace.ts';

/** `assets backfills`: stored backfills, one backfill, or cancel one. */
export const backfillsCommand: Command = {
  name: 'backfills',
  help: `Usage: assets backfills [list] [--limit N] [--json]
       assets backfills show ID [--json]
       assets backfills cancel ID

list     recent backfills with progress, newest first
show     one backfill (a unique id prefix is enough) and its runs
cancel   mark a backfill canceled; a process running it stops within seconds`,

  async run(argv, out) {
    const { values, positionals } = parseCommandArgs('backfills', argv, { limit: { type: 'string' } }, true);
    const [action = 'list', id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, extra[0]);
    if (!['list', 'show', 'cancel'].includes(action)) throw new UsageError(`unknown backfills action "${action}" (use list, show or cancel)`, action);
    if (action !== 'list' && !id) throw new UsageError(`assets backfills ${action} needs a backfill id`, 'ID');
    const limit = positiveInt(values.limit, '--limit', 20);
    const workspace = await Workspace.load(values);
    try {
      const storage = await workspace.storage();
      if (action === 'list') {
        const backfills = await storage.listBackfills({ limit });
        if (values.json) out.json(backfills);
        else printList(out, backfills);
        return 0;
      }
      const backfill = await findBackfill(storage, id as string);
      if (action === 'cancel') {
        if (backfill.status !== 'running') throw new UsageError(`backfill ${backfill.id.slice(0, 8)} is ${backfill.status}, not running`, 'ID');
        await storage.updateBackfill(backfill.id, { status: 'canceled', updatedAt: Date.now() });
        out.line(`backfill ${backfill.id.slice(0, 8)} canceled; resume it with assets backfill --resume ${backfill.id.slice(0, 8)}`);
        return 0;
      }
      if (values.json) out.json(backfill);
      else printOne(out, backfill);
      return 0;
    } finally {
      await workspace.close();
    }
  },
};

/** The backfill an id or unique prefix names; clear errors for none or several. */
export async function findBackfill(storage: Storage, id: string): Promise<BackfillRecord> {
  return pickByPrefix(await storage.findBackfillsByPrefix(id), id, 'backfill', 'ID');
}

function printList(out: Output, backfills: readonly BackfillRecord[]): void {
  if (backfills.length === 0) {
    out.line("no backfills yet: try assets backfill --select 'staging/*' --from 2025-01-01 --to 2025-01-31");
    return;
  }
  out.table(
    ['BACKFILL', 'STATUS', 'CREATED', 'RANGE', 'PROGRESS', 'SELECTION'],
    backfills.map((b) => [b.id.slice(0, 8), b.status, formatTime(b.createdAt), `${b.from}..${b.to}`, progressOf(b), b.selection]),
    (_row, column, cell) => (column === 1 ? statusColour(cell === 'running' ? 'running' : cell) : undefined),
  );
}

function printOne(out: Output, b: BackfillRecord): void {
  out.line(`${out.paint('bold', `Backfill ${b.id}`)}  ${out.paint(statusColour(b.status) ?? 'bold', b.status)}`);
  out.line(`selection ${b.selection} · range ${b.from}..${b.to} · mode ${b.mode} · steps ${b.grouping}`);
  out.line(`progress ${progressOf(b)} · created ${formatTime(b.createdAt)} · updated ${formatTime(b.updatedAt)}`);
  if (b.error) out.line(out.paint('red', b.error));
  out.line(`runs: ${b.runIds.map((r) => r.slice(0, 8)).join(', ') || '-'}`);
}

function progressOf(b: BackfillRecord): string {
  return `${b.done}/${b.total}${b.failed ? ` (${b.failed} failed)` : ''}`;
}
