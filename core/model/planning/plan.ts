import { mappingOf, type AssetSpec } from '../definitions/asset-spec.ts';
import type { AssetGraph } from '../graph/asset-graph.ts';
import { readsSameKey } from '../partitions/index.ts';
import type { PartitionMapping } from '../partitions/partition-mapping.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import type { StalenessReport } from '../staleness/stale-partition.ts';
import { partitionsInRange, type PartitionRequest } from './partition-request.ts';

/** One step: an asset, the partitions it writes (`null` when unpartitioned), and the steps it waits for. */
export interface PlanStep {
  /** `key`, `key@partition` or `key@first..last`. */
  readonly id: string;
  readonly key: string;
  /** Partition keys written by this step, in order; `null` for an unpartitioned asset. */
  readonly partitions: readonly string[] | null;
  /** Ids of the steps of this plan that must succeed first. */
  readonly waitsFor: readonly string[];
}

/** An ordered set of steps: a pure function of the graph, the selection and the options. */
export interface Plan {
  /** Steps in topological order of their assets (stable: layer, then key, then partition). */
  readonly steps: readonly PlanStep[];
}

/** What to plan besides the selection. */
export interface PlanOptions {
  /** The clock: which time-window partitions exist. */
  readonly now?: Date;
  /** Partitions of partitioned assets: all that exist (default), one key, or a range. */
  readonly partitions?: PartitionRequest;
  /** Leaves out asset partitions already done (missing-only, resumed backfills). */
  readonly skip?: (key: string, partition: string | null) => boolean;
  /**
   * Stale-only: plans the stale partitions of this report, except those whose rebuild could not
   * change anything: stale only because upstream partitions they read are stale
   * (`upstream_stale`), none of which this plan rebuilds (outside the selection or the range).
   */
  readonly stale?: Pick<StalenessReport, 'reasonsOf'>;
  /**
   * With `stale`: how many partitions before the newest one an asset's stale-only plan writes
   * also build again (a dbt microbatch model's `lookback`, for late-arriving rows); 0 by default.
   */
  readonly lookback?: (key: string) => number;
  /** `policy` (default) follows each asset's backfill policy; `per_partition` forces one step per partition. */
  readonly grouping?: 'policy' | 'per_partition';
}

/**
 * Builds the plan for `selected` assets. Pure: no I/O, the clock comes in `options.now`.
 * Source assets in the selection get no step (they are observed, not materialized).
 * A step waits for the steps of planned upstream assets whose partitions it reads through its
 * partition mappings; through an unplanned upstream asset it waits for every step of the
 * nearest planned ancestors. The assets its checks read (check dependencies, see
 * AssetGraph.checkParents) are waited for the same way, through the default partition mapping
 * (or the asset's mapping for them): a daily asset's check on another daily asset waits for the
 * same day.
 *
 * @example
 * buildPlan(graph, ['staging/orders'], { now, partitions: { from: '2025-01-01', to: '2025-01-31' } })
 */
export function buildPlan(graph: AssetGraph, selected: Iterable<string>, options: PlanOptions = {}): Plan {
  const now = options.now ?? new Date();
  const planned = new Set(selected);
  const steps: PlanStep[] = [];
  // Plans may hold a million steps: steps are referred to by their index in `steps`, and each
  // planned asset's steps are contiguous there, so no per-partition string is built to find one.
  /** The span [first, end) of each planned asset's steps in `steps`. */
  const spanOf = new Map<string, readonly [number, number]>();
  /** Per planned asset: which step writes each of its partitions. */
  const writerOf = new Map<string, PartitionWriters>();
  const nearest = new Map<string, readonly string[]>();

  for (const key of graph.keys) {
    // A check dependency (AssetGraph.checkParents) is waited for like a data dependency, through the same partition mapping.
    const parents = [...new Set([...graph.parents(key), ...graph.checkParents(key)])];
    // Source assets are observed, never planned: selecting one adds no step.
    if (!planned.has(key) || graph.spec(key).source) {
      // Remember the nearest planned ancestors of an unplanned asset for its descendants.
      const found = new Set<string>();
      for (const parent of parents) for (const ancestor of planned.has(parent) ? [parent] : (nearest.get(parent) ?? [])) found.add(ancestor);
      nearest.set(key, graph.sortTopologically(found));
      continue;
    }
    nearest.set(key, [key]);
    const spec = graph.spec(key);
    const plannedParents = parents
      .filter((parent) => planned.has(parent))
      .map((parent) => {
        const parentSpec = graph.spec(parent);
        const mapping = mappingOf(spec, parentSpec);
        const writers = writerOf.get(parent);
        // Time-window keys sort as text in time order, and this asset's partitions come in that
        // order: the parent's partition of the same key is found by walking forward, not hashing.
        const timeWindows = spec.partitions?.type === 'time_window' && parentSpec.partitions?.type === 'time_window';
        const walk = timeWindows && readsSameKey(mapping, spec.partitions, parentSpec.partitions) ? writers?.walker() : undefined;
        return { spec: parentSpec, mapping, writers, walk };
      });
    // Through an unplanned parent, every step waits for all steps of its nearest planned ancestors: the same for each step.
    const inherited = new Set<number>();
    for (const parent of parents) {
      if (planned.has(parent)) continue;
      for (const ancestor of nearest.get(parent) ?? []) {
        const [first, end] = spanOf.get(ancestor) ?? [0, 0];
        for (let i = first; i < end; i++) inherited.add(i);
      }
    }
    const inheritedIndexes = [...inherited];
    const inheritedIds = Object.freeze(idsOf(steps, inheritedIndexes));
    const first = steps.length;
    const written = new PartitionWriters();
    // One scratch array, not a Set per step: those cost seconds in a plan of a million steps.
    const waits: number[] = [];
    let selected = selectPartitions(spec, options, now);
    if (options.stale) {
      const candidates = selected;
      selected = worthRebuilding(graph, spec, selected, options.stale, (parent, partition) => writerOf.get(parent)?.get(partition) !== undefined, now);
      const lookback = options.lookback?.(key) ?? 0;
      if (lookback > 0 && candidates !== null && selected !== null) selected = withLookback(candidates, selected, lookback);
    }
    for (const partitions of groupPartitions(spec, selected, options.grouping ?? 'policy')) {
      waits.length = 0;
      for (const index of inheritedIndexes) waits.push(index);
      for (const { spec: parentSpec, mapping, writers, walk } of plannedParents) {
        if (writers === undefined) continue;
        for (const partition of partitions ?? [null]) {
          if (walk) {
            const index = walk(partition as string);
            if (index !== undefined) waits.push(index);
            continue;
          }
          for (const upstream of mapping.upstreamKeys(partition, spec.partitions, parentSpec.partitions, now)) {
            const index = writers.get(upstream);
            if (index !== undefined) waits.push(index);
          }
        }
      }
      const waitsFor = waits.length === inheritedIndexes.length ? inheritedIds : Object.freeze(idsOf(steps, waits));
      const index = steps.length;
      steps.push(Object.freeze({ id: stepId(key, partitions), key, partitions, waitsFor }));
      for (const partition of partitions ?? [null]) written.add(partition, index);
    }
    writerOf.set(key, written);
    spanOf.set(key, [first, steps.length]);
  }
  return Object.freeze({ steps: Object.freeze(steps) });
}

/** The step writing each partition of one planned asset, in the order they were planned. */
class PartitionWriters {
  readonly #partitions: (string | null)[] = [];
  readonly #steps: number[] = [];
  #byPartition: Map<string | null, number> | undefined;

  add(partition: string | null, step: number): void {
    this.#partitions.push(partition);
    this.#steps.push(step);
  }

  /** The step writing `partition`, if planned (the index is built on first use). */
  get(partition: string | null): number | undefined {
    if (this.#byPartition === undefined) {
      this.#byPartition = new Map();
      for (let i = 0; i < this.#partitions.length; i++) this.#byPartition.set(this.#partitions[i] as string | null, this.#steps[i] as number);
    }
    return this.#byPartition.get(partition);
  }

  /**
   * A lookup for partitions asked in ascending text order, when these were added in that order
   * too (time-window keys): it walks forward, so a million lookups hash no string.
   */
  walker(): (partition: string) => number | undefined {
    const partitions = this.#partitions as string[];
    let at = 0;
    return (partition) => {
      while (at < partitions.length && (partitions[at] as string) < partition) at++;
      return partitions[at] === partition ? this.#steps[at] : undefined;
    };
  }
}

/** The ids of the steps at `indexes` (sorted in place; duplicates allowed), once each, in plan order. */
function idsOf(steps: readonly PlanStep[], indexes: number[]): string[] {
  indexes.sort((a, b) => a - b);
  const ids: string[] = [];
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i] as number;
    if (i === 0 || index !== indexes[i - 1]) ids.push((steps[index] as PlanStep).id);
  }
  return ids;
}

/** Every upstream partition (`null`: unpartitioned) read by the given downstream partitions. */
export function upstreamPartitions(
  mapping: PartitionMapping,
  partitions: readonly string[] | null,
  child: AssetSpec,
  parent: AssetSpec,
  now: Date,
): Set<string | null> {
  const found = new Set<string | null>();
  for (const partition of partitions ?? [null]) {
    for (const upstream of mapping.upstreamKeys(partition, child.partitions, parent.partitions, now)) found.add(upstream);
  }
  return found;
}

function stepId(key: string, partitions: readonly string[] | null): string {
  if (partitions === null) return key;
  return partitions.length === 1 ? `${key}@${partitions[0]}` : `${key}@${partitions[0]}..${partitions.at(-1)}`;
}

/** The partitions of one asset to write (`null` for unpartitioned), after `skip`. */
function selectPartitions(spec: AssetSpec, options: PlanOptions, now: Date): readonly string[] | null {
  if (!spec.partitions) return options.skip?.(spec.key, null) ? [] : null;
  const all = options.partitions ? partitionsInRange(spec, options.partitions, now) : spec.partitions.keys(now);
  return options.skip ? all.filter((p) => !options.skip?.(spec.key, p)) : all;
}

/**
 * The stale partitions among `partitions` (`null`: the unpartitioned asset) whose rebuild can
 * change them: a direct reason (missing, failed, code, dependencies, upstream data changed), or
 * an upstream partition they read that `planned` says this plan rebuilds.
 */
function worthRebuilding(
  graph: AssetGraph,
  spec: AssetSpec,
  partitions: readonly string[] | null,
  report: Pick<StalenessReport, 'reasonsOf'>,
  planned: (key: string, partition: string | null) => boolean,
  now: Date,
): readonly string[] | null {
  const worth = (partition: string | null) => {
    const reasons = report.reasonsOf(spec.key, partition);
    if (reasons === undefined) return false;
    if (reasons.some((r) => r.kind !== 'upstream_stale')) return true;
    return graph.parents(spec.key).some((parent) => {
      const parentSpec = graph.spec(parent);
      return [...upstreamPartitions(mappingOf(spec, parentSpec), partition === null ? null : [partition], spec, parentSpec, now)].some((u) =>
        planned(parent, u),
      );
    });
  };
  if (partitions === null) return worth(null) ? null : [];
  return partitions.filter(worth);
}

/**
 * `chosen` (a subset of `all`, both in order) and the `lookback` partitions of `all` before the
 * newest chosen one (a dbt microbatch model's batches built again for late-arriving rows).
 *
 * @example
 * withLookback(['d1', 'd2', 'd3', 'd4'], ['d4'], 2); // ['d2', 'd3', 'd4']
 */
export function withLookback(all: readonly string[], chosen: readonly string[], lookback: number): readonly string[] {
  const newest = chosen.at(-1);
  if (newest === undefined) return chosen;
  const at = all.indexOf(newest);
  const wanted = new Set([...chosen, ...all.slice(Math.max(0, at - lookback), at)]);
  return all.filter((partition) => wanted.has(partition));
}

/** Splits an asset's partitions into steps: one per partition, or runs of consecutive partitions. */
function groupPartitions(spec: AssetSpec, partitions: readonly string[] | null, grouping: 'policy' | 'per_partition'): (readonly string[] | null)[] {
  if (partitions === null) return [null];
  const policy = spec.backfillPolicy;
  // Static keys are not a contiguous range a single statement could bind: one step each.
  if (grouping === 'per_partition' || policy.type === 'multi_run' || spec.partitions?.type === 'static') return partitions.map((p) => [p]);
  const max = policy.maxPartitionsPerRun ?? Infinity;
  const definition = spec.partitions;
  const groups: string[][] = [];
  let current: string[] = [];
  for (const partition of partitions) {
    const previous = current.at(-1);
    const consecutive = previous !== undefined && definition !== undefined && adjacent(definition, previous, partition);
    if (current.length > 0 && (!consecutive || current.length >= max)) {
      groups.push(current);
      current = [];
    }
    current.push(partition);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** True when time window `next` starts where `previous` ends (a range step must not jump a gap). */
function adjacent(definition: PartitionsDefinition, previous: string, next: string): boolean {
  const a = definition.window(previous);
  const b = definition.window(next);
  return a !== undefined && b !== undefined && a.end.getTime() === b.start.getTime();
}
