import { renderSqlTemplate, THIS_VARIABLE, type TemplateValues } from '../../model/definitions/sql-template.ts';
import type { Row } from '../../model/definitions/asset-context.ts';
import { assignBuckets, windowOf, type PartitionScope } from '../../../resources/partition-writes.ts';
import { isRowCheck, type CheckQueries } from '../../../resources/check-queries.ts';
import type { CheckResultRecord } from '../../../storage/storage.ts';
import type { CheckSpec } from '../../model/definitions/check-spec.ts';
import { anomalyVerdict } from '../../model/definitions/row-count-anomaly.ts';
import { schemaDiff, type TableSchema } from '../../model/schema/table-schema.ts';

/** Violating rows kept per check and partition. */
export const SAMPLE_ROWS = 20;

/** Columns kept per sample row: the checked ones and the partition column come first (see violatingRowsSql). */
export const SAMPLE_COLUMNS = 12;

/** Everything a check run needs to know about the asset it checks. */
export interface CheckTarget {
  readonly key: string;
  /** The asset's quoted table. */
  readonly table: string;
  /**
   * Reads the warehouse, inside the step's transaction right after a write, or on its own
   * (`assets checks`); its `checkQueries` write the checks' SQL in the warehouse's dialect.
   */
  readonly session: { all<T extends Row = Row>(sql: string): Promise<T[]>; readonly checkQueries: CheckQueries };
  readonly tableOf: (key: string) => string;
  /** The partitions checked with the partition column; absent when unpartitioned (or without a partition column). */
  readonly scope?: PartitionScope;
  /** What the results are recorded for: the step's partitions, or `[null]`. */
  readonly partitions: readonly (string | null)[];
  /** Template values for custom SQL of a partitioned asset (`{{ partition_key }}`, `_start`, `_end`). */
  readonly templateValues?: TemplateValues;
  /** Row counts history for `row_count_anomaly`. */
  readonly history: CheckHistory;
  readonly runId: string | null;
  readonly now: Date;
  /**
   * The table's schema now and the previous materialization's (absent: the first one), for
   * `schema(previous)` checks; absent when not read (such a check then cannot run).
   */
  readonly schemas?: { readonly current: TableSchema; readonly previous?: TableSchema | undefined };
}

/** Stored row counts a `row_count_anomaly` check compares with. */
export interface CheckHistory {
  /** Every partition key of the asset in order (partitioned assets). */
  readonly partitionKeys: readonly string[];
  /** Latest stored row count per partition. */
  readonly rowCounts: ReadonlyMap<string, number>;
  /** Unpartitioned assets: row counts of earlier materializations, oldest first. */
  readonly previousCounts: readonly number[];
}

/** One check's outcome per partition, plus whether it blocks. */
export interface CheckRun {
  readonly check: CheckSpec;
  readonly results: readonly CheckResultRecord[];
  /**
   * The check's error aborted the session's transaction (DuckDB aborts it on an error raised
   * while a query runs, such as a failed cast): the checks after it were not run, and nothing
   * the transaction wrote can be published.
   */
  readonly abortedTransaction?: boolean;
}

/**
 * Runs `checks` against the target's rows (its step's partitions) and returns one result per
 * check and partition: passed, severity, violating row count, a sample of violating rows, the
 * SQL it ran and how long it took. A check that cannot run (a table or column that does not
 * exist, a binder error) has an error outcome instead: DuckDB's message as `error`, not
 * passed, no violations. When that error aborted the transaction, the run stops there (see
 * {@link CheckRun.abortedTransaction}).
 */
export async function runChecks(checks: readonly CheckSpec[], target: CheckTarget): Promise<CheckRun[]> {
  const runs: CheckRun[] = [];
  for (const check of checks) {
    const started = performance.now();
    let outcome: Outcome;
    // The query DuckDB refused is kept with the error.
    let lastQuery = '';
    const session: CheckTarget['session'] = {
      checkQueries: target.session.checkQueries,
      all: (sql) => {
        lastQuery = sql;
        return target.session.all(sql);
      },
    };
    try {
      outcome = await evaluate(check, { ...target, session });
    } catch (error) {
      outcome = { sql: lastQuery, perPartition: new Map(), error: firstLine(error) };
    }
    const durationMs = performance.now() - started;
    const timestamp = Date.now();
    const results = target.partitions.map((partition): CheckResultRecord => {
      const found = outcome.perPartition.get(partition) ?? { violations: 0, sample: [] };
      if (outcome.error !== undefined) {
        return {
          runId: target.runId,
          assetKey: target.key,
          partition,
          checkName: check.name,
          passed: false,
          severity: check.severity,
          violations: 0,
          sample: [],
          sql: outcome.sql,
          durationMs: durationMs / target.partitions.length,
          timestamp,
          error: outcome.error,
        };
      }
      return {
        runId: target.runId,
        assetKey: target.key,
        partition,
        checkName: check.name,
        passed: found.violations === 0,
        severity: check.severity,
        violations: found.violations,
        sample: found.sample.slice(0, SAMPLE_ROWS),
        sql: outcome.sql,
        durationMs: durationMs / target.partitions.length,
        timestamp,
      };
    });
    if (outcome.error !== undefined && !(await stillUsable(target.session))) {
      runs.push({ check, results, abortedTransaction: true });
      break;
    }
    runs.push({ check, results });
  }
  return runs;
}

/** False when the session's transaction was aborted by an error and accepts no more queries. */
async function stillUsable(session: CheckTarget['session']): Promise<boolean> {
  try {
    await session.all('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

interface Found {
  readonly violations: number;
  readonly sample: readonly Readonly<Record<string, unknown>>[];
}

interface Outcome {
  readonly sql: string;
  readonly perPartition: ReadonlyMap<string | null, Found>;
  /** Why the check could not run. */
  readonly error?: string;
}

/** The first line of an error's message: DuckDB's `Catalog Error: …`, `Binder Error: …`. */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

async function evaluate(check: CheckSpec, target: CheckTarget): Promise<Outcome> {
  const queries = target.session.checkQueries;
  const source = queries.source(target.table, target.scope, target.tableOf);
  if (isRowCheck(check)) {
    const sql = queries.violatingRows(check, source);
    const counts = await perPartitionCounts(target, queries.countByBucket(sql));
    const sample = await target.session.all(`SELECT * FROM (${sql}) AS __violations LIMIT ${SAMPLE_ROWS * Math.min(target.partitions.length, 50)}`);
    return { sql, perPartition: withSamples(target, counts, sample) };
  }
  switch (check.type) {
    case 'row_count': {
      const sql = queries.rowsByBucket(source);
      const counts = await perPartitionCounts(target, sql);
      const perPartition = new Map<string | null, Found>();
      for (const [partition, n] of counts) {
        const bad = (check.min !== undefined && n < check.min) || (check.max !== undefined && n > check.max);
        perPartition.set(partition, { violations: bad ? 1 : 0, sample: bad ? [{ row_count: n, min: check.min ?? null, max: check.max ?? null }] : [] });
      }
      return { sql, perPartition };
    }
    case 'row_count_anomaly': {
      const sql = queries.rowsByBucket(source);
      const counts = await perPartitionCounts(target, sql);
      const perPartition = new Map<string | null, Found>();
      for (const [partition, n] of counts) {
        const verdict = anomalyVerdict(check, n, previousCounts(target, partition, counts, check.lookback));
        perPartition.set(partition, verdict.anomalous ? { violations: 1, sample: [verdict.detail] } : { violations: 0, sample: [] });
      }
      return { sql, perPartition };
    }
    case 'freshness': {
      const cutoff = new Date(target.now.getTime() - check.maxAgeMs).toISOString().replace('T', ' ').replace('Z', '');
      const sql = queries.freshness(target.table, check.column, cutoff);
      const [row] = await target.session.all<{ newest: string | null; fresh: boolean }>(sql);
      return { sql, perPartition: sameForAll(target, row?.fresh ? [] : [{ newest: row?.newest ?? null, oldest_allowed: cutoff }]) };
    }
    case 'schema': {
      const sql = queries.columns(target.key);
      const actual = new Map((await target.session.all<{ column_name: string; data_type: string }>(sql)).map((r) => [r.column_name, r.data_type]));
      const problems = Object.entries(check.columns).flatMap(([column, type]): Record<string, unknown>[] => {
        const found = actual.get(column);
        if (found === undefined) return [{ column, expected: type, actual: null }];
        return found.toUpperCase() === type.toUpperCase() ? [] : [{ column, expected: type, actual: found }];
      });
      return { sql, perPartition: sameForAll(target, problems) };
    }
    case 'schema_change': {
      if (target.schemas === undefined) throw new Error(`${target.key} has no table to compare with its previous materialization`);
      const { current, previous } = target.schemas;
      return { sql: SCHEMA_CHANGE_SQL, perPartition: sameForAll(target, previous === undefined ? [] : schemaViolations(previous, current, check.allowAdded)) };
    }
    case 'custom_sql': {
      const withTable = check.sql.replaceAll(THIS_VARIABLE, target.table);
      const windows = target.scope?.partitions ?? [];
      // Partition variables in the query: run it once per partition, each bound to its window.
      if (/\{\{\s*partition_/.test(withTable) && windows.length > 0) {
        const perPartition = new Map<string | null, Found>();
        let last = '';
        for (const w of windows) {
          last = renderSqlTemplate(withTable, { partition_key: w.key, ...(w.start && w.end ? { partition_start: w.start, partition_end: w.end } : {}) });
          perPartition.set(w.key, await violationsOf(target, last));
        }
        return { sql: last, perPartition };
      }
      const sql = target.templateValues ? renderSqlTemplate(withTable, target.templateValues) : withTable;
      const found = await violationsOf(target, sql);
      return { sql, perPartition: new Map(target.partitions.map((p) => [p, found])) };
    }
  }
  throw new Error(`unknown check type ${(check as { type: string }).type}`);
}

/** What a `schema(previous)` result shows as its query: it reads no rows. */
const SCHEMA_CHANGE_SQL = "-- the table's columns and types compared with the previous materialization's";

/** One sample row per column removed or retyped (and added, unless allowed) since `previous`. */
function schemaViolations(previous: TableSchema, current: TableSchema, allowAdded: boolean): Record<string, unknown>[] {
  const diff = schemaDiff(previous, current);
  return [
    ...diff.removed.map((c) => ({ column: c.name, change: 'removed', from: c.type, to: null })),
    ...diff.retyped.map((c) => ({ column: c.name, change: 'retyped', from: c.from, to: c.to })),
    ...(allowAdded ? [] : diff.added.map((c) => ({ column: c.name, change: 'added', from: null, to: c.type }))),
  ];
}

/** Counts the rows a query returns and keeps a sample of them. */
async function violationsOf(target: CheckTarget, sql: string): Promise<Found> {
  const [count] = await target.session.all<{ n: number }>(`SELECT count(*) AS n FROM (${sql}) AS __violations`);
  const violations = Number(count?.n ?? 0);
  return { violations, sample: violations > 0 ? await target.session.all(`SELECT * FROM (${sql}) AS __violations LIMIT ${SAMPLE_ROWS}`) : [] };
}

/** Counts per recorded partition from a `(k, n)` query (`k` a bucket). */
async function perPartitionCounts(target: CheckTarget, sql: string): Promise<Map<string | null, number>> {
  const rows = await target.session.all<{ k: string; n: number }>(sql);
  if (!target.scope) return new Map([[null, rows.reduce((sum, r) => sum + Number(r.n), 0)]]);
  return assignBuckets(
    target.scope,
    rows.map((r) => ({ k: String(r.k), n: Number(r.n) })),
  );
}

/** Attaches sample rows (their `__partition` bucket removed) to the partitions they belong to. */
function withSamples(target: CheckTarget, counts: ReadonlyMap<string | null, number>, sample: readonly Row[]): Map<string | null, Found> {
  const samples = new Map<string | null, Record<string, unknown>[]>();
  for (const row of sample) {
    const { __partition: bucket, ...rest } = row;
    const partition = target.scope ? (windowOf(target.scope, String(bucket)) ?? null) : null;
    const list = samples.get(partition) ?? [];
    if (list.length < SAMPLE_ROWS) list.push(Object.fromEntries(Object.entries(rest).slice(0, SAMPLE_COLUMNS)));
    samples.set(partition, list);
  }
  return new Map([...counts].map(([partition, violations]) => [partition, { violations, sample: samples.get(partition) ?? [] }]));
}

/** A table-level outcome (freshness, schema), recorded for every partition checked. */
function sameForAll(target: CheckTarget, problems: readonly Readonly<Record<string, unknown>>[]): Map<string | null, Found> {
  return new Map(target.partitions.map((p) => [p, { violations: problems.length, sample: problems }]));
}

/** Row counts of the `lookback` partitions before `partition`: from this step where it wrote them, else stored. */
function previousCounts(target: CheckTarget, partition: string | null, current: ReadonlyMap<string | null, number>, lookback: number): number[] {
  const { history } = target;
  if (partition === null) return history.previousCounts.slice(-lookback);
  const index = history.partitionKeys.indexOf(partition);
  const before = history.partitionKeys.slice(Math.max(0, index - lookback), Math.max(0, index));
  return before.flatMap((key) => {
    const n = current.get(key) ?? history.rowCounts.get(key);
    return n === undefined ? [] : [n];
  });
}
