/**
 * The daemon's freshness watch: at every tick, each asset with a freshness policy is found fresh
 * or overdue from storage (core/model/freshness/asset-freshness.ts). An overdue asset opens a
 * miss episode in storage with a `freshness_miss` event, which the run observers are told of
 * (alerts); an asset with an open episode is not raised again, by this daemon or by a restarted
 * one, until it has been seen fresh (which ends the episode) and is overdue again.
 */
import { formatDuration } from '../../model/format/duration-text.js';
import { assetFreshness, type AssetFreshness, type MaterializedPartition } from '../../model/freshness/asset-freshness.ts';
import { loadedAtTimes } from '../../model/freshness/source-freshness.ts';
import { GONE_DATA_VERSION } from '../../model/definitions/source-asset.ts';
import type { Project } from '../../model/project.ts';
import { groupBy } from '../../model/collections/group-by.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import type { EventRecord, Storage } from '../../../storage/storage.ts';
import { tellObservers, type RunObserver } from '../runs/run-observers.ts';

/** What a freshness watch works with. */
export interface FreshnessWatchInput {
  readonly project: Project;
  readonly storage: Storage;
  /** The tick's clock. */
  readonly now: Date;
  /** The tick raising the misses: events are `daemon-tick-<id>`'s. */
  readonly tickId: number;
  readonly observers: readonly RunObserver[];
  readonly log?: (line: string) => void;
}

/** The run id of the run-less events daemon tick `tickId` raises. */
export function daemonTickRunId(tickId: number): string {
  return `daemon-tick-${tickId}`;
}

/**
 * Raises `freshness_miss` for every overdue asset without an open episode and ends the episodes
 * of assets fresh again (or without a policy any more). Returns the raised events; a storage
 * failure is returned as an `error` decision (the next tick tries again), not thrown.
 */
export async function watchFreshness(input: FreshnessWatchInput): Promise<{ raised: EventRecord[]; decisions: TickDecision[] }> {
  try {
    return { raised: await raiseMisses(input), decisions: [] };
  } catch (error) {
    return {
      raised: [],
      decisions: [{ source: 'daemon', name: 'freshness', action: 'error', reason: `checking freshness failed: ${(error as Error).message}`, targets: [] }],
    };
  }
}

async function raiseMisses({ project, storage, now, tickId, observers, log }: FreshnessWatchInput): Promise<EventRecord[]> {
  const { graph } = project;
  // Sources with a policy (dbt's loaded_at_field) are measured on the newest loaded-at value they were observed with.
  const watched = graph.keys.filter((k) => graph.spec(k).freshnessPolicy !== undefined);
  const isWatched = new Set(watched);
  const open = new Set((await storage.openFreshnessEpisodes()).map((e) => e.assetKey));
  const unwatched = [...open].filter((k) => !isWatched.has(k));
  if (watched.length === 0) {
    await storage.endFreshnessEpisodes(unwatched, now.getTime());
    return [];
  }
  const sources = watched.filter((k) => graph.spec(k).source);
  const latest = new Map<string, readonly MaterializedPartition[]>(
    groupBy(await storage.latestMaterializations(watched.filter((k) => !graph.spec(k).source)), (m) => m.assetKey),
  );
  const observed = (await storage.latestObservations(sources)).filter((o) => o.dataVersion !== GONE_DATA_VERSION);
  for (const [key, list] of groupBy(observed, (o) => o.assetKey)) latest.set(key, loadedAtTimes(list));
  const fresh: string[] = [...unwatched];
  const raised: EventRecord[] = [];
  for (const key of watched) {
    const { freshnessPolicy, partitions } = graph.spec(key);
    if (freshnessPolicy === undefined) continue;
    const state = assetFreshness(freshnessPolicy, partitions, latest.get(key) ?? [], now);
    if (state.status === 'fresh') {
      fresh.push(key);
      continue;
    }
    // Already raised in this episode; opening is still atomic when another process got there first.
    if (open.has(key)) continue;
    const episode = await storage.openFreshnessEpisode(missEvent(key, state, now, tickId));
    if (episode === undefined) continue;
    raised.push(episode.event);
    log?.(`freshness_miss: ${episode.event.message}`);
    tellObservers(observers, [episode.event]);
  }
  const ended = await storage.endFreshnessEpisodes(fresh, now.getTime());
  for (const key of ended) if (isWatched.has(key)) log?.(`freshness: ${key} is fresh again`);
  return raised;
}

/** The `freshness_miss` event of an overdue asset. */
function missEvent(key: string, state: AssetFreshness, now: Date, tickId: number): EventRecord {
  const limit = formatDuration(state.maxLagMs);
  const message =
    state.lagMs === null || state.overdueAt === null
      ? `${key} is overdue: never materialized (freshness policy: ${limit})`
      : `${key} is overdue: its newest data${state.partition === null ? '' : ` (partition ${state.partition})`} is ${formatDuration(state.lagMs)} old, more than ${limit}; overdue since ${new Date(state.overdueAt).toISOString()}`;
  return {
    runId: daemonTickRunId(tickId),
    timestamp: now.getTime(),
    type: 'freshness_miss',
    level: 'warn',
    assetKey: key,
    partition: state.partition,
    message,
    data: { maxLagMs: state.maxLagMs, lagMs: state.lagMs, lastMaterializedAt: state.lastMaterializedAt },
  };
}
