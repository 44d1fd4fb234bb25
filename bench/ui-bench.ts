/**
 * The web UI's two speed goals, against a materialized layered graph of no-op assets:
 *
 * - the lineage API on a 10,000-asset graph: `GET /api/lineage/KEY` (both ways, every level)
 *   from an asset in the middle, and the whole graph with states (`GET /api/assets`, what the
 *   lineage page loads);
 * - the first render of the lineage page of a 1,000-asset graph in headless Chromium: from the
 *   start of navigation to the page's `lineage-rendered` performance mark (data fetched, dagre
 *   layout done, SVG in the document).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun } from '../core/engine/execution/executor.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { loadProjectConfig } from '../core/engine/project/project-config.ts';
import { buildProject, type Project } from '../core/model/project.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';
import { startApiServer, type ApiServer } from '../ui/server.ts';
import { layeredNoOpAssets } from './no-op-steps-bench.ts';

/** Where Debian puts Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Median and fastest of repeated timings, in ms. */
export interface Timings {
  readonly medianMs: number;
  readonly minMs: number;
}

/** Figures of {@link measureLineageApi}. */
export interface LineageApiFigures {
  readonly assets: number;
  readonly edges: number;
  /** Nodes in the middle asset's lineage (the response's size). */
  readonly lineageNodes: number;
  readonly lineage: Timings;
  /** `firstMs`: the first request, before the API's asset list cache holds the answer. */
  readonly assetList: Timings & { readonly firstMs: number };
}

/** A materialized no-op project of `count` assets served by the UI on an ephemeral port. */
interface ServedProject {
  readonly project: Project;
  readonly server: ApiServer;
  close(): Promise<void>;
}

async function serveMaterialized(count: number): Promise<ServedProject> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-ui-'));
  writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: `ui-bench-${count}` }));
  const config = { ...loadProjectConfig(dir), warehouseFile: ':memory:' };
  const project = buildProject(config, layeredNoOpAssets(count));
  const storage = await SqliteStorage.open(config.storageFile);
  const warehouse = await DuckDBWarehouse.open(':memory:');
  const run = await executeRun({
    project,
    plan: buildPlan(project.graph, project.graph.keys),
    storage,
    warehouse,
    landing: new FileLandingZone(dir),
    selection: '*',
  });
  warehouse.close();
  if (run.status !== 'success') throw new Error(`materializing the bench graph ended ${run.status}`);
  const server = await startApiServer({ project, storage: async () => storage }, { port: 0, log: () => undefined });
  return {
    project,
    server,
    async close() {
      await server.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function timeRequests(url: string, runs: number): Promise<Timings & { firstMs: number; body: any }> {
  let body: any;
  let firstMs = 0;
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const response = await fetch(url);
    body = await response.json();
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(body)}`);
    if (i > 0) times.push(performance.now() - started);
    else firstMs = performance.now() - started; // the first request warms up (and fills caches)
  }
  return { ...summarize(times), firstMs, body };
}

function summarize(times: readonly number[]): Timings {
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)] as number, minMs: sorted[0] as number };
}

/** Times the lineage API (median of `runs` after a warm-up request) on a `count`-asset graph. */
export async function measureLineageApi(count = 10_000, runs = 7): Promise<LineageApiFigures> {
  const served = await serveMaterialized(count);
  try {
    const { graph } = served.project;
    const middle = graph.keys[Math.floor(graph.keys.length / 2)] as string;
    const lineage = await timeRequests(`${served.server.url}/api/lineage/${middle}`, runs);
    const assetList = await timeRequests(`${served.server.url}/api/assets`, Math.min(runs, 3));
    if (assetList.body.assets.length !== count) throw new Error(`GET /api/assets listed ${assetList.body.assets.length} assets, not ${count}`);
    const edges = graph.keys.reduce((n, key) => n + graph.parents(key).length, 0);
    return {
      assets: count,
      edges,
      lineageNodes: lineage.body.nodes.length,
      lineage: { medianMs: lineage.medianMs, minMs: lineage.minMs },
      assetList: { medianMs: assetList.medianMs, minMs: assetList.minMs, firstMs: assetList.firstMs },
    };
  } finally {
    await served.close();
  }
}

/** Figures of {@link measureLineageRender}. */
export interface LineageRenderFigures extends Timings {
  readonly assets: number;
  /** `g.node` elements drawn (must equal `assets`). */
  readonly nodes: number;
}

/**
 * Loads the lineage page of a `count`-asset graph `runs` times, each in a fresh browser
 * context (no cache), and reads the time from navigation start to the `lineage-rendered`
 * mark. `undefined` when Chromium is not installed.
 */
export async function measureLineageRender(count = 1_000, runs = 5): Promise<LineageRenderFigures | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright-core');
  const served = await serveMaterialized(count);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const times: number[] = [];
    let nodes = 0;
    for (let i = 0; i <= runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${served.server.url}/#/`);
      await page.waitForFunction(() => performance.getEntriesByName('lineage-rendered').length > 0, undefined, { timeout: 60_000 });
      const ms = await page.evaluate(() => performance.getEntriesByName('lineage-rendered')[0]?.startTime ?? Number.NaN);
      nodes = await page.locator('svg#lineage g.node').count();
      if (i > 0) times.push(ms); // the first load warms the server's caches
      await context.close();
    }
    return { assets: count, nodes, ...summarize(times) };
  } finally {
    await browser.close();
    await served.close();
  }
}
