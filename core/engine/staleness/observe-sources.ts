import { ResourceError, StrataError } from '../../model/errors.ts';
import { retryDelayMs, type RetryPolicy } from '../../model/definitions/retry-policy.ts';
import { abortableSleep } from '../../model/run-timing.ts';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { LandingZone, StepLogger } from '../../model/definitions/asset-context.ts';
import {
  GONE_DATA_VERSION,
  type ObserveContext,
  type PreviousObservation,
  type SourceObservation,
  type WarehouseReader,
} from '../../model/definitions/source-asset.ts';
import type { Project } from '../../model/project.ts';
import type { ObservationRecord } from '../../../storage/staleness-store.ts';
import type { Storage } from '../../../storage/storage.ts';
import { ResourceSet } from '../../../resources/resource-set.ts';
import { observeHandles } from '../../../resources/resource-handles.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import { openProjectWarehouse } from '../project-warehouse.ts';

/** What {@link observeSources} needs. */
export interface ObserveSourcesOptions {
  readonly project: Project;
  readonly storage: Storage;
  readonly landing: LandingZone;
  /** Only these source assets (default: every source of the project; other keys are ignored). */
  readonly keys?: readonly string[];
  /** The clock: which partitions exist. */
  readonly now?: Date;
  readonly signal?: AbortSignal;
  /** Receives what `observe` logs, with the source's key. */
  readonly onLog?: (key: string, level: 'info' | 'warn', message: string) => void;
  /** Called when an attempt failed and another follows after `delayMs` (the source's retry policy, else the project's). */
  readonly onRetry?: (retry: ObservationRetry) => Promise<void> | void;
  /**
   * Called when a source's last attempt failed; the other sources are still observed. Without
   * it, the failure throws.
   */
  readonly onFailure?: (failure: ObservationFailure) => Promise<void> | void;
  /** Waits between attempts; resolves `false` when `signal` aborts (default: real time). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
  /** A number in [0, 1), for the retry policy's jitter. */
  readonly random?: () => number;
  /** The resources `observe` uses (a run's); default: the project's, opened for this pass and closed after. */
  readonly resources?: ResourceSet;
  /**
   * The warehouse `ctx.warehouse` reads (a run's). Default: the project's, opened on a source's
   * first query (waiting while another process holds it) and closed after the pass.
   */
  readonly warehouse?: WarehouseReader;
}

/** A failed observation attempt that will be retried. */
export interface ObservationRetry {
  readonly key: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly delayMs: number;
  readonly error: string;
}

/** A source whose observation failed after its retries. */
export interface ObservationFailure {
  readonly key: string;
  readonly attempts: number;
  /** `observation_failed`, naming the source and the cause. */
  readonly error: StrataError;
}

/** What one pass of observation found. */
export interface ObservationSummary {
  /** Source assets observed. */
  readonly sources: readonly string[];
  /** Partitions observed. */
  readonly observed: number;
  /** Observations with a new data version (recorded with a new sequence number). */
  readonly changed: readonly ObservationRecord[];
  /** Sources whose observation failed (only with `onFailure`; nothing of theirs is recorded). */
  readonly failed: readonly string[];
}

/**
 * Observes source assets: calls each one's `observe(ctx)` with its previous observations and
 * records what it found. Only partitions whose data version changed get a new sequence number,
 * which is what makes their downstream partitions stale. A partition observed with data before
 * that `observe` leaves out now is recorded as gone ({@link GONE_DATA_VERSION}): a deleted file
 * is a change too. Throws a {@link StrataError} naming the source when `observe` fails or
 * returns a partition that does not exist.
 */
export async function observeSources(options: ObserveSourcesOptions): Promise<ObservationSummary> {
  let opened: Promise<Warehouse> | undefined;
  const warehouse: WarehouseReader = options.warehouse ?? {
    query: async (sql) => {
      opened ??= openProjectWarehouse(options.project.config, options.signal === undefined ? {} : { signal: options.signal });
      return (await opened).query(sql);
    },
  };
  const resources = options.resources ?? new ResourceSet(options.project.config.resources);
  try {
    return await observeWith(options, resources, warehouse);
  } finally {
    if (options.resources === undefined) await resources.close();
    if (opened !== undefined) await (await opened.catch(() => undefined))?.close();
  }
}

async function observeWith(options: ObserveSourcesOptions, resources: ResourceSet, warehouse: WarehouseReader): Promise<ObservationSummary> {
  const { project, storage, landing } = options;
  const now = options.now ?? new Date();
  const signal = options.signal ?? new AbortController().signal;
  const wanted = options.keys === undefined ? undefined : new Set(options.keys);
  const sources = project.graph.keys.filter((k) => project.graph.spec(k).source && (wanted === undefined || wanted.has(k)));
  if (sources.length === 0) return { sources: [], observed: 0, changed: [], failed: [] };

  const previousByKey = new Map<string, Map<string | null, PreviousObservation>>();
  for (const o of await storage.latestObservations(sources)) {
    let map = previousByKey.get(o.assetKey);
    if (map === undefined) previousByKey.set(o.assetKey, (map = new Map()));
    // A gone partition has no data to compare with: `observe` sees it as never observed.
    if (o.dataVersion !== GONE_DATA_VERSION) map.set(o.partition, { dataVersion: o.dataVersion, metadata: o.metadata });
  }
  const records: ObservationRecord[] = [];
  const failed: string[] = [];
  const handles = observeHandles(resources, signal);
  for (const key of sources) {
    const definition = project.definitions.get(key);
    if (definition?.compute.type !== 'source') continue;
    const partitions = definition.spec.partitions?.keys(now) ?? null;
    const policy = definition.spec.retryPolicy ?? project.config.retries;
    const attempt = () => {
      const onLog = options.onLog ?? (() => undefined);
      const log: StepLogger = { info: (message) => onLog(key, 'info', message), warn: (message) => onLog(key, 'warn', message) };
      return observeOnce(definition, { key, partitions, previous: previousByKey.get(key) ?? new Map(), landing, log, signal, resources: handles, warehouse });
    };
    const outcome = await withRetries(key, attempt, policy, signal, options);
    if (!outcome.ok) {
      if (options.onFailure === undefined) throw outcome.error;
      await options.onFailure({ key, attempts: outcome.attempts, error: outcome.error });
      failed.push(key);
      continue;
    }
    const found = outcome.found;
    const valid = partitions === null ? undefined : new Set(partitions);
    const timestamp = Date.now();
    const mine = found.map((observation) => checked(key, observation, valid, timestamp));
    // One push each: spreading a source's partitions into push() overflows the stack past ~120k.
    for (const record of mine) records.push(record);
    for (const record of goneSince(key, previousByKey.get(key), mine, valid, timestamp)) records.push(record);
  }
  const changed = await storage.recordObservations(records);
  return { sources, observed: records.length, changed, failed };
}

function observeOnce(definition: AssetDefinition, ctx: ObserveContext): Promise<readonly SourceObservation[]> {
  if (definition.compute.type !== 'source') throw new Error(`${definition.spec.key} is not a source asset`);
  return Promise.resolve(definition.compute.observe(ctx));
}

type Outcome =
  | { readonly ok: true; readonly found: readonly SourceObservation[] }
  | { readonly ok: false; readonly attempts: number; readonly error: StrataError };

/**
 * Runs `attempt` until it succeeds or `policy`'s retries are spent, waiting its delays between
 * attempts. A canceled run (aborted `signal`) is never retried: its error is thrown; nor is a
 * resource's bad configuration.
 */
async function withRetries(
  key: string,
  attempt: () => Promise<readonly SourceObservation[]>,
  policy: RetryPolicy,
  signal: AbortSignal,
  options: ObserveSourcesOptions,
): Promise<Outcome> {
  const sleep = options.sleep ?? abortableSleep;
  for (let n = 1; ; n++) {
    try {
      return { ok: true, found: await attempt() };
    } catch (error) {
      if (signal.aborted) throw error;
      const cause = error instanceof Error ? error.message : String(error);
      // A resource's bad configuration (an env: variable not set) is not a passing fault.
      if (n > policy.maxRetries || (error instanceof ResourceError && error.userError)) {
        const failure = new StrataError('observation_failed', `observing source ${key} failed: ${cause}`, { assetKey: key }, false, { cause: error });
        return { ok: false, attempts: n, error: failure };
      }
      const delayMs = retryDelayMs(policy, n, options.random);
      await options.onRetry?.({ key, attempt: n, maxAttempts: policy.maxRetries + 1, delayMs, error: cause });
      if (!(await sleep(delayMs, signal))) throw new StrataError('canceled', `canceled while waiting to observe ${key} again`, { assetKey: key }, false);
    }
  }
}

function checked(key: string, o: SourceObservation, valid: ReadonlySet<string> | undefined, timestamp: number): ObservationRecord {
  const partition = o.partition ?? null;
  const fail = (message: string) => new StrataError('observation_invalid', `source ${key}: ${message}`, { assetKey: key, ...(partition ? { partition } : {}) });
  if (valid === undefined && partition !== null) throw fail(`is unpartitioned but observe returned partition "${partition}"`);
  if (valid !== undefined && (partition === null || !valid.has(partition)))
    throw fail(`observe returned partition "${partition}", which is not one of its partitions`);
  if (typeof o.dataVersion !== 'string' || o.dataVersion === '') throw fail('observe returned an empty data version');
  if (o.dataVersion === GONE_DATA_VERSION) throw fail(`observe returned the data version "${GONE_DATA_VERSION}", which is reserved for data that is gone`);
  return { assetKey: key, partition, timestamp, dataVersion: o.dataVersion, metadata: o.metadata ?? {} };
}

/**
 * Gone observations of the partitions of `key` that had data (`previous`) and that this
 * observation (`found`) left out, among the partitions that exist (`valid`; unpartitioned: all).
 */
function goneSince(
  key: string,
  previous: ReadonlyMap<string | null, PreviousObservation> | undefined,
  found: readonly ObservationRecord[],
  valid: ReadonlySet<string> | undefined,
  timestamp: number,
): ObservationRecord[] {
  if (previous === undefined) return [];
  const seen = new Set(found.map((o) => o.partition));
  const gone: ObservationRecord[] = [];
  for (const [partition, last] of previous) {
    if (seen.has(partition) || (valid === undefined ? partition !== null : partition === null || !valid.has(partition))) continue;
    gone.push({ assetKey: key, partition, timestamp, dataVersion: GONE_DATA_VERSION, metadata: { ...last.metadata, gone: true } });
  }
  return gone;
}
