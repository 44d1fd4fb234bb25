/**
 * Source assets: data that arrives from outside (landing files, a vendor's table). Strata does
 * not build them; it *observes* them, recording a data version per partition, so assets that
 * read a source become stale when the source changes.
 */

import { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import type { LandingZone, PostgresHandle, Row, StepLogger } from './asset-context.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import type { RetryPolicyOptions } from './retry-policy.ts';
import { buildSpec, formatZodIssues, makeDefinition, specFieldsSchema, type AssetDefinition } from './asset-spec.ts';

/**
 * The data version Strata records for a partition that was observed with data before and that
 * `observe` no longer returns: its data is gone (a deleted landing file). Reserved: `observe`
 * may not return it.
 */
export const GONE_DATA_VERSION = '<gone>';

/**
 * What an observation found for one partition that has data. A partitioned source returns one
 * per partition with data, `partition` set to one of `ctx.partitions`; an unpartitioned source
 * returns at most one, without `partition` (or `null`).
 */
export interface SourceObservation {
  readonly partition?: string | null;
  /**
   * Identifies the content: equal content, equal version (a content hash, an export id...).
   * Not empty, and not {@link GONE_DATA_VERSION}.
   */
  readonly dataVersion: string;
  /** What was observed (file name, size, modification time...); `ctx.previous` gives it back next time. */
  readonly metadata?: Record<string, unknown>;
}

/** The previous observation of a partition, as `observe` receives it. */
export interface PreviousObservation {
  readonly dataVersion: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What `observe(ctx)` receives. */
export interface ObserveContext {
  readonly key: string;
  /** The partitions that exist now (`null` for an unpartitioned source). */
  readonly partitions: readonly string[] | null;
  /**
   * The latest observation of each partition that has data (key `null` when unpartitioned), to
   * skip unchanged work; a partition never observed, or gone, is absent.
   */
  readonly previous: ReadonlyMap<string | null, PreviousObservation>;
  readonly landing: LandingZone;
  readonly log: StepLogger;
  readonly signal: AbortSignal;
  /** The resources of strata.json `"resources"` by name; an unknown name throws, listing the known ones. */
  readonly resources: Readonly<Record<string, PostgresHandle>>;
  /** The project's warehouse, to observe a table in it (opened on first query when nothing holds it yet). */
  readonly warehouse: WarehouseReader;
}

/** Read access to the project's warehouse, as `observe` gets it. */
export interface WarehouseReader {
  query<T extends Row = Row>(sql: string): Promise<T[]>;
}

/**
 * Observes a source: one observation per partition that has data now. Leave out a partition
 * with no data (a file not delivered, or deleted): if it had data before, Strata records it as
 * gone, and what read it becomes stale. An unpartitioned source returns `[]` when it has no
 * data. Throw when the source cannot be observed (a refused connection): the observation is
 * retried by the source's retry policy (else the project's `retries`), and nothing is recorded.
 *
 * @example
 * // A daily source of files: one observation per file present.
 * const observe: ObserveFn = async (ctx) =>
 *   (await Promise.all(ctx.partitions!.map(async (day) => {
 *     const file = ctx.landing.path(`orders_${day}.csv`);
 *     const info = await stat(file).catch(() => undefined);
 *     return info ? [{ partition: day, dataVersion: `${info.size}-${info.mtimeMs}` }] : [];
 *   }))).flat();
 */
export type ObserveFn = (ctx: ObserveContext) => Promise<readonly SourceObservation[]> | readonly SourceObservation[];

/** What {@link sourceAsset} accepts. */
export interface SourceAssetOptions {
  key: string;
  partitions?: PartitionsDefinition;
  group?: string;
  tags?: Readonly<Record<string, string>>;
  owners?: readonly string[];
  description?: string;
  /** Kinds added to `source`, e.g. `['csv']`. */
  kinds?: readonly string[];
  /** One kind added to `source`; kept for compatibility, prefer `kinds`. */
  kind?: string;
  /** How often a failing `observe` is tried again (default: strata.json `"retries"`). */
  retryPolicy?: RetryPolicyOptions;
  observe: ObserveFn;
}

const sourceOptionsSchema = z
  .object({ key: z.string(), observe: z.custom<ObserveFn>((v) => typeof v === 'function', 'observe must be a function') })
  .passthrough();

/**
 * Declares a source asset.
 *
 * @example
 * export const ordersFiles = sourceAsset({
 *   key: 'landing/orders',
 *   partitions: daily({ start: '2025-01-01' }),
 *   observe: async (ctx) => [{ partition: '2025-01-01', dataVersion: 'sha256 of the file' }],
 * });
 */
export function sourceAsset(options: SourceAssetOptions): AssetDefinition {
  const key = typeof options?.key === 'string' ? options.key : undefined;
  const fail = (error: z.ZodError) => new DefinitionError('asset_invalid', formatZodIssues(error), key ? { assetKey: key } : {});
  const parsed = sourceOptionsSchema.safeParse(options);
  if (!parsed.success) throw fail(parsed.error);
  const { key: validKey, observe, ...rest } = parsed.data;
  if (rest.freshnessPolicy !== undefined) {
    const message = 'a source asset takes no freshnessPolicy: it is observed, never materialized (give the policy to the asset that reads it)';
    throw new DefinitionError('asset_invalid', message, { assetKey: validKey });
  }
  const fields = specFieldsSchema.safeParse(rest);
  if (!fields.success) throw fail(fields.error);
  const spec = Object.freeze({ ...buildSpec(validKey, fields.data, ['source']), source: true });
  return makeDefinition(spec, { type: 'source', observe });
}
