/**
 * One step of an incremental SQL asset: decides whether the build is incremental (the table
 * exists and this is no `--full-refresh`; a partitioned step: and its window has rows, unless it
 * is a dbt microbatch model's batch, which replaces its window like a partitioned table), binds
 * `{{ this }}`, `{{ is_incremental }}` and `{{ watermark }}`, and writes through
 * `resources/incremental-writes.ts`, all in the step's transaction (so a failed blocking check
 * leaves table and watermark as they were). The query of a `source:` asset runs on Postgres: its
 * watermark literal is written for Postgres, and its rows are extracted into a staging table of
 * the transaction before they are merged.
 */
import { randomUUID } from 'node:crypto';
import { qualifiedTableName } from '../../model/definitions/asset-key.ts';
import type { IncrementalConfig } from '../../model/definitions/incremental-config.ts';
import type { MergeResult } from '../../model/definitions/incremental-config.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { MaterializeResult } from '../../model/definitions/asset-context.ts';
import { DefinitionError, formatLocated } from '../../model/errors.ts';
import { renderSqlTemplate, type TemplateValues } from '../../model/definitions/sql-template.ts';

/** Where the query of a `source:` asset runs: a Postgres resource, seen through two operations. */
export interface IncrementalSource {
  /** The DuckDB type extraction gives `column` of `select`'s result (bound on Postgres, not run); `undefined` when there is no such column. */
  columnType(select: string, column: string): Promise<string | undefined>;
  /** Streams the rows of `select` into the DuckDB table `into` (replaced), or the asset's own table when `into` is absent. */
  extract(select: string, into?: string): Promise<void>;
}

/**
 * Materializes an incremental SQL asset. `values` are the path and partition variables; the result's metadata
 * says whether the build was incremental or full and counts rows inserted, updated and deleted.
 * With `source`, the query runs there instead of in DuckDB; `incrementalSql`, when given, is the
 * query of an incremental build (`sql` that of a full one).
 */
export async function runIncrementalSql(
  session: StepSession,
  context: { readonly key: string; readonly file?: string },
  sql: string,
  config: IncrementalConfig,
  values: TemplateValues,
  fullRefresh: boolean,
  source?: IncrementalSource,
  incrementalSql?: string,
): Promise<MaterializeResult> {
  try {
    return await buildIncremental(session, context.key, sql, config, values, fullRefresh, source, incrementalSql);
  } catch (error) {
    // Found when the query is bound: bad input (exit 2), named by asset and file like a load error.
    if (!(error instanceof DefinitionError)) throw error;
    const where = { assetKey: context.key, ...(context.file === undefined ? {} : { file: context.file }) };
    throw new DefinitionError(error.code, formatLocated(new DefinitionError(error.code, error.message, where)), where, { cause: error });
  }
}

async function buildIncremental(
  session: StepSession,
  key: string,
  fullSql: string,
  config: IncrementalConfig,
  values: TemplateValues,
  fullRefresh: boolean,
  source: IncrementalSource | undefined,
  incrementalSql: string | undefined,
): Promise<MaterializeResult> {
  const { columns, window, hasRows } = await session.incrementalStart();
  const exists = columns.size > 0;
  // A microbatch model's batch is incremental once its table exists (dbt: after the first batch).
  const isIncremental = (config.microbatch !== undefined ? exists : hasRows) && !fullRefresh;
  // A dbt model's `{% if is_incremental() %}` was rendered both ways: the incremental build runs its own query.
  const sql = isIncremental && incrementalSql !== undefined ? incrementalSql : fullSql;
  const bound: TemplateValues = { ...values, this: qualifiedTableName(key), is_incremental: isIncremental };
  let watermark: string | null | undefined;
  let literal: string | undefined;
  if (config.watermark !== undefined) {
    // Without a table the literal is the lowest value of the column's type in the query.
    const fromTable = exists && !fullRefresh;
    const unbound = renderSqlTemplate(sql, { ...bound, watermark: 'NULL' });
    const type = fromTable
      ? undefined
      : source
        ? await source.columnType(unbound, config.watermark)
        : await queryColumnType(session, unbound, config.watermark);
    const dialect = source ? 'postgres' : session.dialect;
    ({ literal, value: watermark } = await session.watermarkLiteral(config.watermark, fromTable ? columns : undefined, type, dialect, window));
  }
  const rendered = renderSqlTemplate(sql, literal === undefined ? bound : { ...bound, watermark: literal });
  if (config.microbatch !== undefined && source === undefined) return { rowCount: await session.replacePartitions(rendered) };
  const rebuild = !exists || fullRefresh;
  const result = source ? await writeFromSource(session, source, rendered, config, rebuild) : await session.writeIncremental(rendered, config, rebuild);
  return {
    rowCount: result.rowCount,
    metadata: {
      build: result.mode,
      rowsInserted: result.rowsInserted,
      rowsUpdated: result.rowsUpdated,
      rowsDeleted: result.rowsDeleted,
      ...(watermark === undefined ? {} : { watermark }),
    },
  };
}

/**
 * Extracts the rows of a `source:` query: a full build straight into the asset's table, an
 * incremental one into a staging table of the transaction that is then merged (or appended).
 */
async function writeFromSource(
  session: StepSession,
  source: IncrementalSource,
  select: string,
  config: IncrementalConfig,
  rebuild: boolean,
): Promise<MergeResult> {
  // A partitioned step's rows are staged too: its partitions are replaced from there.
  if (rebuild && session.scope === undefined) {
    await source.extract(select);
    return session.rebuiltTable(config.uniqueKey);
  }
  const staged = `strata_source_${randomUUID().replaceAll('-', '')}`;
  await source.extract(select, `temp.${staged}`);
  try {
    return await session.writeIncremental(`SELECT * FROM temp.${staged}`, config, rebuild);
  } finally {
    await session.run(`DROP TABLE IF EXISTS temp.${staged}`);
  }
}

/** The DuckDB type of one column of a query (bound, not run); `undefined` when it has no such column. */
async function queryColumnType(session: StepSession, sql: string, column: string): Promise<string | undefined> {
  return (await session.relationColumns(`SELECT * FROM (${sql}) AS __query`)).get(column);
}
