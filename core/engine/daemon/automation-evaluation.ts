/**
 * Evaluates the assets' automation conditions at one tick. Pure: the staleness report, the
 * latest materialization times, the runs in flight and the clock come in; the asset partitions
 * to request and every decision (requested or skipped, and why) come out.
 *
 * - `eager()`: a partition that is missing, whose upstream was updated since it was built, or
 *   whose stale upstream is requested in this same tick (so a chain is built in one run, in
 *   order). It waits while an upstream partition is missing and not requested, or in flight.
 * - `onMissing()`: a missing partition, with the same waiting rules.
 * - `onCron(cron, tz)`: after the latest cron tick, the latest complete partition at the tick,
 *   once every upstream partition it reads has been updated since the tick (or is requested in
 *   this tick), unless it was itself updated since the tick.
 * - Seeds declare no condition: a seed that is missing, or whose file changed, is requested when
 *   an asset with `eager()` in its condition reads it (an edited seed is new data), so that
 *   asset's eager rule finds its upstream requested in the same tick.
 * - A partition whose latest attempt failed is retried once (`retryable`); after that only an
 *   upstream update newer than the failure makes it eligible again, so a deterministic failure
 *   does not run every tick.
 */
import type { AssetSpec } from '../../model/definitions/asset-spec.ts';
import type { AutomationCondition } from '../../model/definitions/automation-condition.ts';
import { latestCronTick } from '../../model/definitions/cron-expression.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { upstreamPartitions } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { mappingOf } from '../../model/definitions/asset-spec.ts';
import type { StalePartition, StaleReason, StalenessReport } from '../../model/staleness/stale-partition.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import { addPartition, tickTarget, type AssetPartitions } from './asset-partitions.ts';

/** What automation is evaluated against. */
export interface AutomationInputs {
  readonly graph: AssetGraph;
  /** Staleness of (at least) the assets with automation. */
  readonly report: StalenessReport;
  /** Latest materialization time (epoch ms) by `key@partition`. */
  readonly latest: ReadonlyMap<string, number>;
  /** Asset partitions queued or running (this tick's schedule requests included), by `key@partition` → run id. */
  readonly inFlight: ReadonlyMap<string, string>;
  readonly now: Date;
  /** Whether a failure of the run `runId` may be retried (default: always). */
  readonly retryable?: (runId: string) => boolean;
  /** Keys of the seeds (CSV files, no condition of their own) among the report's assets. */
  readonly seeds?: ReadonlySet<string>;
}

/** What automation asks for at one tick. */
export interface AutomationEvaluation {
  /** Asset partitions to materialize, assets in topological order. */
  readonly requested: AssetPartitions;
  /** One decision per asset and reason: requested, or skipped while waiting. */
  readonly decisions: readonly TickDecision[];
  /** True when some request retries a failed attempt. */
  readonly retry: boolean;
}

/** The verdict of a condition on one asset partition. `category` absent: not requested, nothing worth recording. */
type Verdict = { readonly request: boolean; readonly category?: string; readonly detail?: string };

const SILENT: Verdict = Object.freeze({ request: false });

/** One upstream asset partition read by a partition. */
interface Upstream {
  readonly id: string;
  readonly source: boolean;
}

/**
 * Evaluates every asset's automation condition.
 *
 * @example
 * const { requested, decisions } = evaluateAutomation({ graph, report, latest, inFlight, now });
 */
export function evaluateAutomation(inputs: AutomationInputs): AutomationEvaluation {
  const { graph, report, latest, inFlight, now } = inputs;
  const retryable = inputs.retryable ?? (() => true);
  const requested = new Map<string, (string | null)[]>();
  const requestedIds = new Set<string>();
  const decisions: TickDecision[] = [];
  const staleByKey = new Map<string, StalePartition[]>();
  for (const stale of report.stale) {
    const list = staleByKey.get(stale.key);
    if (list) list.push(stale);
    else staleByKey.set(stale.key, [stale]);
  }
  let retry = false;

  for (const key of graph.keys) {
    const spec = graph.spec(key);
    const condition = spec.automation;
    if (!condition && inputs.seeds?.has(key)) {
      const decision = seedDecision(graph, key, staleByKey.get(key)?.[0]?.reasons, inFlight);
      if (decision?.action === 'requested') {
        addPartition(requested, key, null);
        requestedIds.add(partitionId(key, null));
      }
      if (decision) decisions.push(decision);
      continue;
    }
    if (!condition || spec.source) continue;
    const candidates = new Map<string | null, readonly StaleReason[] | undefined>();
    for (const stale of staleByKey.get(key) ?? []) candidates.set(stale.partition, stale.reasons);
    for (const node of condition.cronNodes()) {
      const tick = latestCronTick(node.cron as string, node.timezone ?? 'UTC', now);
      const target = tick === undefined ? undefined : latestPartitionAt(spec, tick);
      if (target !== undefined && !candidates.has(target)) candidates.set(target, report.reasonsOf(key, target));
    }
    const groups = new Map<string, { request: boolean; reason: string; partitions: (string | null)[]; runId?: string }>();
    const note = (verdict: Verdict, partition: string | null) => {
      if (!verdict.category) return;
      const group = `${verdict.request}\u0000${verdict.category}`;
      const found = groups.get(group);
      if (found) found.partitions.push(partition);
      else
        groups.set(group, { request: verdict.request, reason: `${verdict.category}${verdict.detail ? `: ${verdict.detail}` : ''}`, partitions: [partition] });
    };
    const ordered = [...candidates.keys()].sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
    for (const partition of ordered) {
      const id = partitionId(key, partition);
      const reasons = candidates.get(partition);
      const upstream = upstreamOf(graph, spec, partition, now);
      const running = inFlight.get(id);
      if (running !== undefined) {
        note({ request: false, category: 'in flight', detail: `run ${running.slice(0, 8)} is materializing it` }, partition);
        continue;
      }
      let verdict: Verdict;
      const failed = reasons?.find((r): r is Extract<StaleReason, { kind: 'failed' }> => r.kind === 'failed');
      if (failed && retryable(failed.runId)) {
        verdict = { request: true, category: 'retry', detail: `last attempt failed in run ${failed.runId.slice(0, 8)}` };
        retry = true;
      } else if (failed && !upstream.some((u) => !u.source && (latest.get(u.id) ?? -Infinity) > failed.at)) {
        verdict = {
          request: false,
          category: 'failed, not retried again',
          detail: `run ${failed.runId.slice(0, 8)} failed; waiting for an upstream update or a manual run`,
        };
      } else {
        const context: NodeContext = {
          key,
          spec,
          partition,
          id,
          reasons: reasons?.filter((r) => r.kind !== 'failed'),
          upstream,
          latest,
          inFlight,
          requestedIds,
          now,
        };
        verdict = evaluateNode(condition, context);
      }
      note(verdict, partition);
      if (verdict.request) {
        addPartition(requested, key, partition);
        requestedIds.add(id);
      }
    }
    for (const group of groups.values()) {
      const count = group.partitions.length;
      decisions.push({
        source: 'automation',
        name: key,
        action: group.request ? 'requested' : 'skipped',
        reason: `${condition}: ${group.reason}${count > 1 ? ` (and ${count - 1} more partition${count === 2 ? '' : 's'})` : ''}`,
        targets: [tickTarget(key, group.partitions)],
      });
    }
  }
  return { requested, decisions, retry };
}

/**
 * Whether to request a stale seed (`reasons` of its one partition, `undefined` when fresh): when
 * it is missing or its file changed, an asset whose condition has `eager()` reads it, and it is
 * not in flight. A seed whose last load failed waits for a manual run (its file is wrong).
 */
function seedDecision(
  graph: AssetGraph,
  key: string,
  reasons: readonly StaleReason[] | undefined,
  inFlight: ReadonlyMap<string, string>,
): TickDecision | undefined {
  const why = reasons?.some((r) => r.kind === 'failed') ? undefined : reasons?.find((r) => r.kind === 'missing' || r.kind === 'code_changed');
  if (why === undefined) return undefined;
  const readers = graph.children(key).filter((child) => {
    const condition = graph.spec(child).automation;
    return condition !== undefined && usesEager(condition);
  });
  if (readers.length === 0) return undefined;
  const what = why.kind === 'missing' ? 'never loaded' : 'file changed';
  const running = inFlight.get(partitionId(key, null));
  if (running !== undefined)
    return {
      source: 'automation',
      name: key,
      action: 'skipped',
      reason: `seed ${what}: in flight: run ${running.slice(0, 8)} is materializing it`,
      targets: [tickTarget(key, [null])],
    };
  return {
    source: 'automation',
    name: key,
    action: 'requested',
    reason: `seed ${what}, read by eager() ${readers.join(', ')}`,
    targets: [tickTarget(key, [null])],
  };
}

function usesEager(condition: AutomationCondition): boolean {
  return condition.type === 'eager' || condition.conditions.some(usesEager);
}

interface NodeContext {
  readonly key: string;
  readonly spec: AssetSpec;
  readonly partition: string | null;
  readonly id: string;
  /** `undefined`: fresh. */
  readonly reasons: readonly StaleReason[] | undefined;
  readonly upstream: readonly Upstream[];
  readonly latest: ReadonlyMap<string, number>;
  readonly inFlight: ReadonlyMap<string, string>;
  readonly requestedIds: ReadonlySet<string>;
  readonly now: Date;
}

function evaluateNode(node: AutomationCondition, c: NodeContext): Verdict {
  switch (node.type) {
    case 'eager':
      return eagerVerdict(c);
    case 'on_missing':
      if (!c.reasons?.some((r) => r.kind === 'missing')) return SILENT;
      return waitingForUpstream(c) ?? { request: true, category: 'missing' };
    case 'on_cron':
      return cronVerdict(node, c);
    case 'any': {
      const verdicts = node.conditions.map((child) => evaluateNode(child, c));
      return verdicts.find((v) => v.request) ?? verdicts.find((v) => v.category !== undefined) ?? SILENT;
    }
    case 'all': {
      const verdicts = node.conditions.map((child) => evaluateNode(child, c));
      const refusal = verdicts.find((v) => !v.request);
      if (refusal) return refusal.category === undefined ? SILENT : refusal;
      return {
        request: true,
        category: verdicts.map((v) => v.category).join(' and '),
        detail: verdicts
          .map((v) => v.detail)
          .filter(Boolean)
          .join('; '),
      };
    }
  }
}

function eagerVerdict(c: NodeContext): Verdict {
  if (!c.reasons) return SILENT;
  const waiting = waitingForUpstream(c);
  if (waiting && c.reasons.some((r) => r.kind === 'missing' || r.kind === 'upstream_changed' || r.kind === 'upstream_stale')) return waiting;
  let staleUpstream: string | undefined;
  for (const reason of c.reasons) {
    if (reason.kind === 'missing') return waiting ?? { request: true, category: 'missing' };
    if (reason.kind === 'upstream_changed') return waiting ?? { request: true, category: 'upstream updated', detail: reason.upstream };
    if (reason.kind === 'upstream_stale') {
      if (c.requestedIds.has(reason.upstream)) return waiting ?? { request: true, category: 'upstream requested in this tick', detail: reason.upstream };
      staleUpstream ??= reason.upstream;
    }
  }
  if (staleUpstream !== undefined) return { request: false, category: 'waiting for a stale upstream', detail: `${staleUpstream} is stale and not requested` };
  return SILENT;
}

function cronVerdict(node: AutomationCondition, c: NodeContext): Verdict {
  const tick = latestCronTick(node.cron as string, node.timezone ?? 'UTC', c.now);
  if (tick === undefined || latestPartitionAt(c.spec, tick) !== c.partition) return SILENT;
  const at = tick.getTime();
  if ((c.latest.get(c.id) ?? -Infinity) >= at) return SILENT;
  for (const up of c.upstream) {
    const running = c.inFlight.get(up.id);
    if (running !== undefined) return { request: false, category: 'waiting for an upstream in flight', detail: `${up.id} (run ${running.slice(0, 8)})` };
    if (up.source || c.requestedIds.has(up.id)) continue;
    if ((c.latest.get(up.id) ?? -Infinity) < at) {
      return { request: false, category: 'waiting for upstream updates since the cron tick', detail: `${up.id} not updated since ${tick.toISOString()}` };
    }
  }
  return { request: true, category: 'cron tick', detail: `${tick.toISOString()}, every upstream updated since` };
}

/** Why a partition must wait for its upstream (missing and not requested, or in flight), or `undefined`. */
function waitingForUpstream(c: NodeContext): Verdict | undefined {
  for (const up of c.upstream) {
    const running = c.inFlight.get(up.id);
    if (running !== undefined) return { request: false, category: 'waiting for an upstream in flight', detail: `${up.id} (run ${running.slice(0, 8)})` };
    if (!up.source && !c.latest.has(up.id) && !c.requestedIds.has(up.id)) {
      return { request: false, category: 'waiting for a missing upstream', detail: `${up.id} was never materialized` };
    }
  }
  return undefined;
}

/** The upstream asset partitions one partition reads, through its partition mappings. */
function upstreamOf(graph: AssetGraph, spec: AssetSpec, partition: string | null, now: Date): Upstream[] {
  const found: Upstream[] = [];
  for (const parent of graph.parents(spec.key)) {
    const parentSpec = graph.spec(parent);
    for (const up of upstreamPartitions(mappingOf(spec, parentSpec), partition === null ? null : [partition], spec, parentSpec, now)) {
      found.push({ id: partitionId(parent, up), source: parentSpec.source === true });
    }
  }
  return found;
}

/**
 * The latest complete partition of an asset at `at` (`null` for an unpartitioned asset;
 * `undefined` when it has none yet). Static partitions have no latest: their last key.
 */
export function latestPartitionAt(spec: AssetSpec, at: Date): string | null | undefined {
  if (!spec.partitions) return null;
  return spec.partitions.keys(at).at(-1);
}
