import { groupBy } from '../collections/group-by.ts';
import { GONE_DATA_VERSION } from '../definitions/source-asset.ts';
import { lastAttemptFailed } from './last-attempt.ts';
import { partitionId } from '../definitions/asset-key.ts';
import { mappingOf } from '../definitions/asset-spec.ts';
import { depsVersionOf } from '../definitions/code-version.ts';
import type { Project } from '../project.ts';
import type { AssetDataSummary } from '../../../storage/staleness-store.ts';
import type { Storage } from '../../../storage/storage.ts';
import { PartitionIndex, type UpstreamIndexes } from './partition-index.ts';
import { REASON_RANK, type StalePartition, type StaleReason, type StalenessReport } from './stale-partition.ts';

/** What {@link computeStaleness} needs. */
export interface ComputeStalenessOptions {
  readonly project: Project;
  readonly storage: Storage;
  /** The assets to report on (default: all). Their ancestors are evaluated too, for `upstream_stale`. */
  readonly keys?: readonly string[];
  /** The clock: which time-window partitions exist. */
  readonly now?: Date;
}

/** The latest data of one partition, as far as staleness needs it. */
interface Detail {
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly depsVersion: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

/** One asset's partitions, aligned by position with its partition keys at the clock. */
interface AssetState {
  readonly key: string;
  readonly source: boolean;
  readonly partitions: readonly (string | null)[];
  /** Sequence number of each partition's latest data; 0 when it has none. */
  readonly seqs: Float64Array;
  /** Sequence number at which each partition read its inputs. */
  readonly readSeqs: Float64Array;
  /** 1 where the partition is stale (never set for sources). */
  readonly stale: Uint8Array;
}

const MISSING: readonly StaleReason[] = Object.freeze([Object.freeze({ kind: 'missing' as const })]);

/**
 * Finds every stale asset partition, with its reasons, from stored state in bulk.
 *
 * One pass over the latest-materialization index gives, per asset, its partition count, key
 * bounds, code and dependency version bounds, and the data sequence numbers of its partitions.
 * Comparing sequence numbers along every edge (through the partition mappings) finds the
 * partitions whose upstream data was written after they read it; only those assets, and
 * assets whose code or dependency versions disagree or that have failed attempts, have their
 * full records read to confirm and name the reason. Upstream staleness then propagates in
 * topological order.
 *
 * @example
 * const report = await computeStaleness({ project, storage, keys: ['marts/fct_sales'] });
 * for (const p of report.stale) console.log(p.key, p.partition, p.reasons[0]?.kind);
 */
export async function computeStaleness(options: ComputeStalenessOptions): Promise<StalenessReport> {
  const { project, storage } = options;
  const { graph } = project;
  const now = options.now ?? new Date();
  const asked = options.keys === undefined ? undefined : new Set(options.keys);
  const involved = asked === undefined ? graph.keys : graph.sortTopologically(new Set([...asked, ...graph.upstream(asked)]));
  const materialized = involved.filter((k) => !graph.spec(k).source);

  const [summaryList, failureList] = await Promise.all([
    storage.dataSummaries(involved),
    storage.latestStepFailures(asked === undefined ? undefined : materialized),
  ]);
  const summaries = new Map(summaryList.map((s) => [s.key, s]));
  const failures = groupBy(failureList, (f) => f.assetKey);
  const index = new PartitionIndex(now);

  // Assets whose stored partitions are not exactly their current ones need their keys to align.
  const unaligned = involved.filter((key) => {
    const summary = summaries.get(key);
    return summary !== undefined && !aligned(summary, index.keys(graph.spec(key).partitions));
  });
  const storedKeys = await storage.dataPartitionKeys(unaligned);

  const states = new Map<string, AssetState>();
  const details = new DetailCache(storage);
  const stale: StalePartition[] = [];
  const byAsset = new Map<string, Map<string | null, readonly StaleReason[]>>();

  for (const key of involved) {
    const spec = graph.spec(key);
    const partitions = index.keys(spec.partitions);
    const summary = summaries.get(key);
    const state = alignState(key, spec.source === true, partitions, summary, storedKeys.get(key), index.positions(spec.partitions));
    states.set(key, state);
    if (state.source) continue;

    const parentKeys = graph.parents(key);
    const parents = parentKeys.map((parent) => {
      const parentSpec = graph.spec(parent);
      return { key: parent, state: states.get(parent) as AssetState, up: index.upstream(mappingOf(spec, parentSpec), spec.partitions, parentSpec.partitions) };
    });
    const reasons = new Map<number, StaleReason[]>();
    const add = (i: number, reason: StaleReason) => {
      const list = reasons.get(i);
      if (list) list.push(reason);
      else reasons.set(i, [reason]);
    };
    const candidates = findCandidates(state, parents, add);

    const codeVersion = project.codeVersions.get(key) ?? '';
    const depsVersion = depsVersionOf(parentKeys);
    const codeSuspect = summary !== undefined && (summary.minCodeVersion !== codeVersion || summary.maxCodeVersion !== codeVersion);
    const depsSuspect = summary !== undefined && !(knownOrEqual(summary.minDepsVersion, depsVersion) && knownOrEqual(summary.maxDepsVersion, depsVersion));
    const myFailures = failures.get(key) ?? [];
    if (codeSuspect || depsSuspect || candidates.length > 0 || myFailures.length > 0) {
      const mine = await details.of(key, false, partitions);
      if (codeSuspect || depsSuspect) {
        mine.forEach((detail, i) => {
          if (detail.codeVersion !== codeVersion) add(i, { kind: 'code_changed', recorded: detail.codeVersion, current: codeVersion });
          if (detail.depsVersion !== '' && detail.depsVersion !== depsVersion)
            add(i, { kind: 'dependencies_changed', ...dependencyChange(detail.inputs, parentKeys) });
        });
      }
      for (const [i, p, j] of candidates) {
        const parent = parents[p] as (typeof parents)[number];
        const current = (await details.of(parent.key, parent.state.source, parent.state.partitions)).get(j);
        const upstream = partitionId(parent.key, parent.state.partitions[j] ?? null);
        const consumed = mine.get(i)?.inputs[upstream] ?? null;
        // Data that came and went again after this partition was built without it changes nothing.
        const cameAndWent = consumed === null && current?.dataVersion === GONE_DATA_VERSION;
        if (current !== undefined && consumed !== current.dataVersion && !cameAndWent)
          add(i, { kind: 'upstream_changed', upstream, consumed, current: current.dataVersion });
      }
      const positions = index.positions(spec.partitions);
      for (const failure of myFailures) {
        const i = positions.get(failure.partition);
        if (i === undefined) continue;
        if (lastAttemptFailed(mine.get(i), failure)) {
          add(i, { kind: 'failed', runId: failure.runId, message: failure.message, at: failure.timestamp });
        }
      }
    }

    // A complete asset with no reason found is fresh: skip the walk over its partitions.
    if (reasons.size === 0 && summary !== undefined && state.seqs === summary.seqs) continue;
    const reported = asked === undefined || asked.has(key);
    const mineByPartition = new Map<string | null, readonly StaleReason[]>();
    for (let i = 0; i < partitions.length; i++) {
      const list = state.seqs[i] === 0 ? withMissing(reasons.get(i)) : reasons.get(i);
      if (list === undefined) continue;
      if (list.length > 1) list.sort((a, b) => REASON_RANK[a.kind] - REASON_RANK[b.kind]);
      state.stale[i] = 1;
      if (!reported) continue;
      const partition = partitions[i] ?? null;
      stale.push({ key, partition, reasons: list });
      mineByPartition.set(partition, list);
    }
    if (mineByPartition.size > 0) byAsset.set(key, mineByPartition);
  }

  return {
    stale,
    now,
    reasonsOf: (key, partition) => byAsset.get(key)?.get(partition),
  };
}

/**
 * Walks every materialized partition's upstream partitions: one written after the partition
 * read its inputs is a candidate (its versions are compared later); one that is stale, missing
 * included, makes the partition `upstream_stale` (once per parent), whether or not it is also a
 * candidate: a `--stale-only` run builds it, and the partition must follow in the same run, or
 * one run would not leave everything fresh. Source partitions are never stale: one that has not
 * landed makes nothing stale until it does (then `upstream_changed`). Returns candidates as
 * `[position, parent index, parent position]`.
 */
function findCandidates(
  state: AssetState,
  parents: readonly { readonly key: string; readonly state: AssetState; readonly up: UpstreamIndexes }[],
  add: (i: number, reason: StaleReason) => void,
): [number, number, number][] {
  const candidates: [number, number, number][] = [];
  const { seqs, readSeqs } = state;
  for (let p = 0; p < parents.length; p++) {
    const { key, state: upstream, up } = parents[p] as (typeof parents)[number];
    const { offsets, indexes } = up;
    for (let i = 0; i < seqs.length; i++) {
      if (seqs[i] === 0) continue;
      const readSeq = readSeqs[i] as number;
      let staleUpstream = -1;
      for (let k = offsets[i] as number; k < (offsets[i + 1] as number); k++) {
        const j = indexes[k] as number;
        const seq = upstream.seqs[j] as number;
        if (seq > readSeq) candidates.push([i, p, j]);
        // Independent of the test above: a rewrite with the same data version is no change, but
        // the rewritten partition may be stale since. A missing one is stale too: it will be built.
        if (staleUpstream === -1 && upstream.stale[j] === 1) staleUpstream = j;
      }
      if (staleUpstream !== -1) add(i, { kind: 'upstream_stale', upstream: partitionId(key, upstream.partitions[staleUpstream] ?? null) });
    }
  }
  return candidates;
}

/** True when the stored partitions are exactly `partitions` (same count and bounds of sorted unique keys). */
function aligned(summary: AssetDataSummary, partitions: readonly (string | null)[]): boolean {
  return summary.count === partitions.length && summary.first === (partitions[0] ?? '') && summary.last === (partitions.at(-1) ?? '');
}

function alignState(
  key: string,
  source: boolean,
  partitions: readonly (string | null)[],
  summary: AssetDataSummary | undefined,
  storedKeys: readonly string[] | undefined,
  positions: ReadonlyMap<string | null, number>,
): AssetState {
  const stale = new Uint8Array(partitions.length);
  if (summary !== undefined && aligned(summary, partitions)) return { key, source, partitions, seqs: summary.seqs, readSeqs: summary.readSeqs, stale };
  const seqs = new Float64Array(partitions.length);
  const readSeqs = new Float64Array(partitions.length);
  if (summary !== undefined && storedKeys !== undefined) {
    storedKeys.forEach((stored, s) => {
      const i = positions.get(stored === '' ? null : stored);
      if (i === undefined) return;
      seqs[i] = summary.seqs[s] as number;
      readSeqs[i] = summary.readSeqs[s] as number;
    });
  }
  return { key, source, partitions, seqs, readSeqs, stale };
}

/** Full latest records of the assets that need them, by partition position, read once each. */
class DetailCache {
  readonly #storage: Storage;
  readonly #loaded = new Map<string, Promise<Map<number, Detail>>>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  of(key: string, source: boolean, partitions: readonly (string | null)[]): Promise<Map<number, Detail>> {
    let found = this.#loaded.get(key);
    if (found === undefined) {
      found = this.#load(key, source, partitions);
      this.#loaded.set(key, found);
    }
    return found;
  }

  async #load(key: string, source: boolean, partitions: readonly (string | null)[]): Promise<Map<number, Detail>> {
    const positions = new Map(partitions.map((p, i) => [p, i]));
    const byPosition = new Map<number, Detail>();
    const put = (partition: string | null, detail: Detail) => {
      const i = positions.get(partition);
      if (i !== undefined) byPosition.set(i, detail);
    };
    if (source) {
      for (const o of await this.#storage.latestObservations([key])) {
        put(o.partition, { dataVersion: o.dataVersion, codeVersion: '', depsVersion: '', inputs: {}, timestamp: o.timestamp });
      }
    } else {
      for (const m of await this.#storage.latestMaterializations([key])) {
        put(m.partition, {
          dataVersion: m.dataVersion,
          codeVersion: m.codeVersion,
          depsVersion: m.depsVersion ?? '',
          inputs: m.inputDataVersions,
          timestamp: m.timestamp,
        });
      }
    }
    return byPosition;
  }
}

/** Which upstream assets a partition read that are no longer dependencies, and which new ones it did not read. */
function dependencyChange(inputs: Readonly<Record<string, string>>, parents: readonly string[]): { added: string[]; removed: string[] } {
  const read = new Set(Object.keys(inputs).map((id) => (id.includes('@') ? id.slice(0, id.indexOf('@')) : id)));
  return { added: parents.filter((p) => !read.has(p)), removed: [...read].filter((p) => !parents.includes(p)).sort() };
}

/** A recorded dependency version agrees when it is unknown (`''`, written before versions were recorded) or equal. */
function knownOrEqual(recorded: string, current: string): boolean {
  return recorded === '' || recorded === current;
}

function withMissing(reasons: StaleReason[] | undefined): StaleReason[] {
  return reasons === undefined ? (MISSING as StaleReason[]) : [...MISSING, ...reasons];
}
