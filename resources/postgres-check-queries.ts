/**
 * Postgres's SQL of the data-quality checks (see check-queries.ts): DuckDB's, except that a
 * failing row's other columns are all of them (Postgres has no `* EXCLUDE`; a column named twice
 * keeps its first place in the row read) and a unique check groups by position.
 */
import type { CheckQueries } from './check-queries.ts';
import { checkQueriesSpelled } from './duckdb-check-queries.ts';

/** The check queries of a Postgres warehouse. */
export const postgresCheckQueries: CheckQueries = checkQueriesSpelled({
  otherColumns: () => '*',
  groupByAll: (n) => `GROUP BY ${Array.from({ length: n }, (_, i) => i + 1).join(', ')}`,
});
