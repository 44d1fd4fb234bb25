import { assertSnapshotRefresh } from '../definitions/snapshot-config.ts';
import { UsageError } from '../errors.ts';
import type { Project } from '../project/project-loader.ts';

/** What `--full-refresh` and `--force` ask of a run. */
export interface FullRefreshRequest {
  readonly fullRefresh: boolean;
  /** Snapshots whose history may be dropped and rebuilt. */
  readonly forcedSnapshots: readonly string[];
}

/**
 * Reads `--full-refresh` and `--force KEY[,KEY…]` for the selected `keys`: a full refresh that
 * would rebuild a snapshot not named by `--force` is refused (exit 2), since its history cannot
 * be recomputed; `--force` without `--full-refresh`, or naming an asset that is not a selected
 * snapshot, is a usage error.
 *
 * @example
 * fullRefreshRequest(project, keys, { fullRefresh: true, force: 'snapshots/customers' })
 */
export function fullRefreshRequest(project: Project, keys: readonly string[], options: { readonly fullRefresh?: boolean; readonly force?: string }): FullRefreshRequest {
  const fullRefresh = options.fullRefresh === true;
  const forced = options.force === undefined ? [] : options.force.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (options.force !== undefined && !fullRefresh) throw new UsageError('--force goes with --full-refresh: --full-refresh --force SNAPSHOT_KEY', '--force');
  if (!fullRefresh) return { fullRefresh, forcedSnapshots: [] };
  const snapshots = keys.filter((key) => isSnapshot(project, key));
  const stray = forced.filter((key) => !snapshots.includes(key));
  if (stray.length > 0) throw new UsageError(`--force ${stray.join(',')}: not a selected snapshot (--force names the snapshots whose history --full-refresh may drop)`, '--force');
  assertSnapshotRefresh(snapshots, forced);
  return { fullRefresh, forcedSnapshots: forced };
}

function isSnapshot(project: Project, key: string): boolean {
  const compute = project.definitions.get(key)?.compute;
  return compute?.type === 'sql' && compute.snapshot !== undefined;
}
