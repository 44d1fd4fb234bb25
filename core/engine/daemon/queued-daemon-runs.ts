/**
 * The daemon's side of the run queue: what runs queued or running in storage write (so a tick
 * requests no partition twice, whichever process queued it or runs it), and the request a
 * decided run is queued as (`assets daemon --queue`), for `assets worker` to run.
 */
import { partitionId } from '../../model/definitions/asset-key.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import type { RunRecord, Storage } from '../../../storage/storage.ts';
import type { QueuedMaterialization } from '../runs/queued-runs.ts';
import type { AssetPartitions } from './asset-partitions.ts';
import { partsOf } from '../execution/queued-backfill-progress.ts';

/**
 * Adds to `inFlight` (`key@partition` → run id) every asset partition a queued or running run
 * in storage was queued to write: a daemon's run and a queued backfill's run list their
 * partitions; a run queued by `assets materialize --queue` (or the UI) writes its assets, at its
 * partition when it names one (one that names none is left to the leases, which keep two runs
 * from writing one partition).
 */
export async function addStoredInFlight(storage: Storage, graph: AssetGraph, inFlight: Map<string, string>): Promise<void> {
  for (const status of ['queued', 'running'] as const) {
    for (const run of await storage.listRuns({ status })) {
      // A queued backfill's run lists its asset partitions as ids already.
      for (const id of partsOf(run)) if (!inFlight.has(id)) inFlight.set(id, run.id);
      for (const [key, partitions] of queuedPartitions(run, graph)) {
        for (const partition of partitions) {
          const id = partitionId(key, partition);
          if (!inFlight.has(id)) inFlight.set(id, run.id);
        }
      }
    }
  }
}

/** The request a run the daemon decided on is queued with: exactly its partitions, planned at the tick's clock. */
export function daemonRequest(selection: string, partitions: AssetPartitions, now: Date, concurrency: number | undefined): Omit<QueuedMaterialization, 'kind'> {
  return {
    select: selection,
    partitions: Object.fromEntries([...partitions].map(([key, list]) => [key, [...list]])),
    now: now.getTime(),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}

/** The asset partitions a stored run was queued to write, as far as its request says. */
function queuedPartitions(run: RunRecord, graph: AssetGraph): [string, readonly (string | null)[]][] {
  const request = run.request;
  if (request?.kind !== 'materialize') return [];
  const listed = request.partitions;
  if (listed !== null && typeof listed === 'object') {
    return Object.entries(listed as Record<string, unknown>).flatMap(([key, list]) => (Array.isArray(list) ? [[key, list as (string | null)[]]] : []));
  }
  const partition = typeof request.partition === 'string' ? request.partition : undefined;
  return run.assetKeys.flatMap((key): [string, (string | null)[]][] => {
    if (!graph.has(key)) return [];
    if (!graph.spec(key).partitions) return [[key, [null]]];
    return partition === undefined ? [] : [[key, [partition]]];
  });
}
