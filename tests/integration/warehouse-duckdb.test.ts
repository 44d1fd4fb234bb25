/**
 * The warehouse contract on DuckDB, opened as the engine opens it (`openWarehouse`) and as the
 * class; then what only DuckDB does.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { openWarehouse } from '../../resources/open-warehouse.ts';
import { useWarehouse, warehouseContract, type WarehouseFixture } from './warehouse-contract.ts';

const duckdb: Omit<WarehouseFixture, 'open'> = {
  series: (n) => `(SELECT range AS x FROM range(${n}))`,
  typeNames: { integer: 'INTEGER', text: 'VARCHAR' },
};

warehouseContract('openWarehouse (DuckDB file)', { ...duckdb, open: (folder) => openWarehouse(path.join(folder, 'warehouse.duckdb'), { threads: 2 }) });
warehouseContract('DuckDBWarehouse in memory', { ...duckdb, open: async () => DuckDBWarehouse.open(':memory:', { threads: 2 }) });

describe('DuckDB only', () => {
  const warehouse = useWarehouse({ ...duckdb, open: (folder) => DuckDBWarehouse.open(path.join(folder, 'nested', 'warehouse.duckdb')) });

  it('creates the folder of a new file and names it as its location; the dialect is duckdb', () => {
    expect(warehouse().location).toMatch(/nested[/\\]warehouse\.duckdb$/);
    expect(warehouse().dialect).toBe('duckdb');
  });

  it('binds a string array as a VARCHAR[] list', async () => {
    expect(await warehouse().query('SELECT list_contains($1, $2) AS found', [['a', 'b'], 'b'])).toEqual([{ found: true }]);
  });
});
