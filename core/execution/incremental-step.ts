/**
 * One step of an incremental SQL asset: decides whether the build is incremental (the table
 * exists and this is no `--full-refresh`), binds `{{ this }}`, `{{ is_incremental }}` and
 * `{{ watermark }}`, and writes through `resources/incremental-writes.ts`, all in the step's
 * transaction (so a failed blocking check leaves table and watermark as they were).
 */
import { qualifiedTableName } from '../definitions/asset-key.ts';
import type { IncrementalConfig } from '../definitions/incremental-config.ts';
import { tableColumns, watermarkLiteral, writeIncremental, type IncrementalSession } from '../../resources/incremental-writes.ts';
import type { MaterializeResult } from './asset-context.ts';
import { DefinitionError, formatLocated } from '../errors.ts';
import { renderSqlTemplate, type TemplateValues } from './sql-template.ts';
import { relationColumns } from '../../resources/relation-facts.ts';

/**
 * Materializes an incremental SQL asset. `values` are the path variables; the result's metadata
 * says whether the build was incremental or full and counts rows inserted, updated and deleted.
 */
export async function runIncrementalSql(
  session: IncrementalSession,
  context: { readonly key: string; readonly file?: string },
  sql: string,
  config: IncrementalConfig,
  values: TemplateValues,
  fullRefresh: boolean,
): Promise<MaterializeResult> {
  try {
    return await buildIncremental(session, context.key, sql, config, values, fullRefresh);
  } catch (error) {
    // Found when the query is bound: bad input (exit 2), named by asset and file like a load error.
    if (!(error instanceof DefinitionError)) throw error;
    const where = { assetKey: context.key, ...(context.file === undefined ? {} : { file: context.file }) };
    throw new DefinitionError(error.code, formatLocated(new DefinitionError(error.code, error.message, where)), where);
  }
}

async function buildIncremental(session: IncrementalSession, key: string, sql: string, config: IncrementalConfig, values: TemplateValues, fullRefresh: boolean): Promise<MaterializeResult> {
  const exists = (await tableColumns(session, key)).size > 0;
  const isIncremental = exists && !fullRefresh;
  const bound: TemplateValues = { ...values, this: qualifiedTableName(key), is_incremental: isIncremental };
  let watermark: string | null | undefined;
  let literal: string | undefined;
  if (config.watermark !== undefined) {
    // Without a table the literal is the lowest value of the column's type in the query.
    const type = isIncremental ? undefined : await queryColumnType(session, renderSqlTemplate(sql, { ...bound, watermark: 'NULL' }), config.watermark);
    ({ literal, value: watermark } = await watermarkLiteral(session, key, config.watermark, isIncremental, type));
  }
  const rendered = renderSqlTemplate(sql, literal === undefined ? bound : { ...bound, watermark: literal });
  const result = await writeIncremental(session, key, rendered, config, !isIncremental);
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

/** The DuckDB type of one column of a query (bound, not run); `undefined` when it has no such column. */
async function queryColumnType(session: IncrementalSession, sql: string, column: string): Promise<string | undefined> {
  return (await relationColumns(session, `SELECT * FROM (${sql})`)).get(column);
}
