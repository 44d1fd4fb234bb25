import type { LandingZone } from '../../model/definitions/asset-context.ts';
import type { Project } from '../../model/project.ts';
import type { Storage } from '../../../storage/storage.ts';
import { computeStaleness } from '../../model/staleness/compute-staleness.ts';
import { observeSources } from './observe-sources.ts';
import type { StalenessReport } from '../../model/staleness/stale-partition.ts';

/** What {@link findStale} needs. */
export interface FindStaleOptions {
  readonly project: Project;
  readonly storage: Storage;
  readonly landing: LandingZone;
  /** The assets to report on (default: all). */
  readonly keys?: readonly string[];
  readonly now?: Date;
  readonly signal?: AbortSignal;
  /** Source assets to observe too, whether or not `keys` read them (`assets status --select` naming a source). */
  readonly sources?: readonly string[];
}

/**
 * Observes the source assets upstream of `keys` (so a changed landing file counts), then
 * computes the staleness of `keys`: what `status --stale`, `--stale-only` and the daemon use.
 */
export async function findStale(options: FindStaleOptions): Promise<StalenessReport> {
  const { project, storage, landing, keys } = options;
  const { graph } = project;
  const now = options.now ?? new Date();
  const scope = keys === undefined ? graph.keys : [...keys, ...graph.upstream(keys)];
  const sources = [...new Set([...scope.filter((k) => graph.spec(k).source), ...(options.sources ?? [])])];
  if (sources.length > 0) await observeSources({ project, storage, landing, keys: sources, now, ...(options.signal ? { signal: options.signal } : {}) });
  return computeStaleness({ project, storage, now, ...(keys === undefined ? {} : { keys }) });
}

/** A planner `skip` that leaves out the asset partitions `report` does not call stale. */
export function skipFresh(report: StalenessReport): (key: string, partition: string | null) => boolean {
  return (key, partition) => report.reasonsOf(key, partition) === undefined;
}
