import { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import { keyProblem } from './asset-key.ts';
import { isAutomationCondition, type AutomationCondition } from './automation-condition.ts';
import type { AssetContext, MaterializeResult } from './asset-context.ts';
import { duplicateCheckName, type CheckSpec } from './check-spec.ts';
import type { PartitionMapping } from '../partitions/partition-mapping.ts';
import { defaultMapping } from '../partitions/index.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import { retryPolicySchema, type RetryPolicy, type RetryPolicyOptions } from './retry-policy.ts';
import { freshnessPolicySchema, type FreshnessPolicy, type FreshnessPolicyOptions } from './freshness-policy.ts';
import type { ObserveFn } from './source-asset.ts';
import type { SnapshotConfig } from './snapshot-config.ts';
import type { SeedCompute } from './seed-asset.ts';
import type { IncrementalConfig } from './incremental-config.ts';
import { columnLineageSchema, declaredColumnLineage, type ColumnLineageOption, type DeclaredColumnLineage } from './declared-column-lineage.ts';

/** How a SQL asset is written to DuckDB. */
export type SqlMaterialization = 'table' | 'view' | 'snapshot' | 'incremental';

/**
 * How a backfill runs a partitioned asset: one step per partition, or one step over a whole
 * range of partitions (optionally at most `maxPartitionsPerRun` at a time).
 */
export type BackfillPolicy = { readonly type: 'multi_run' } | { readonly type: 'single_run'; readonly maxPartitionsPerRun?: number };

/** One partition per step. */
export const MULTI_RUN: BackfillPolicy = Object.freeze({ type: 'multi_run' });

/**
 * Frozen, validated description of an asset: everything about it except how it is computed.
 */
export interface AssetSpec {
  readonly key: string;
  readonly deps: readonly string[];
  readonly group: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly owners: readonly string[];
  readonly description?: string;
  /** Descriptions of some of its columns, by column name (a dbt model's `columns:` in schema.yml). */
  readonly columnDescriptions?: Readonly<Record<string, string>>;
  /**
   * What the asset is made with, as in Dagster's `kinds` (a set, shown in the UI, matched by
   * `kind:`): `sql` and `duckdb` for SQL assets, `typescript` for TypeScript ones, `seed` and
   * `duckdb` for seeds, `source` for sources, then the declared kinds, in order and without repeats.
   */
  readonly kinds: readonly string[];
  /** Explicit code version; when absent the engine derives one from the source. */
  readonly codeVersion?: string;
  /** The asset's partitions; absent for an unpartitioned asset. */
  readonly partitions?: PartitionsDefinition;
  /** Partition mapping per dependency; a dependency without one uses the default mapping. */
  readonly partitionMappings: Readonly<Record<string, PartitionMapping>>;
  readonly backfillPolicy: BackfillPolicy;
  /** The DuckDB column holding the partition (partitioned tables): a partition's rows are those in its window. */
  readonly partitionColumn?: string;
  /** When the daemon materializes the asset on its own (absent: never). */
  readonly automation?: AutomationCondition;
  /** The daemon's concurrency pool for runs of this asset (absent: the warehouse's pool). */
  readonly pool?: string;
  /**
   * A source asset (see {@link ./source-asset.ts}): data made outside Strata, such as landing
   * files. It is observed for data versions, never materialized or planned.
   */
  readonly source?: boolean;
  /** How a failed step of this asset is retried; absent: the project's default (`"retries"` in strata.json). */
  readonly retryPolicy?: RetryPolicy;
  /** How old its newest data may get before the daemon raises `freshness_miss` (absent: no policy). */
  readonly freshnessPolicy?: FreshnessPolicy;
  /** Data-quality checks run right after every write (see core/model/checks and core/engine/checks). */
  readonly checks: readonly CheckSpec[];
  /**
   * The file of the dbt node it was made from, relative to the dbt project's root
   * (`models/staging/stg_orders.sql`, `seeds/raw_orders.csv`): what dbt's `path:` selects on.
   * Absent: not a dbt node.
   */
  readonly dbtPath?: string;
}

/** The function a TypeScript asset runs to write itself. */
export type MaterializeFn = (ctx: AssetContext) => Promise<MaterializeResult | void> | MaterializeResult | void;

/** How an asset is computed: a TypeScript function, a SQL query, a seed CSV file, or (sources) an observation. */
export type AssetCompute =
  | {
      readonly type: 'typescript';
      readonly materialize: MaterializeFn;
      /** Settings the function reads (`ctx.config`); they count in the code version. */
      readonly config?: Readonly<Record<string, unknown>>;
      /** `incremental(...)`: `ctx.isIncremental`, `ctx.watermark`; `--full-refresh` drops the table first. */
      readonly incremental?: IncrementalConfig;
      /** The output columns and where they come from, as declared (`columnLineage`); absent: unknown. */
      readonly columnLineage?: DeclaredColumnLineage;
    }
  | {
      readonly type: 'sql';
      readonly sql: string;
      readonly materialization: SqlMaterialization;
      readonly snapshot?: SnapshotConfig;
      /** `source: NAME`: the query runs on this Postgres resource and its rows land in the asset's table. */
      readonly source?: string;
      /** `materialization: incremental`: its unique_key, strategy, watermark (see incremental-config.ts). */
      readonly incremental?: IncrementalConfig;
      /** The query of an incremental build when it differs from `sql` (a dbt model rendered with `is_incremental()` true). */
      readonly incrementalSql?: string;
    }
  | SeedCompute
  | {
      readonly type: 'source';
      readonly observe: ObserveFn;
      /** Names of strata.json `"resources"` it observes through (checked when the project loads). */
      readonly resources?: readonly string[];
    };

/** A spec plus its compute and where it was defined. */
export interface AssetDefinition {
  readonly spec: AssetSpec;
  readonly compute: AssetCompute;
  /** Project-relative file the asset was defined in (set by the loader). */
  readonly file?: string;
}

const keySchema = z.string().superRefine((key, ctx) => {
  const problem = keyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const tagValue = z.string().max(256);

const kindSchema = z.string().regex(/^[a-z0-9_-]+$/, 'kind must be lowercase letters, digits, _ and -');

const checkSchema = z.custom<CheckSpec>(
  (v) => typeof v === 'object' && v !== null && typeof (v as CheckSpec).type === 'string' && typeof (v as CheckSpec).name === 'string',
  'a check must come from notNull(), unique(), acceptedValues(), … or customSql()',
);

const partitionsSchema = z.custom<PartitionsDefinition>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as PartitionsDefinition).keys === 'function' &&
    typeof (v as PartitionsDefinition).validateKey === 'function',
  'partitions must be a partitions definition, e.g. daily({ start: "2025-01-01" })',
);
const mappingSchema = z.custom<PartitionMapping>(
  (v) => typeof v === 'object' && v !== null && typeof (v as PartitionMapping).upstreamKeys === 'function',
  'a partition mapping must come from identity(), timeWindow(), allPartitions() or staticMapping()',
);
const automationSchema = z
  .custom<AutomationCondition>(isAutomationCondition, 'automation must come from eager(), onCron(), onMissing(), any() or all()')
  .superRefine((condition, ctx) => {
    for (const message of condition.problems()) ctx.addIssue({ code: 'custom', message });
  });
const backfillPolicySchema = z.union([
  z.object({ type: z.literal('multi_run') }).strict(),
  z.object({ type: z.literal('single_run'), maxPartitionsPerRun: z.number().int().positive().optional() }).strict(),
]);

/** The zod schema of the metadata fields shared by TypeScript and SQL assets. */
export const specFieldsSchema = z
  .object({
    deps: z.array(keySchema).default([]),
    group: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'group must be lowercase letters, digits and _')
      .optional(),
    tags: z.record(z.string().regex(/^[A-Za-z0-9_.\-/]+$/, 'tag names use letters, digits, _ . - /'), tagValue).default({}),
    owners: z.array(z.string().min(1)).default([]),
    description: z.string().optional(),
    kind: kindSchema.optional(),
    kinds: z.array(kindSchema).default([]),
    codeVersion: z.string().min(1).optional(),
    partitions: partitionsSchema.optional(),
    partitionMappings: z.record(keySchema, mappingSchema).default({}),
    backfillPolicy: backfillPolicySchema.optional(),
    partitionColumn: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'partition column must be a plain column name')
      .optional(),
    automation: automationSchema.optional(),
    pool: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'pool names use letters, digits, _ . -')
      .optional(),
    retryPolicy: retryPolicySchema.optional(),
    freshnessPolicy: freshnessPolicySchema.optional(),
    checks: z.array(checkSchema).default([]),
  })
  .strict();

/** Partition mappings that name something other than a dependency. */
export function strayMappings(spec: Pick<AssetSpec, 'deps' | 'partitionMappings'>): string[] {
  return Object.keys(spec.partitionMappings)
    .filter((key) => !spec.deps.includes(key))
    .map((key) => `a partition mapping names "${key}", which is not a dependency`);
}

/** Validated spec fields; mappings may be left out. */
export type SpecFields = Omit<z.infer<typeof specFieldsSchema>, 'partitionMappings' | 'checks' | 'kinds'> & {
  readonly kinds?: readonly string[];
  readonly partitionMappings?: Readonly<Record<string, PartitionMapping>>;
  readonly checks?: readonly CheckSpec[];
};

/** A dependency with the partition mapping it is read through. */
export interface DependencyOption {
  readonly key: string;
  readonly mapping?: PartitionMapping;
}

const assetOptionsSchema = z
  .object({
    key: keySchema,
    materialize: z.custom<MaterializeFn>((v) => typeof v === 'function', 'materialize must be a function'),
    config: z
      .record(z.string(), z.unknown())
      .refine((v) => isJson(v), 'config must be plain JSON data (strings, numbers, booleans, null, arrays, objects)')
      .optional(),
    columnLineage: columnLineageSchema.optional(),
  })
  .passthrough();

/** What `asset()` accepts. */
export interface AssetOptions {
  key: string;
  /** Upstream keys, or `{ key, mapping }` to read a dependency through a partition mapping. */
  deps?: readonly (string | DependencyOption)[];
  /** Partitions, e.g. `daily({ start: '2025-01-01' })`. */
  partitions?: PartitionsDefinition;
  /** `incremental({ uniqueKey: 'id', watermark: 'updated_at' })`: the table is changed, not rebuilt (see `ctx.warehouse.merge`). */
  incremental?: IncrementalConfig;
  /** Default: one step per partition. */
  backfillPolicy?: BackfillPolicy;
  /** The DuckDB column that holds the partition, for `ctx.warehouse.replacePartition`. */
  partitionColumn?: string;
  /** When the daemon materializes the asset on its own, e.g. `eager()` or `onCron('30 4 * * *', 'Europe/Paris')`. */
  automation?: AutomationCondition;
  /** The daemon's concurrency pool (strata.json `daemon.pools`); default: the warehouse's pool. */
  pool?: string;
  group?: string;
  tags?: Readonly<Record<string, string>>;
  owners?: readonly string[];
  description?: string;
  /** Kinds added to `typescript`, e.g. `['pandas', 's3']` (shown in the UI, matched by `kind:`). */
  kinds?: readonly string[];
  /** One kind added to `typescript`; kept for compatibility, prefer `kinds`. */
  kind?: string;
  codeVersion?: string;
  /** Data-quality checks run after every write, e.g. `[notNull('order_id'), unique(['order_id', 'line'])]`. */
  checks?: readonly CheckSpec[];
  /** JSON settings the function reads as `ctx.config`; a change makes the asset's code version change. */
  config?: Readonly<Record<string, unknown>>;
  /** Retries of a failed step, e.g. `{ maxRetries: 3, delay: '2s', backoff: 'exponential', jitter: true }`. */
  retryPolicy?: RetryPolicyOptions;
  /**
   * How old the newest data may get, e.g. `{ maxLag: '26h' }`: past it the asset is overdue in
   * `assets status` and the daemon raises `freshness_miss` (README, "Freshness policies").
   */
  freshnessPolicy?: FreshnessPolicyOptions;
  /**
   * The output columns, in order, and the upstream columns each comes from (Strata cannot read
   * the function, so otherwise its columns are unknown), e.g.
   * `{ order_id: ['landing/orders.id'], total: [{ from: 'raw/items.price', kind: 'aggregation' }], loaded_at: [] }`.
   */
  columnLineage?: ColumnLineageOption;
  materialize: MaterializeFn;
}

/** Marks objects produced by {@link asset} so the loader can find them among a module's exports. */
export const ASSET_DEFINITION = Symbol.for('strata.assetDefinition');

/**
 * Declares a TypeScript asset.
 *
 * @example
 * export const orders = asset({
 *   key: 'raw/orders',
 *   group: 'raw',
 *   async materialize(ctx) {
 *     return { rowCount: await ctx.warehouse.replaceTable(`select * from read_csv('orders.csv')`) };
 *   },
 * });
 */
export function asset(options: AssetOptions): AssetDefinition {
  const key = typeof options?.key === 'string' ? options.key : undefined;
  const fail = (error: z.ZodError) => new DefinitionError('asset_invalid', formatZodIssues(error), key ? { assetKey: key } : {});
  const parsed = assetOptionsSchema.safeParse(options);
  if (!parsed.success) throw fail(parsed.error);
  const {
    key: validKey,
    materialize,
    config,
    columnLineage,
    deps = [],
    incremental,
    ...rest
  } = parsed.data as typeof parsed.data & { deps?: unknown; incremental?: IncrementalConfig };
  const { keys, mappings } = splitDependencies(deps);
  const fields = specFieldsSchema.safeParse({ ...rest, deps: keys, partitionMappings: mappings });
  if (!fields.success) throw fail(fields.error);
  const spec = buildSpec(validKey, fields.data, ['typescript']);
  const stray = strayMappings(spec);
  if (stray.length > 0) throw new DefinitionError('asset_invalid', stray.join('; '), { assetKey: validKey });
  const twice = duplicateCheckName(spec.checks);
  if (twice !== undefined) throw new DefinitionError('asset_invalid', `two checks are named "${twice}": give one a name`, { assetKey: validKey });
  // A partitioned incremental asset merges within its partitions' windows: it needs the column that places a row in one.
  if (incremental !== undefined && spec.partitions !== undefined && spec.partitionColumn === undefined) {
    throw new DefinitionError('asset_invalid', 'a partitioned incremental asset needs partitionColumn: the column whose value places a row in its partition', {
      assetKey: validKey,
    });
  }
  const declared = columnLineage === undefined ? undefined : declaredColumnLineage(columnLineage, spec.deps);
  if (declared?.ok === false) throw new DefinitionError('asset_invalid', declared.problems.join('; '), { assetKey: validKey });
  return makeDefinition(spec, {
    type: 'typescript',
    materialize,
    ...(config === undefined ? {} : { config: deepFreeze(structuredClone(config)) }),
    ...(incremental === undefined ? {} : { incremental }),
    ...(declared === undefined ? {} : { columnLineage: declared.columns }),
  });
}

/** True for JSON data: what a config may hold, so it hashes the same on every load. */
function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === 'object') return Object.getPrototypeOf(value) === Object.prototype && Object.values(value as object).every(isJson);
  return false;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** `['a', { key: 'b', mapping }]` → keys `['a', 'b']` and mappings `{ b: mapping }`; anything else is left for zod to reject. */
function splitDependencies(deps: unknown): { keys: unknown; mappings: Record<string, unknown> } {
  if (!Array.isArray(deps)) return { keys: deps, mappings: {} };
  const mappings: Record<string, unknown> = {};
  const keys = deps.map((dep: unknown) => {
    if (typeof dep !== 'object' || dep === null || !('key' in dep)) return dep;
    const { key, mapping } = dep as { key: unknown; mapping?: unknown };
    if (typeof key === 'string' && mapping !== undefined) mappings[key] = mapping;
    return key;
  });
  return { keys, mappings };
}

/**
 * Builds a frozen spec from validated fields, filling defaults (group = layer); `baseKinds`
 * (what the compute is, e.g. `['sql', 'duckdb']`, or one kind) come before the declared kinds.
 */
export function buildSpec(key: string, fields: SpecFields, baseKinds: string | readonly string[]): AssetSpec {
  const spec: AssetSpec = {
    key,
    deps: Object.freeze([...new Set(fields.deps)].sort()),
    group: fields.group ?? key.split('/')[0] ?? 'default',
    tags: Object.freeze({ ...fields.tags }),
    owners: Object.freeze([...fields.owners]),
    kinds: Object.freeze([
      ...new Set([...(typeof baseKinds === 'string' ? [baseKinds] : baseKinds), ...(fields.kind === undefined ? [] : [fields.kind]), ...(fields.kinds ?? [])]),
    ]),
    partitionMappings: Object.freeze({ ...(fields.partitionMappings ?? {}) }),
    backfillPolicy: Object.freeze(fields.backfillPolicy ?? MULTI_RUN),
    ...(fields.description === undefined ? {} : { description: fields.description }),
    ...(fields.codeVersion === undefined ? {} : { codeVersion: fields.codeVersion }),
    ...(fields.partitions === undefined ? {} : { partitions: fields.partitions }),
    ...(fields.partitionColumn === undefined ? {} : { partitionColumn: fields.partitionColumn }),
    ...(fields.automation === undefined ? {} : { automation: fields.automation }),
    ...(fields.pool === undefined ? {} : { pool: fields.pool }),
    ...(fields.retryPolicy === undefined ? {} : { retryPolicy: Object.freeze({ ...fields.retryPolicy }) }),
    ...(fields.freshnessPolicy === undefined ? {} : { freshnessPolicy: Object.freeze({ ...fields.freshnessPolicy }) }),
    checks: Object.freeze([...(fields.checks ?? [])]),
  };
  return Object.freeze(spec);
}

/** Freezes a definition and brands it so module scanning recognises it. */
export function makeDefinition(spec: AssetSpec, compute: AssetCompute, file?: string): AssetDefinition {
  const definition = { spec, compute: Object.freeze(compute), ...(file === undefined ? {} : { file }) };
  Object.defineProperty(definition, ASSET_DEFINITION, { value: true });
  return Object.freeze(definition);
}

/** True for values produced by {@link asset} or the SQL loader. */
export function isAssetDefinition(value: unknown): value is AssetDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ASSET_DEFINITION] === true;
}

/** Renders zod issues as one line each, prefixed by the field path. */
export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/** The partition mapping a child reads a parent through. */
export function mappingOf(child: AssetSpec, parent: AssetSpec): PartitionMapping {
  return child.partitionMappings[parent.key] ?? defaultMapping(child.partitions, parent.partitions);
}
