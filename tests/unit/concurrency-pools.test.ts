import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../core/model/definitions/asset-spec.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { resolveDaemonSettings } from '../../core/model/config/daemon-settings.ts';
import { knownPools, poolLimit, runPools, warehouseKind } from '../../core/model/config/concurrency-pools.ts';

const graph = AssetGraph.build([
  buildSpec('raw/a', { deps: [], tags: {}, owners: [] }, 'sql'),
  buildSpec('raw/b', { deps: [], tags: {}, owners: [], pool: 'api' }, 'sql'),
]);

describe('concurrency pools', () => {
  it('gives the default pool one slot on DuckDB and none on Postgres unless configured; other pools one', () => {
    const plain = resolveDaemonSettings(undefined);
    expect(poolLimit(plain, 'warehouse', 'duckdb')).toBe(1);
    expect(poolLimit(plain, 'warehouse', 'postgres')).toBe(Infinity);
    expect(poolLimit(plain, 'api', 'postgres')).toBe(1);
    const configured = resolveDaemonSettings({ pools: { warehouse: 3, api: 2 } });
    expect(poolLimit(configured, 'warehouse', 'postgres')).toBe(3);
    expect(poolLimit(configured, 'warehouse', 'duckdb')).toBe(3);
    expect(poolLimit(configured, 'api', 'duckdb')).toBe(2);
    expect(warehouseKind({})).toBe('duckdb');
    expect(warehouseKind({ warehouseUrl: 'postgres://db/x' })).toBe('postgres');
  });

  it("a run's pools are its assets' pools (the default pool for those naming none), sorted, each once", () => {
    expect(runPools(graph, ['raw/b', 'raw/a', 'raw/b'])).toEqual(['api', 'warehouse']);
    expect(runPools(graph, [])).toEqual([]);
  });

  it('knows the configured pools, those assets name, and the default pool', () => {
    expect([...knownPools(graph, resolveDaemonSettings({ pools: { files: 2 } }))].sort()).toEqual(['api', 'files', 'warehouse']);
  });
});
