import { closestKeys } from '../core/model/collections/key-compare.ts';
import { NotFoundError } from '../core/model/errors.ts';
import type { Project } from '../core/model/project.ts';
import type { SqlMaterialization } from '../core/model/definitions/asset-spec.ts';
import { selectAssets } from '../core/model/selection/index.ts';
import { computeStaleness } from '../core/model/staleness/compute-staleness.ts';
import type { MaterializationRecord, Storage } from '../storage/storage.ts';
import { readAssetStates, type AssetState } from '../core/model/status/asset-states.ts';
import { summarizeChecks, type CheckSummary } from './check-summary.ts';

/** One row of `GET /api/assets`. */
export interface AssetSummary extends AssetState {
  /** e.g. `['sql', 'duckdb']` (see `AssetSpec.kinds`). */
  readonly kinds: readonly string[];
  readonly group: string;
  readonly deps: readonly string[];
  /** Assets only its checks read: built first, not counted for staleness. */
  readonly checkDeps: readonly string[];
  readonly description: string | null;
  readonly partitioned: boolean;
  readonly source: boolean;
  /** Stale partitions (1 for a stale unpartitioned asset); `null` for source assets. */
  readonly stale: number | null;
}

/** `GET /api/assets/*key`: the spec, its code, and what storage knows about the asset. */
export interface AssetDetail {
  readonly key: string;
  readonly kinds: readonly string[];
  readonly group: string;
  readonly deps: readonly string[];
  /** Assets only its checks read: built first, not counted for staleness. */
  readonly checkDeps: readonly string[];
  readonly dependents: readonly string[];
  /** Assets whose checks (only) read this one. */
  readonly checkDependents: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly owners: readonly string[];
  readonly description: string | null;
  /** Descriptions of some of its columns, by column name (`{}` when none). */
  readonly columnDescriptions: Readonly<Record<string, string>>;
  readonly source: boolean;
  readonly compute: 'sql' | 'typescript' | 'seed' | 'source';
  /** Project-relative file it is defined in (never an absolute path). */
  readonly file: string | null;
  /** The SQL of a SQL asset, else `null`. */
  readonly sql: string | null;
  readonly materialization: SqlMaterialization | null;
  readonly codeVersion: string | null;
  /** The partitions definition as text, e.g. `daily(start=2025-01-01)`; `null` if unpartitioned. */
  readonly partitions: string | null;
  readonly partitionColumn: string | null;
  /** Each check with its latest result per partition summed up; full results: `GET /api/history/KEY`. */
  readonly checks: readonly CheckSummary[];
  readonly state: AssetState;
  /** Stale partitions (1 for a stale unpartitioned asset); `null` for source assets. */
  readonly stale: number | null;
  readonly latestMaterialization: MaterializationRecord | null;
}

/**
 * Every asset of `selection` (all when `undefined`) with its state, and its stale count from
 * the staleness report. Sources are not re-observed: a GET writes nothing.
 */
export async function listAssets(project: Project, storage: Storage, selection: string | undefined, now = new Date()): Promise<AssetSummary[]> {
  const { graph } = project;
  const keys = selection === undefined ? [...graph.keys] : selectAssets(graph, selection).keys;
  const materializable = keys.filter((k) => !graph.spec(k).source);
  const report = await computeStaleness({ project, storage, keys: materializable, now });
  const states = await readAssetStates(project, storage, keys, report);
  return states.map((state) => {
    const spec = graph.spec(state.key);
    return {
      ...state,
      kinds: spec.kinds,
      group: spec.group,
      deps: [...spec.deps],
      checkDeps: graph.checkParents(state.key),
      description: spec.description ?? null,
      partitioned: spec.partitions !== undefined,
      source: spec.source === true,
      stale: state.staleness?.partitions ?? null,
    };
  });
}

/** One asset in detail; a {@link NotFoundError} (with "did you mean") for an unknown key. */
export async function describeAsset(project: Project, storage: Storage, key: string, now = new Date()): Promise<AssetDetail> {
  const { graph } = project;
  const definition = project.definitions.get(key);
  if (!definition || !graph.has(key)) throw unknownAsset(project, key);
  const { spec, compute } = definition;
  const report = await computeStaleness({ project, storage, keys: spec.source ? [] : [key], now });
  const [[state], [latestMaterialization], latestCheckResults] = await Promise.all([
    readAssetStates(project, storage, [key], report),
    storage.materializationHistory(key, { limit: 1 }),
    storage.latestCheckResults([key]),
  ]);
  return {
    key,
    kinds: spec.kinds,
    group: spec.group,
    deps: [...spec.deps],
    checkDeps: graph.checkParents(key),
    dependents: graph.children(key),
    checkDependents: graph.checkChildren(key),
    tags: spec.tags,
    owners: spec.owners,
    description: spec.description ?? null,
    columnDescriptions: spec.columnDescriptions ?? {},
    source: spec.source === true,
    compute: compute.type,
    file: definition.file ?? null,
    sql: compute.type === 'sql' ? compute.sql : null,
    materialization: compute.type === 'sql' ? compute.materialization : compute.type === 'seed' ? 'table' : null,
    codeVersion: project.codeVersions.get(key) ?? null,
    partitions: spec.partitions?.toString() ?? null,
    partitionColumn: spec.partitionColumn ?? null,
    checks: summarizeChecks(spec.checks, latestCheckResults),
    state: state as AssetState,
    stale: state?.staleness?.partitions ?? null,
    latestMaterialization: latestMaterialization ?? null,
  };
}

/** The 404 for a key the project does not define, with suggestions. */
export function unknownAsset(project: Project, key: string): NotFoundError {
  const hint = closestKeys(key, project.graph.keys);
  return new NotFoundError(`unknown asset "${key}"${hint.length ? ` (did you mean ${hint.map((h) => `"${h}"`).join(', ')}?)` : ''}`, { assetKey: key });
}
