/**
 * How a process holds its warehouse between runs: a DuckDB file is let go when the last run
 * lets go (another process may want it); a Postgres warehouse (many writers) is kept open, so a
 * worker connects once rather than once a run, until the run service closes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProject } from '../../core/model/project.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { SharedWarehouse } from '../../core/engine/runs/shared-warehouse.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { postgresMissing, postgresUrl } from '../postgres.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const signal = new AbortController().signal;

/** An opener of in-memory DuckDB warehouses that counts its opens and the warehouses still open. */
function countingOpener(): { open: () => Promise<DuckDBWarehouse>; opens: () => number; openNow: () => number } {
  let opens = 0;
  let closes = 0;
  return {
    open: async () => {
      opens++;
      const warehouse = await DuckDBWarehouse.open(':memory:');
      const close = warehouse.close.bind(warehouse);
      warehouse.close = () => {
        closes++;
        return close();
      };
      return warehouse;
    },
    opens: () => opens,
    openNow: () => opens - closes,
  };
}

describe('SharedWarehouse', () => {
  it('closes the warehouse when the last run lets go, by default', async () => {
    const opener = countingOpener();
    const shared = new SharedWarehouse(opener.open);
    for (let run = 0; run < 2; run++) {
      await shared.acquire(signal);
      await shared.release();
      expect(opener.openNow()).toBe(0);
    }
    expect(opener.opens()).toBe(2);
  });

  it('with keepOpen, opens once for runs one after another and closes on close()', async () => {
    const opener = countingOpener();
    const shared = new SharedWarehouse(opener.open, { keepOpen: true });
    for (let run = 0; run < 3; run++) {
      await shared.acquire(signal);
      await shared.release();
    }
    expect(opener.opens()).toBe(1);
    expect(shared.isOpen).toBe(true);
    await shared.close();
    expect(opener.openNow()).toBe(0);
    expect(shared.isOpen).toBe(false);
  });

  it('with keepOpen, close() while a run holds it closes when that run lets go', async () => {
    const opener = countingOpener();
    const shared = new SharedWarehouse(opener.open, { keepOpen: true });
    await shared.acquire(signal);
    await shared.close();
    expect(opener.openNow()).toBe(1);
    await shared.release();
    expect(opener.openNow()).toBe(0);
  });
});

const missing = postgresMissing();

describe('RunService warehouse between runs', () => {
  let ws: TempWorkspace;
  beforeEach(async () => {
    ws = await openTempWorkspace('strata-shared-warehouse-', { name: 'shared-warehouse-test' });
  });
  afterEach(() => ws.close());

  it('lets go of the DuckDB file after a run', async () => {
    const service = new RunService({ project: buildProject(ws.config, []), storage: ws.storage });
    await service.withWarehouse({ keys: [], signal }, async () => undefined);
    expect(service.warehouse.isOpen).toBe(false);
  });

  it.skipIf(missing !== undefined)(`keeps a Postgres warehouse open between runs, until closed${missing ? ` (skipped: ${missing})` : ''}`, async () => {
    const project = buildProject({ ...ws.config, warehouseUrl: postgresUrl() }, []);
    const service = new RunService({ project, storage: ws.storage });
    const first = await service.withWarehouse({ keys: [], signal }, async (warehouse) => warehouse);
    expect(service.warehouse.isOpen).toBe(true);
    const second = await service.withWarehouse({ keys: [], signal }, async (warehouse) => warehouse);
    expect(second).toBe(first);
    await service.close();
    expect(service.warehouse.isOpen).toBe(false);
  });
});
