import { describe, expect, it } from 'vitest';
import { dbtTarget } from '../../core/engine/dbt/dbt-target.ts';

const onPostgres = (options?: string) => {
  const url = new URL('postgres://strata@db.internal:5432/analytics');
  if (options !== undefined) url.searchParams.set('options', options);
  return dbtTarget({ warehouseUrl: url.toString(), warehouseFile: '.strata/warehouse.duckdb' });
};

describe('dbtTarget', () => {
  it("takes target.schema from the first schema of the URL's search_path, else public", () => {
    expect(onPostgres()).toEqual({ type: 'postgres', schema: 'public', database: 'analytics' });
    expect(onPostgres('-c search_path=reporting,public').schema).toBe('reporting');
    expect(onPostgres('-c search_path="$user",marts').schema).toBe('marts');
    expect(onPostgres('--search_path=staging').schema).toBe('staging');
    expect(onPostgres('-c statement_timeout=5000 -c search_path=x').schema).toBe('x');
    expect(onPostgres('-c statement_timeout=5000').schema).toBe('public');
  });

  it("is main and the file's name on DuckDB", () => {
    expect(dbtTarget({ warehouseFile: '/p/.strata/warehouse.duckdb' })).toEqual({ type: 'duckdb', schema: 'main', database: 'warehouse' });
    expect(dbtTarget({ warehouseFile: ':memory:' })).toEqual({ type: 'duckdb', schema: 'main', database: 'memory' });
  });
});
