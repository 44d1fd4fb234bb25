/**
 * What a full refresh asks of a run, checked the same way for `assets materialize` and
 * `assets backfill` (`--full-refresh`, `--force`) and for the UI's `POST /api/runs` and
 * `POST /api/backfills` (`fullRefresh`, `force`).
 */
import { assertSnapshotRefresh } from '../../model/definitions/snapshot-config.ts';
import { UsageError } from '../../model/errors.ts';
import type { Project } from '../../model/project.ts';

/** What a full refresh asks of a run. */
export interface FullRefreshRequest {
  readonly fullRefresh: boolean;
  /** Snapshots whose history may be dropped and rebuilt. */
  readonly forcedSnapshots: readonly string[];
}

/** How errors name the two arguments, and how they tell the user to force snapshots. */
export interface FullRefreshArguments {
  readonly fullRefresh: string;
  readonly force: string;
  /** The words that tell how to force `keys`, e.g. `--force a,b`. */
  readonly forceHint: (keys: readonly string[]) => string;
}

/** The CLI's `--full-refresh` and `--force KEY[,KEY…]`. */
export const CLI_REFRESH_ARGUMENTS: FullRefreshArguments = {
  fullRefresh: '--full-refresh',
  force: '--force',
  forceHint: (keys) => `add --force ${keys.join(',')}`,
};

/** The API's body fields `fullRefresh` and `force` (a list of keys). */
export const API_REFRESH_ARGUMENTS: FullRefreshArguments = {
  fullRefresh: 'fullRefresh',
  force: 'force',
  forceHint: (keys) => `list ${keys.length === 1 ? 'it' : 'them'} in "force" (${JSON.stringify(keys)})`,
};

/**
 * Checks a full refresh of the selected `keys`: one that would rebuild a snapshot not named by
 * `force` is refused (exit 2, HTTP 400), since a snapshot's history cannot be recomputed; `force`
 * without `fullRefresh`, or naming an asset that is not a selected snapshot, is a usage error.
 * `force` is a list of keys, or (from the CLI) one comma-separated string of them. `names` says
 * how messages name the arguments (default: the CLI's).
 *
 * @example
 * fullRefreshRequest(project, keys, { fullRefresh: true, force: 'snapshots/customers' })
 * fullRefreshRequest(project, keys, { fullRefresh: true, force: ['snapshots/customers'] }, API_REFRESH_ARGUMENTS)
 */
export function fullRefreshRequest(
  project: Project,
  keys: readonly string[],
  options: { readonly fullRefresh?: boolean; readonly force?: string | readonly string[] },
  names: FullRefreshArguments = CLI_REFRESH_ARGUMENTS,
): FullRefreshRequest {
  const fullRefresh = options.fullRefresh === true;
  const given = typeof options.force === 'string' ? options.force.split(',') : (options.force ?? []);
  const forced = given.map((k) => k.trim()).filter((k) => k !== '');
  if (options.force !== undefined && !fullRefresh)
    throw new UsageError(`${names.force} goes with ${names.fullRefresh}: ${names.fullRefresh} ${names.force} SNAPSHOT_KEY`, names.force);
  if (!fullRefresh) return { fullRefresh, forcedSnapshots: [] };
  const snapshots = keys.filter((key) => isSnapshot(project, key));
  const stray = forced.filter((key) => !snapshots.includes(key));
  if (stray.length > 0)
    throw new UsageError(
      `${names.force} ${stray.join(',')}: not a selected snapshot (${names.force} names the snapshots whose history ${names.fullRefresh} may drop)`,
      names.force,
    );
  assertSnapshotRefresh(snapshots, forced, names);
  return { fullRefresh, forcedSnapshots: forced };
}

function isSnapshot(project: Project, key: string): boolean {
  const compute = project.definitions.get(key)?.compute;
  return compute?.type === 'sql' && compute.snapshot !== undefined;
}
