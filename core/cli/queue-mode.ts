import { UsageError } from '../model/errors.ts';
import type { ProjectConfig } from '../model/config/project-config.ts';

/** The `--queue` and `--no-queue` options of the commands that launch runs. */
export const QUEUE_OPTIONS = { queue: { type: 'boolean' }, 'no-queue': { type: 'boolean' } } as const;

/**
 * Whether a command queues its runs for `assets worker` instead of running them itself:
 * `--queue`, else `--no-queue`, else strata.json `"queue"`. Queueing needs Postgres storage: on
 * SQLite (single-host; `assets worker` refuses it) it is a {@link UsageError} saying why and
 * naming where it was asked for.
 *
 * @example
 * if (queueMode(values, project.config)) await enqueueMaterialization(…);
 */
export function queueMode(values: { readonly queue?: boolean | undefined; readonly 'no-queue'?: boolean | undefined }, config: ProjectConfig): boolean {
  if (values.queue && values['no-queue']) throw new UsageError('--queue and --no-queue contradict each other: pass one', '--no-queue');
  const queue = values.queue === true || (values['no-queue'] !== true && config.queue === true);
  if (queue && config.storageUrl === undefined) {
    const asked = values.queue ? '--queue' : `"queue": true in strata.json`;
    throw new UsageError(
      `${asked} needs Postgres storage: runs queued in the SQLite storage ${config.storageFile} could never run, since assets worker refuses SQLite (it is single-host)${values.queue ? '' : '; pass --no-queue to run here'}`,
      values.queue ? '--queue' : undefined,
    );
  }
  return queue;
}
