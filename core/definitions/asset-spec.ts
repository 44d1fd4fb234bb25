import { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import { keyProblem } from './asset-key.ts';
import type { AssetContext, MaterializeResult } from '../execution/asset-context.ts';

/** How a SQL asset is written to DuckDB. */
export type SqlMaterialization = 'table' | 'view';

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
  readonly kind: string;
  /** Explicit code version; when absent the engine derives one from the source. */
  readonly codeVersion?: string;
}

/** The function a TypeScript asset runs to write itself. */
export type MaterializeFn = (ctx: AssetContext) => Promise<MaterializeResult | void> | MaterializeResult | void;

/** How an asset is computed: a TypeScript function or a SQL query. */
export type AssetCompute =
  | { readonly type: 'typescript'; readonly materialize: MaterializeFn }
  | { readonly type: 'sql'; readonly sql: string; readonly materialization: SqlMaterialization };

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

/** The zod schema of the metadata fields shared by TypeScript and SQL assets. */
export const specFieldsSchema = z
  .object({
    deps: z.array(keySchema).default([]),
    group: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'group must be lowercase letters, digits and _').optional(),
    tags: z.record(z.string().regex(/^[A-Za-z0-9_.\-/]+$/, 'tag names use letters, digits, _ . - /'), tagValue).default({}),
    owners: z.array(z.string().min(1)).default([]),
    description: z.string().optional(),
    kind: z.string().regex(/^[a-z0-9_-]+$/, 'kind must be lowercase letters, digits, _ and -').optional(),
    codeVersion: z.string().min(1).optional(),
  })
  .strict();

const assetOptionsSchema = specFieldsSchema.extend({
  key: keySchema,
  materialize: z.custom<MaterializeFn>((v) => typeof v === 'function', 'materialize must be a function'),
});

/** What `asset()` accepts. */
export interface AssetOptions {
  key: string;
  deps?: readonly string[];
  group?: string;
  tags?: Readonly<Record<string, string>>;
  owners?: readonly string[];
  description?: string;
  kind?: string;
  codeVersion?: string;
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
  const parsed = assetOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const key = typeof options?.key === 'string' ? options.key : undefined;
    throw new DefinitionError('asset_invalid', formatZodIssues(parsed.error), key ? { assetKey: key } : {});
  }
  const { key, materialize, ...fields } = parsed.data;
  return makeDefinition(buildSpec(key, fields, 'typescript'), { type: 'typescript', materialize });
}

/** Builds a frozen spec from validated fields, filling defaults (group = layer). */
export function buildSpec(key: string, fields: z.infer<typeof specFieldsSchema>, defaultKind: string): AssetSpec {
  const spec: AssetSpec = {
    key,
    deps: Object.freeze([...new Set(fields.deps)].sort()),
    group: fields.group ?? key.split('/')[0] ?? 'default',
    tags: Object.freeze({ ...fields.tags }),
    owners: Object.freeze([...fields.owners]),
    kind: fields.kind ?? defaultKind,
    ...(fields.description === undefined ? {} : { description: fields.description }),
    ...(fields.codeVersion === undefined ? {} : { codeVersion: fields.codeVersion }),
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
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
