/**
 * DuckDB's SQL of the data-quality checks (see check-queries.ts), and the builder other
 * warehouses whose SQL differs only in how a row's other columns are selected and how a unique
 * check groups (Postgres: postgres-check-queries.ts) build theirs with.
 */
import { keyToTable, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { quoteLiteral } from '../core/model/definitions/sql-template.ts';
import type { CheckQueries, CheckSource, RowCheck } from './check-queries.ts';
import { bucketExpression, scopeFilter } from './partition-writes.ts';

/** The bits of check SQL that differ between warehouses. */
export interface CheckSpelling {
  /** The table's columns after the `leading` ones (quoted, comma-separated), as a select list. */
  otherColumns(leading: string): string;
  /** A GROUP BY clause over the first `n` select items. */
  groupByAll(n: number): string;
}

const DUCKDB_SPELLING: CheckSpelling = {
  otherColumns: (leading) => `* EXCLUDE (${leading})`,
  groupByAll: () => 'GROUP BY ALL',
};

/** The check queries of a DuckDB warehouse. */
export const duckdbCheckQueries: CheckQueries = checkQueriesSpelled(DUCKDB_SPELLING);

/** Check queries in SQL spelled as `spelling` says (the rest is SQL DuckDB and Postgres share). */
export function checkQueriesSpelled(spelling: CheckSpelling): CheckQueries {
  return Object.freeze<CheckQueries>({
    source(table, scope, tableOf): CheckSource {
      if (!scope) return { table, filter: 'true', bucket: "''", tableOf };
      const column = quoteIdentifier(scope.column);
      return { table, filter: scopeFilter(scope, column, undefined), bucket: bucketExpression(scope, column), tableOf, partitionColumn: scope.column };
    },
    violatingRows: (check, source) => violatingRowsSql(check, source, spelling),
    countByBucket: (violations) => `SELECT __partition AS k, count(*) AS n FROM (${violations}) AS __violations GROUP BY 1`,
    rowsByBucket: (source) => `SELECT ${source.bucket} AS k, count(*) AS n FROM ${source.table} WHERE ${source.filter} GROUP BY 1`,
    freshness: (table, column, cutoff) => {
      const quoted = quoteIdentifier(column);
      return `SELECT max(${quoted})::TIMESTAMP::VARCHAR AS newest, coalesce(max(${quoted})::TIMESTAMP >= TIMESTAMP '${cutoff}', false) AS fresh FROM ${table}`;
    },
    columns: (key) => {
      const { schema, table } = keyToTable(key);
      return `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${quoteLiteral(schema)} AND table_name = ${quoteLiteral(table)}`;
    },
  });
}

/**
 * The violating rows of a row check, `__partition` first, then the checked column and the
 * partition column, then the table's other columns: a sample cut to its first columns (as on a
 * wide table) still shows what was checked.
 */
function violatingRowsSql(check: RowCheck, source: CheckSource, spelling: CheckSpelling): string {
  const { table, filter, bucket } = source;
  const leading = [...new Set(['column' in check ? check.column : undefined, source.partitionColumn].filter((c): c is string => c !== undefined))]
    .map(quoteIdentifier)
    .join(', ');
  const rows = (condition: string) =>
    `SELECT ${bucket} AS __partition, ${leading}, ${spelling.otherColumns(leading)} FROM ${table} WHERE (${filter}) AND ${condition}`;
  switch (check.type) {
    case 'not_null':
      return rows(`${quoteIdentifier(check.column)} IS NULL`);
    case 'not_empty_string':
      return rows(`${quoteIdentifier(check.column)} IS NOT NULL AND trim(${quoteIdentifier(check.column)}::VARCHAR) = ''`);
    case 'accepted_values': {
      const values = check.values.map((v) => (typeof v === 'string' ? quoteLiteral(v) : String(v))).join(', ');
      return rows(`${quoteIdentifier(check.column)} IS NOT NULL AND ${quoteIdentifier(check.column)} NOT IN (${values})`);
    }
    case 'accepted_range': {
      const column = quoteIdentifier(check.column);
      const outside = [...(check.min === undefined ? [] : [`${column} < ${check.min}`]), ...(check.max === undefined ? [] : [`${column} > ${check.max}`])];
      return rows(`${column} IS NOT NULL AND (${outside.join(' OR ')})`);
    }
    case 'relationships': {
      const column = quoteIdentifier(check.column);
      return rows(
        `${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${source.tableOf(check.to)} AS __target WHERE __target.${quoteIdentifier(check.field)} = ${column})`,
      );
    }
    case 'unique': {
      const columns = check.columns.map(quoteIdentifier).join(', ');
      return `SELECT ${bucket} AS __partition, ${columns}, count(*) AS duplicates FROM ${table} WHERE (${filter}) ${spelling.groupByAll(check.columns.length + 1)} HAVING count(*) > 1`;
    }
  }
}
