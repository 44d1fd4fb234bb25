/**
 * SQL assets are `.sql` files holding one SELECT query. The file's path under the asset folder
 * is the asset key; an optional leading block of `-- name: value` comments configures it:
 *
 * ```sql
 * -- Orders cleaned up for reporting.          (prose: ignored)
 * -- description: One row per order.
 * -- tags: domain=sales, pii
 * -- owners: ana@example.com, team:data
 * -- kind: dbt, mart                          (added to sql, duckdb)
 * -- materialization: view
 * -- freshness: 26h                           (overdue when the newest data is older)
 * select * from raw.orders
 * ```
 *
 * Parsing is pure; dependency inference with DuckDB's parser lives in `sql-dependencies.ts`.
 */
import { duplicateCheckName, type CheckSpec } from './check-spec.ts';
import { parseCheckText } from './check-text.ts';
import { extractQuery } from './sql-query-body.ts';
import type { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import type { ErrorContext } from '../errors.ts';
import { editDistance } from '../collections/key-compare.ts';
import { keyProblem } from './asset-key.ts';
import { buildSpec, makeDefinition, specFieldsSchema, type BackfillPolicy, type SpecFields } from './asset-spec.ts';
import { parseBackfillPolicy, parseMappingLine, parsePartitionsText } from './partition-header.ts';
import type { PartitionMapping } from '../partitions/partition-mapping.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import type { AssetDefinition, SqlMaterialization } from './asset-spec.ts';
import { parseAutomation, type AutomationCondition } from './automation-condition.ts';
import { parseRetriesText, type RetryPolicy } from './retry-policy.ts';
import type { FreshnessPolicy } from './freshness-policy.ts';
import { parseSnapshotHeader, SNAPSHOT_HEADER_FIELDS, type SnapshotConfig } from './snapshot-config.ts';
import { parseSourceHeader, SOURCE_HEADER_FIELDS } from './source-header.ts';
import { INCREMENTAL_HEADER_FIELDS, parseIncrementalHeader, type IncrementalConfig } from './incremental-config.ts';

/** The configuration a SQL file's leading comment block gives, validated and with defaults. */
export interface SqlHeader {
  readonly deps: readonly string[];
  /** `-- check:` lines. */
  readonly checks: readonly CheckSpec[];
  readonly group?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly owners: readonly string[];
  readonly description?: string;
  /** `-- kind: a, b`: kinds declared beside `sql` and `duckdb`. */
  readonly kinds: readonly string[];
  readonly codeVersion?: string;
  readonly materialization: SqlMaterialization;
  readonly partitions?: PartitionsDefinition;
  readonly partitionColumn?: string;
  readonly partitionMappings: Readonly<Record<string, PartitionMapping>>;
  readonly backfillPolicy?: BackfillPolicy;
  /** `-- automation: eager` or `-- automation: on_cron('30 4 * * *', 'Europe/Paris')`. */
  readonly automation?: AutomationCondition;
  /** `-- pool: warehouse`: the daemon's concurrency pool. */
  readonly pool?: string;
  /** `-- retries: 3 delay=2s backoff=exponential jitter max_delay=1m`. */
  readonly retryPolicy?: RetryPolicy;
  /** `-- freshness: 26h`: how old the newest data may get (see freshness-policy.ts). */
  readonly freshnessPolicy?: FreshnessPolicy;
  /** `materialization: snapshot`: its key, strategy and hard deletes (see snapshot-config.ts). */
  readonly snapshot?: SnapshotConfig;
  /** `source: NAME`: the query runs on that Postgres resource (see source-header.ts). */
  readonly source?: string;
  /** `materialization: incremental`: its unique_key, strategy, watermark (see incremental-config.ts). */
  readonly incremental?: IncrementalConfig;
}

/** A SQL asset file that parsed: its key, header and query. */
export interface ParsedSqlAssetFile {
  readonly ok: true;
  readonly key: string;
  readonly header: SqlHeader;
  /** The query: header comments kept; trailing `;` and anything after the last token removed. */
  readonly body: string;
  /** The query of an incremental build, when it differs from `body` (a dbt model's `{% if is_incremental() %}`). */
  readonly incrementalBody?: string;
}

/** The result of {@link parseSqlAssetFile}: the parsed file or every problem found in it. */
export type SqlAssetFileResult = ParsedSqlAssetFile | { readonly ok: false; readonly errors: DefinitionError[] };

/** The names a header line may configure, as written in the file. */
export const SQL_HEADER_FIELDS = [
  'description',
  'group',
  'tags',
  'owners',
  'materialization',
  'deps',
  'kind',
  'code_version',
  'partitioned_by',
  'partition_column',
  'partition_mapping',
  'backfill_policy',
  'retries',
  'freshness',
  'automation',
  'pool',
  'check',
  ...SNAPSHOT_HEADER_FIELDS,
  ...SOURCE_HEADER_FIELDS,
  ...INCREMENTAL_HEADER_FIELDS,
] as const;

type HeaderField = (typeof SQL_HEADER_FIELDS)[number];

/** Fields that may appear on several lines; their values accumulate. */
const REPEATABLE: ReadonlySet<HeaderField> = new Set(['description', 'tags', 'owners', 'deps', 'kind', 'partition_mapping', 'check']);

const HEADER_LINE = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)$/;

/**
 * Parses one SQL asset file, collecting every problem instead of stopping at the first.
 *
 * @param relativePath path under the asset folder, e.g. `staging/orders.sql` (key `staging/orders`)
 * @param displayFile the file as errors should name it, e.g. `defs/staging/orders.sql`
 *
 * @example
 * const parsed = parseSqlAssetFile('staging/orders.sql', text, 'defs/staging/orders.sql');
 * if (!parsed.ok) errors.push(...parsed.errors);
 */
export function parseSqlAssetFile(relativePath: string, text: string, displayFile: string = relativePath): SqlAssetFileResult {
  const key = sqlPathToKey(relativePath);
  const context: ErrorContext = { assetKey: key, file: displayFile };
  const errors: DefinitionError[] = [];

  const problem = keyProblem(key);
  if (problem) errors.push(new DefinitionError('sql_key_invalid', `${problem} (the key comes from the file path)`, context));

  const header = parseHeader(text, (code, message, cause) => errors.push(new DefinitionError(code, message, context, { cause })));
  const body = extractQuery(text, (code, message) => errors.push(new DefinitionError(code, message, context)));

  if (errors.length > 0 || header === undefined || body === undefined) return { ok: false, errors };
  return { ok: true, key, header, body };
}

/**
 * Turns a parsed SQL file into an asset definition; `deps` (usually inferred from the query)
 * are merged with the header's.
 *
 * @example
 * sqlAssetDefinition(parsed, ['raw/orders'], 'defs/staging/orders.sql');
 */
export function sqlAssetDefinition(parsed: ParsedSqlAssetFile, deps: readonly string[], displayFile?: string): AssetDefinition {
  const { header } = parsed;
  const fields: SpecFields = {
    deps: [...header.deps, ...deps],
    tags: { ...header.tags },
    owners: [...header.owners],
    kinds: [...header.kinds],
    ...(header.group === undefined ? {} : { group: header.group }),
    ...(header.description === undefined ? {} : { description: header.description }),
    ...(header.codeVersion === undefined ? {} : { codeVersion: header.codeVersion }),
    ...(header.partitions === undefined ? {} : { partitions: header.partitions }),
    ...(header.partitionColumn === undefined ? {} : { partitionColumn: header.partitionColumn }),
    ...(header.backfillPolicy === undefined ? {} : { backfillPolicy: header.backfillPolicy }),
    ...(header.automation === undefined ? {} : { automation: header.automation }),
    ...(header.pool === undefined ? {} : { pool: header.pool }),
    ...(header.retryPolicy === undefined ? {} : { retryPolicy: header.retryPolicy }),
    ...(header.freshnessPolicy === undefined ? {} : { freshnessPolicy: header.freshnessPolicy }),
    checks: header.checks,
    partitionMappings: header.partitionMappings,
  };
  return makeDefinition(
    buildSpec(parsed.key, fields, ['sql', 'duckdb']),
    {
      type: 'sql',
      sql: parsed.body,
      materialization: header.materialization,
      ...(header.snapshot ? { snapshot: header.snapshot } : {}),
      ...(header.source ? { source: header.source } : {}),
      ...(header.incremental ? { incremental: header.incremental } : {}),
      ...(header.incremental && parsed.incrementalBody !== undefined ? { incrementalSql: parsed.incrementalBody } : {}),
    },
    displayFile,
  );
}

/** `staging/orders.sql` → `staging/orders` (also accepts `\` separators and a leading `./`). */
export function sqlPathToKey(relativePath: string): string {
  return relativePath
    .replaceAll('\\', '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\.sql$/i, '');
}

/** Reports a problem of the file; `cause` is the error it was found as, if any. */
type Report = (code: string, message: string, cause?: unknown) => void;

/** Reads the leading comment block; returns `undefined` when it has errors (already reported). */
function parseHeader(text: string, report: Report): SqlHeader | undefined {
  const values = new Map<HeaderField, string[]>();
  let failed = false;
  const fail: Report = (code, message, cause) => {
    failed = true;
    report(code, message, cause);
  };

  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    const match = HEADER_LINE.exec(trimmed.slice(2));
    if (!match) continue;
    const name = (match[1] ?? '').toLowerCase();
    const value = (match[2] ?? '').trim();
    const field = SQL_HEADER_FIELDS.find((f) => f === name);
    if (field === undefined) {
      const suggestion = closestField(name);
      if (suggestion) fail('sql_header_unknown_field', `unknown header field "${match[1]}" (did you mean "${suggestion}"?)`);
      continue;
    }
    const previous = values.get(field);
    if (previous && !REPEATABLE.has(field)) {
      fail('sql_header_invalid', `header field "${field}" is given more than once`);
      continue;
    }
    values.set(field, [...(previous ?? []), value]);
  }

  const materialization = parseMaterialization(values.get('materialization'), fail);
  const snapshot = parseSnapshotHeader(materialization, (field) => values.get(field)?.[0], fail);
  const source = parseSourceHeader(values.get('source')?.[0], materialization, fail);
  const incremental = parseIncrementalHeader(values.get('materialization')?.[0], (name) => values.get(name)?.[0], fail);
  const partitioning = parsePartitioning(values, fail);
  const tags = parseTags(values.get('tags') ?? [], fail);
  const description = (values.get('description') ?? []).filter((d) => d !== '').join(' ');
  const raw: Record<string, unknown> = {
    deps: listValues(values.get('deps')),
    owners: listValues(values.get('owners')),
    kinds: listValues(values.get('kind')),
    tags,
    ...partitioning,
  };
  if (description !== '') raw.description = description;
  const retries = values.get('retries')?.[0];
  if (retries !== undefined) {
    try {
      raw.retryPolicy = parseRetriesText(retries);
    } catch (error) {
      fail('sql_header_invalid', (error as Error).message, error);
    }
  }
  const freshness = values.get('freshness')?.[0];
  if (freshness !== undefined) raw.freshnessPolicy = { maxLag: freshness };
  const checks: CheckSpec[] = [];
  for (const line of values.get('check') ?? []) {
    try {
      checks.push(parseCheckText(line));
    } catch (error) {
      fail('sql_header_invalid', (error as Error).message, error);
    }
  }
  const twice = duplicateCheckName(checks);
  if (twice !== undefined) fail('sql_header_invalid', `two checks are named "${twice}": add name=... to one of them`);
  raw.checks = checks;
  const automation = values.get('automation')?.[0];
  if (automation !== undefined) {
    try {
      raw.automation = parseAutomation(automation);
    } catch (error) {
      fail('sql_header_invalid', (error as Error).message, error);
    }
  }
  for (const [field, property] of [
    ['group', 'group'],
    ['code_version', 'codeVersion'],
    ['pool', 'pool'],
  ] as const) {
    const value = values.get(field)?.[0];
    if (value !== undefined) raw[property] = value;
  }
  const parsed = specFieldsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) fail('sql_header_invalid', describeIssue(issue));
  }
  if (failed || !parsed.success) return undefined;
  const { deps, owners, kinds, ...rest } = parsed.data;
  return Object.freeze({
    ...rest,
    deps: Object.freeze(deps),
    owners: Object.freeze(owners),
    kinds: Object.freeze([...new Set(kinds)]),
    tags: Object.freeze(parsed.data.tags),
    materialization,
    ...(snapshot === undefined ? {} : { snapshot }),
    ...(source === undefined ? {} : { source }),
    ...(incremental ? { incremental } : {}),
  });
}

/** The known field a near-miss name was probably meant to be (short names allow one edit, others two). */
function closestField(name: string): HeaderField | undefined {
  let best: { field: HeaderField; distance: number } | undefined;
  for (const field of SQL_HEADER_FIELDS) {
    const distance = editDistance(name, field);
    const limit = field.length <= 4 ? 1 : 2;
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { field, distance };
  }
  return best?.field;
}

/** `a, b ,, c` over any number of lines → `['a', 'b', 'c']`. */
function listValues(lines: readonly string[] | undefined): string[] {
  return (lines ?? [])
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `domain=sales, pii` → `{ domain: 'sales', pii: '' }`. */
function parseTags(lines: readonly string[], fail: Report): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of listValues(lines)) {
    const eq = item.indexOf('=');
    const name = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1).trim();
    if (Object.hasOwn(tags, name) && tags[name] !== value) {
      fail('sql_header_invalid', `tag "${name}" is given twice with different values`);
    }
    tags[name] = value;
  }
  return tags;
}

/** The partition settings of a header, as spec fields (errors reported through `fail`). */
function parsePartitioning(values: ReadonlyMap<HeaderField, string[]>, fail: Report): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attempt = (read: () => void) => {
    try {
      read();
    } catch (error) {
      fail('sql_header_invalid', (error as Error).message, error);
    }
  };
  const partitionedBy = values.get('partitioned_by')?.[0];
  if (partitionedBy !== undefined) attempt(() => (out.partitions = parsePartitionsText(partitionedBy)));
  const column = values.get('partition_column')?.[0];
  if (column !== undefined) out.partitionColumn = column;
  const policy = values.get('backfill_policy')?.[0];
  if (policy !== undefined) attempt(() => (out.backfillPolicy = parseBackfillPolicy(policy)));
  const mappings: Record<string, PartitionMapping> = {};
  for (const line of values.get('partition_mapping') ?? []) {
    attempt(() => {
      const { key, mapping } = parseMappingLine(line);
      if (Object.hasOwn(mappings, key)) throw new Error(`partition_mapping names "${key}" twice`);
      mappings[key] = mapping;
    });
  }
  if (Object.keys(mappings).length > 0) out.partitionMappings = mappings;
  if (partitionedBy === undefined && (column !== undefined || policy !== undefined)) {
    fail('sql_header_invalid', 'partition_column and backfill_policy need partitioned_by');
  }
  if (partitionedBy !== undefined && column === undefined) {
    fail('sql_header_invalid', 'a partitioned SQL asset needs partition_column: the column whose value places a row in its partition');
  }
  return out;
}

function parseMaterialization(lines: readonly string[] | undefined, fail: Report): SqlMaterialization {
  const value = lines?.[0];
  if (value === undefined || value === 'table' || value === 'view' || value === 'snapshot' || value === 'incremental') return value ?? 'table';
  fail('sql_header_invalid', `materialization must be "table", "view", "snapshot" or "incremental", not "${value}"`);
  return 'table';
}

/** Spec properties whose header field is spelled differently. */
const HEADER_NAMES: Readonly<Record<string, HeaderField>> = {
  kinds: 'kind',
  codeVersion: 'code_version',
  partitions: 'partitioned_by',
  partitionColumn: 'partition_column',
  partitionMappings: 'partition_mapping',
  backfillPolicy: 'backfill_policy',
  retryPolicy: 'retries',
  freshnessPolicy: 'freshness',
};

/** One zod issue as a line naming the header field as written in the file. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const [field, detail] = issue.path;
  const name = HEADER_NAMES[String(field)] ?? String(field);
  const nested = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
  const where =
    name === 'tags' && detail !== undefined
      ? `tag "${String(detail)}"`
      : name === 'retries' && detail !== undefined
        ? `header field "retries" (${String(detail)})`
        : `header field "${name}"`;
  return `${where}: ${nested ?? issue.message}`;
}
