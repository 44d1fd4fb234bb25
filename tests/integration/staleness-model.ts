/**
 * A model of a Strata project for the model-based staleness test: random asset graphs (time
 * windows, roll-ups, static and unpartitioned assets; identity and window mappings) whose
 * TypeScript assets record in the model what they read and wrote, and a brute-force oracle of
 * the README's definition of *stale* computed from the model alone (no storage, no sequence
 * numbers, no partition-mapping code of Strata's).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { asset, type AssetDefinition, type DependencyOption } from '../../core/model/definitions/asset-spec.ts';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import { daily, monthly, staticPartitions, timeWindow, type PartitionsDefinition } from '../../core/model/partitions/index.ts';
import { partitionId } from '../../core/model/definitions/asset-key.ts';
import { REASON_RANK, type StalePartition, type StaleReason } from '../../core/model/staleness/stale-partition.ts';

/** Unpartitioned, daily (four days across a month end), monthly (two months), static (three keys). */
export type Cadence = 'U' | 'D' | 'M' | 'S';

const KEYS: Readonly<Record<Cadence, readonly (string | null)[]>> = {
  U: [null],
  D: ['2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02'],
  M: ['2025-01-01', '2025-02-01'],
  S: ['a', 'b', 'c'],
};

/** The clock of every case: all partitions above exist. */
export const MODEL_NOW = new Date('2025-03-15T00:00:00Z');

function definitionOf(cadence: Cadence): PartitionsDefinition | undefined {
  if (cadence === 'D') return daily({ start: '2025-01-30', end: '2025-02-03', timezone: 'UTC' });
  if (cadence === 'M') return monthly({ start: '2025-01-01', end: '2025-03-01', timezone: 'UTC' });
  if (cadence === 'S') return staticPartitions(['a', 'b', 'c']);
  return undefined;
}

/** One dependency: the parent's index and, between two daily assets, an explicit window. */
export interface ModelEdge {
  readonly parent: number;
  readonly window?: readonly [number, number];
}

export interface ModelAsset {
  readonly key: string;
  readonly source: boolean;
  readonly cadence: Cadence;
  readonly parents: readonly ModelEdge[];
  /** One step over a whole range instead of one step per partition. */
  readonly singleRun: boolean;
  /** Returns its own data version (one for the whole step) instead of letting Strata derive it. */
  readonly explicitVersion: boolean;
}

/** Something that happens to the project between two staleness questions. */
export type ModelOp =
  | { readonly type: 'write'; readonly asset: number; readonly partition: number | 'all'; readonly newData: boolean }
  | { readonly type: 'fail'; readonly asset: number; readonly partition: number | 'all' }
  | { readonly type: 'source'; readonly asset: number; readonly partition: number; readonly remove: boolean }
  | { readonly type: 'code'; readonly asset: number };

export interface ModelCase {
  readonly assets: readonly ModelAsset[];
  /** Per source asset: how many of its partitions have landed at the start. */
  readonly landed: readonly number[];
  readonly ops: readonly ModelOp[];
}

const cadence = fc.constantFrom<Cadence>('U', 'D', 'M', 'S');

/** Random cases: 2 to 6 assets, sources first, each asset reading any earlier ones. */
export const modelCases: fc.Arbitrary<ModelCase> = fc
  .integer({ min: 2, max: 6 })
  .chain((count) =>
    fc.record({
      assets: fc.tuple(
        ...Array.from({ length: count }, (_, i) =>
          fc.record({
            source: i < 2 ? fc.boolean() : fc.constant(false),
            cadence,
            parents: fc.subarray(Array.from({ length: i }, (_, p) => p)),
            windows: fc.array(fc.constantFrom<readonly [number, number] | undefined>(undefined, [-1, 0], [0, 1], [-2, -1]), { minLength: i, maxLength: i }),
            singleRun: fc.boolean(),
            explicitVersion: fc.boolean(),
          }),
        ),
      ),
      landed: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: count, maxLength: count }),
      ops: fc.array(
        fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record({
              type: fc.constant('write' as const),
              asset: fc.nat(count - 1),
              partition: fc.oneof(fc.constant('all' as const), fc.nat(3)),
              newData: fc.boolean(),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ type: fc.constant('fail' as const), asset: fc.nat(count - 1), partition: fc.oneof(fc.constant('all' as const), fc.nat(3)) }),
          },
          { weight: 2, arbitrary: fc.record({ type: fc.constant('source' as const), asset: fc.nat(count - 1), partition: fc.nat(3), remove: fc.boolean() }) },
          { weight: 1, arbitrary: fc.record({ type: fc.constant('code' as const), asset: fc.nat(count - 1) }) },
        ),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  )
  .map(({ assets, landed, ops }) => {
    const shaped: ModelAsset[] = [];
    assets.forEach((a, i) => {
      // A source reads nothing; a parent that is a source of another cadence is fine.
      const parents = a.source
        ? []
        : a.parents.map((p) => ({ parent: p, ...(a.cadence === 'D' && assets[p]?.cadence === 'D' && a.windows[p] ? { window: a.windows[p] } : {}) }));
      shaped.push({ key: `l${i}/a${i}`, source: a.source, cadence: a.cadence, parents, singleRun: a.singleRun, explicitVersion: a.explicitVersion });
    });
    return { assets: shaped, landed, ops };
  });

/** What one partition holds after its latest successful write. */
interface Built {
  readonly version: string;
  readonly code: number;
  /** Upstream partition id → the data version read. */
  readonly consumed: ReadonlyMap<string, string>;
}

/** The state of the project as the model sees it, and the definitions that keep it. */
export class ProjectModel {
  readonly assets: readonly ModelAsset[];
  readonly #code: number[];
  readonly #nonce: number[];
  readonly #built = new Map<string, Built>();
  readonly #failed = new Set<string>();
  readonly #sources = new Map<string, string>();
  #writes = 0;
  /** While set, every materialization fails (a `fail` op). */
  failing = false;

  constructor(modelCase: ModelCase) {
    this.assets = modelCase.assets;
    this.#code = this.assets.map(() => 1);
    this.#nonce = this.assets.map(() => 0);
    this.assets.forEach((a, i) => {
      if (!a.source) return;
      KEYS[a.cadence]
        .slice(0, a.cadence === 'U' ? Math.min(1, modelCase.landed[i] ?? 0) : (modelCase.landed[i] ?? 0))
        .forEach((p) => this.#sources.set(partitionId(a.key, p), 'v0'));
    });
  }

  /** Partition keys of asset `i`. */
  keysOf(i: number): readonly (string | null)[] {
    return KEYS[(this.assets[i] as ModelAsset).cadence];
  }

  /** A new version of one partition of source `i` (it lands if it had not), or its data goes away. */
  changeSource(i: number, partition: string | null, remove: boolean): void {
    const id = partitionId((this.assets[i] as ModelAsset).key, partition);
    if (remove) this.#sources.delete(id);
    else this.#sources.set(id, `v${++this.#writes}`);
  }

  editCode(i: number): void {
    this.#code[i] = (this.#code[i] as number) + 1;
  }

  bumpData(i: number): void {
    this.#nonce[i] = (this.#nonce[i] as number) + 1;
  }

  /** Strata definitions of the model's assets as they are now (code versions included). */
  definitions(): AssetDefinition[] {
    return this.assets.map((a, i) => {
      const partitions = definitionOf(a.cadence);
      if (a.source) {
        return sourceAsset({
          key: a.key,
          ...(partitions ? { partitions } : {}),
          observe: (ctx) =>
            (ctx.partitions ?? [null]).flatMap((p) => {
              const version = this.#sources.get(partitionId(a.key, p));
              return version === undefined ? [] : [{ partition: p, dataVersion: version }];
            }),
        });
      }
      const deps: DependencyOption[] = a.parents.map((e) => {
        const parent = (this.assets[e.parent] as ModelAsset).key;
        return e.window ? { key: parent, mapping: timeWindow({ startOffset: e.window[0], endOffset: e.window[1] }) } : { key: parent };
      });
      return asset({
        key: a.key,
        deps,
        ...(partitions ? { partitions } : {}),
        ...(a.singleRun ? { backfillPolicy: { type: 'single_run' as const } } : {}),
        codeVersion: `c${this.#code[i]}`,
        materialize: (ctx) => this.#materialize(i, ctx.partition?.keys ?? [null]),
      });
    });
  }

  /** What the asset does when Strata runs it: fail, or record what it read and wrote. */
  #materialize(i: number, partitions: readonly (string | null)[]): { dataVersion?: string } {
    const a = this.assets[i] as ModelAsset;
    if (this.failing) {
      for (const p of partitions) this.#failed.add(partitionId(a.key, p));
      throw new Error('injected failure');
    }
    const code = this.#code[i] as number;
    const reads = partitions.map((p) => this.#read(i, p));
    const stepVersion = `e:${code}:${this.#nonce[i]}:${digest(reads.map((r) => [...r]))}`;
    partitions.forEach((p, n) => {
      const consumed = reads[n] as Map<string, string>;
      // Strata's derived version: code, partition and inputs; a write that read nothing is new data.
      const version = a.explicitVersion ? stepVersion : consumed.size === 0 ? `w${++this.#writes}` : `d:${code}:${p}:${digest([...consumed])}`;
      const id = partitionId(a.key, p);
      this.#built.set(id, { version, code, consumed });
      this.#failed.delete(id);
    });
    return a.explicitVersion ? { dataVersion: stepVersion } : {};
  }

  /** The versions of the upstream partitions partition `p` of asset `i` reads, where they have data. */
  #read(i: number, p: string | null): Map<string, string> {
    const consumed = new Map<string, string>();
    for (const edge of (this.assets[i] as ModelAsset).parents) {
      for (const u of this.upstreamOf(i, edge, p)) {
        const version = this.versionOf(u);
        if (version !== undefined) consumed.set(u, version);
      }
    }
    return consumed;
  }

  /** The current data version of an asset partition id, if it has data. */
  versionOf(id: string): string | undefined {
    return this.#sources.get(id) ?? this.#built.get(id)?.version;
  }

  /**
   * The upstream partition ids that partition `p` of asset `i` reads through `edge`, in the
   * parent's key order: written from the README's mapping rules, not with Strata's code.
   */
  upstreamOf(i: number, edge: ModelEdge, p: string | null): string[] {
    const child = this.assets[i] as ModelAsset;
    const parent = this.assets[edge.parent] as ModelAsset;
    const keys = KEYS[parent.cadence];
    const ids = (list: readonly (string | null)[]) => list.map((k) => partitionId(parent.key, k));
    if (parent.cadence === 'U' || child.cadence === 'U') return ids(keys);
    const timed = (c: Cadence) => c === 'D' || c === 'M';
    if (!timed(child.cadence) || !timed(parent.cadence)) {
      // Static keys map one to one onto the same static keys; static and time partitions read all.
      return child.cadence === parent.cadence ? ids([p]) : ids(keys);
    }
    const day = p as string;
    if (child.cadence === 'D' && parent.cadence === 'D') {
      const [start, end] = edge.window ?? [0, 0];
      const at = keys.indexOf(day);
      return ids(keys.filter((_, k) => k >= at + start && k <= at + end));
    }
    // Overlapping windows: a day reads its month, a month reads its days.
    if (child.cadence === 'D') return ids(keys.filter((m) => (m as string).slice(0, 7) === day.slice(0, 7)));
    if (parent.cadence === 'D') return ids(keys.filter((d) => (d as string).slice(0, 7) === day.slice(0, 7)));
    return ids([p]);
  }

  /**
   * The oracle: every stale asset partition of the model, straight from the README's definition
   * (missing, failed, code changed, an upstream partition it reads has another version than the
   * one it read, data it did not read, or no longer has the data it read; an upstream partition it
   * reads is stale, missing included).
   */
  stale(): Map<string, string[]> {
    const stale = new Map<string, StaleReason[]>();
    this.assets.forEach((a, i) => {
      if (a.source) return;
      for (const p of this.keysOf(i)) {
        const id = partitionId(a.key, p);
        const built = this.#built.get(id);
        const reasons: StaleReason[] = [];
        if (!built) reasons.push({ kind: 'missing' });
        if (this.#failed.has(id)) reasons.push({ kind: 'failed', runId: '', message: '', at: 0 });
        if (built) {
          if (built.code !== this.#code[i]) reasons.push({ kind: 'code_changed', recorded: '', current: '' });
          for (const edge of a.parents) {
            const ups = this.upstreamOf(i, edge, p);
            for (const u of ups) {
              const current = this.versionOf(u);
              const consumed = built.consumed.get(u);
              // Another version, data it did not read, or data it read that is gone.
              if (current !== consumed) reasons.push({ kind: 'upstream_changed', upstream: u, consumed: null, current: current ?? '' });
            }
            const staleUp = ups.find((u) => stale.has(u));
            if (staleUp !== undefined) reasons.push({ kind: 'upstream_stale', upstream: staleUp });
          }
        }
        if (reasons.length > 0) stale.set(id, reasons);
      }
    });
    return new Map([...stale].map(([id, reasons]) => [id, normalize(reasons)]));
  }
}

/** Reasons as comparable text: kind and upstream partition, most direct first. */
export function normalize(reasons: readonly StaleReason[]): string[] {
  return reasons
    .map((r) => ({ rank: REASON_RANK[r.kind], text: 'upstream' in r ? `${r.kind} ${r.upstream}` : r.kind }))
    .sort((x, y) => x.rank - y.rank || x.text.localeCompare(y.text))
    .map((r) => r.text);
}

/** Strata's report in the oracle's shape. */
export function reportedStale(stale: readonly StalePartition[]): Map<string, string[]> {
  return new Map(stale.map((s) => [partitionId(s.key, s.partition), normalize(s.reasons)]));
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}
