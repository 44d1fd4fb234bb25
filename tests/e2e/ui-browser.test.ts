/**
 * The web UI in a real headless Chromium (Debian's, driven by playwright-core) against a real
 * `assets ui` process serving a copy of the bundled example with two days of landing files
 * (and one extra check that fails): the lineage graph draws every asset, filters by selection
 * and group, a click highlights an asset's lineage and opens its page; a materialization
 * launched from a page ends with the asset shown fresh (stored in SQLite by the run); a
 * failing check shows its failing rows and the run page its error; a run of another process
 * appears without a reload; a backfill launched from the form finishes with its progress shown;
 * runs and backfills waiting for the warehouse are canceled from their pages; a server
 * listening beyond loopback with --token asks for the token (again when it is wrong).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { editFile, parseJson, querySqlite, runCli, Sandbox, stateFiles } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, startUi, type UiProcess } from './ui-harness.ts';
import { holdWarehouse } from '../warehouse-holder.ts';

const missing = browserMissing();

describe.skipIf(missing !== undefined)(`the web UI in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let project: string;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  let keys: string[];

  beforeAll(async () => {
    sandbox = Sandbox.create();
    await sandbox.generateLanding(2);
    // A blocking check that fails: every menu item costs more than nothing.
    project = sandbox.copyExample('example', (dir) =>
      editFile(path.join(dir, 'defs/staging/menu_items.sql'), '-- group: staging\n', '-- group: staging\n-- check: accepted_range(price, max=0)\n'),
    );
    keys = parseJson<{ key: string }[]>(runCli(['list', '--json', '--project', project])).map((a) => a.key);
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  it('draws every asset of the example in the lineage graph, coloured by status', async () => {
    await page.goto(`${ui.url}/#/`);
    await page.waitForFunction(() => performance.getEntriesByName('lineage-rendered').length > 0);
    const drawn = await page
      .locator('svg#lineage g.node')
      .evaluateAll((nodes) => nodes.map((n): [string, string] => [n.getAttribute('data-key') ?? '', n.getAttribute('data-status') ?? '']));
    expect(drawn.map(([key]) => key).sort()).toEqual([...keys].sort());
    expect(keys.length).toBe(27);
    // Nothing is built yet: every asset that is not a source is missing.
    const statusOf = new Map(drawn);
    expect(statusOf.get('raw/menu_items')).toBe('missing');
    expect(statusOf.get('marts/fct_sales')).toBe('missing');
    expect(await page.locator('svg#lineage path.edge').count()).toBeGreaterThanOrEqual(30);
  });

  it("filters the graph by a selection and by a group, and shows a bad selection's message", async () => {
    const drawnKeys = () => page.locator('svg#lineage g.node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-key')).sort());
    await page.locator('input[name="select"]').fill('+marts/dim_menu_items');
    await page.locator('input[name="select"]').press('Enter');
    await expect.poll(drawnKeys).toEqual(['landing/menu_items', 'marts/dim_menu_items', 'raw/menu_items', 'staging/menu_items']);
    await page.locator('input[name="select"]').fill('marts/dim_menu_itms');
    await page.locator('input[name="select"]').press('Enter');
    await expect.poll(() => page.locator('[data-testid="select-error"]').textContent()).toContain('did you mean "marts/dim_menu_items"');
    await page.locator('input[name="select"]').fill('');
    await page.locator('input[name="select"]').press('Enter');
    await expect.poll(async () => (await drawnKeys()).length).toBe(keys.length);
    await page.locator('select[name="group"]').selectOption('staging');
    await expect.poll(drawnKeys).toEqual(keys.filter((k) => k.startsWith('staging/')).sort());
    await page.locator('select[name="group"]').selectOption('');
    await expect.poll(async () => (await drawnKeys()).length).toBe(keys.length);
  });

  it('highlights the upstream and downstream of a clicked node and dims the rest', async () => {
    await page.locator('svg#lineage g.node[data-key="staging/menu_items"] rect').first().click();
    const classes = async (key: string) => (await page.locator(`svg#lineage g.node[data-key="${key}"]`).getAttribute('class')) ?? '';
    expect(await classes('raw/menu_items')).toContain('highlight');
    expect(await classes('landing/menu_items')).toContain('highlight');
    expect(await classes('marts/dim_menu_items')).toContain('highlight');
    expect(await classes('marts/fct_sales')).toContain('highlight');
    expect(await classes('raw/orders')).toContain('dim');
    expect(await classes('staging/time_entries')).toContain('dim');
  });

  it("opens the asset page from a clicked node's panel and by double-click, with its description, code and deps", async () => {
    await page.locator('svg#lineage g.node[data-key="raw/orders"] rect').first().click();
    await page.locator('[data-testid="panel-open"]').click();
    await page.waitForURL(/#\/assets\/raw\/orders$/);
    await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('raw/orders');
    await page.locator('[data-testid="nav-lineage"]').click();
    await page.locator('svg#lineage g.node[data-key="raw/menu_items"]').waitFor();
    await page.locator('svg#lineage g.node[data-key="raw/menu_items"] rect').first().dblclick();
    await page.waitForURL(/#\/assets\/raw\/menu_items$/);
    await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('raw/menu_items');
    await expect.poll(() => page.locator('[data-testid="asset-status"]').textContent()).toBe('missing');
    const text = await page.locator('main').textContent();
    expect(text).toContain('menu_items.csv');
    expect(text).toContain('landing/menu_items');
  });

  it('launches a materialization from the asset page and shows the asset fresh when the run ends', async () => {
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(() => page.locator('[data-testid="asset-status"]').textContent(), { timeout: 60_000, interval: 250 }).toBe('fresh');
    const runs = querySqlite<{ id: string; status: string; selection: string }>(stateFiles(project).storage, 'select id, status, selection from runs');
    expect(runs).toEqual([expect.objectContaining({ status: 'success', selection: 'raw/menu_items' })]);
    const built = querySqlite<{ n: number }>(stateFiles(project).storage, "select count(*) as n from materializations where asset_key = 'raw/menu_items'");
    expect(built[0]?.n).toBe(1);
  });

  it("shows a failing check with its failing rows on the asset page, and the failed run's error", async () => {
    await page.goto(`${ui.url}/#/assets/staging/menu_items`);
    await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('staging/menu_items');
    expect(await page.locator('[data-testid="asset-kinds"] .tag').allTextContents()).toEqual(['sql', 'duckdb']);
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(() => page.locator('[data-testid="asset-status"]').textContent(), { timeout: 60_000, interval: 250 }).toBe('failed');
    const checks = page.locator('main');
    await expect.poll(() => checks.textContent()).toContain('accepted_range(price, max=0)');
    const text = (await checks.textContent()) ?? '';
    expect(text).toMatch(/\d+ violations?/);
    expect(text).toContain('menu_item_id');
    await page.locator('[data-testid="launched-run"]').click();
    await expect.poll(() => page.locator('[data-testid="run-status"]').textContent()).toBe('failed');
    expect(await page.locator('[data-testid="run-error"]').textContent()).toContain('staging/menu_items');
    expect(await page.locator('svg.timeline g.timeline-row.status-failed').count()).toBe(1);
  });

  it('lists the run and shows its events and step timeline', async () => {
    await page.locator('[data-testid="nav-runs"]').click();
    const row = page.locator('#run-list tr[data-run-id]').last();
    await expect.poll(() => row.textContent()).toContain('raw/menu_items');
    await row.locator('a').first().click();
    await expect.poll(() => page.locator('[data-testid="run-status"]').textContent()).toBe('success');
    const log = await page.locator('[data-testid="event-log"]').textContent();
    expect(log).toContain('step_success');
    expect(await page.locator('svg.timeline g.timeline-row.status-success').count()).toBe(1);
  });

  it('shows a run started by another process (the CLI) on the runs page without a reload', async () => {
    await page.locator('[data-testid="nav-runs"]').click();
    const rows = page.locator('#run-list tr[data-run-id]');
    await expect.poll(() => rows.count()).toBe(2);
    const cli = runCli(['materialize', '--select', 'raw/locations', '--project', project]);
    expect(cli.status, cli.stderr).toBe(0);
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    expect(await rows.first().textContent()).toContain('raw/locations');
  });

  it('launches a backfill from the form and shows its progress to the end', async () => {
    await page.locator('[data-testid="nav-backfills"]').click();
    const form = page.locator('form#backfill-form');
    await form.locator('[name="select"]').fill('raw/orders');
    await form.locator('[name="from"]').fill('2025-01-01');
    await form.locator('[name="to"]').fill('2025-01-02');
    await form.locator('button[type="submit"]').click();
    const row = page.locator('#backfill-list [data-backfill-id]').first();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000, interval: 250 }).toBe('success');
    expect(await row.textContent()).toContain('2 / 2');
    const stored = querySqlite<{ n: number }>(stateFiles(project).storage, "select count(*) as n from latest_materializations where asset_key = 'raw/orders'");
    expect(stored[0]?.n).toBe(2);
  });

  it('shows a bad selection as a message beside the form instead of launching', async () => {
    const form = page.locator('form#backfill-form');
    await form.locator('[name="select"]').fill('raw/ordrs');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-testid="backfill-error"]').textContent()).toContain('did you mean "raw/orders"');
    const backfills = querySqlite<{ n: number }>(stateFiles(project).storage, 'select count(*) as n from backfills');
    expect(backfills[0]?.n).toBe(1);
  });

  it('cancels a run and a backfill that wait for the warehouse another process holds', async () => {
    const holder = await holdWarehouse(stateFiles(project).warehouse);
    try {
      await page.goto(`${ui.url}/#/assets/raw/payments`);
      await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('raw/payments');
      await page.locator('button[data-testid="materialize"]').click();
      await page.locator('[data-testid="launched-run"]').click();
      await expect.poll(() => page.locator('[data-testid="run-status"]').textContent()).toBe('queued');
      await page.locator('button[data-testid="cancel-run"]').click();
      await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 30_000 }).toBe('canceled');
      expect(await page.locator('button[data-testid="cancel-run"]').count()).toBe(0);

      await page.locator('[data-testid="nav-backfills"]').click();
      const form = page.locator('form#backfill-form');
      await form.locator('[name="select"]').fill('raw/payments');
      await form.locator('[name="from"]').fill('2025-01-01');
      await form.locator('[name="to"]').fill('2025-01-02');
      await form.locator('button[type="submit"]').click();
      const row = page.locator('#backfill-list [data-backfill-id][data-status="running"]').first();
      await row.locator('button[data-testid="cancel-backfill"]').click();
      const id = await row.getAttribute('data-backfill-id');
      await expect.poll(() => page.locator(`#backfill-list [data-backfill-id="${id}"]`).getAttribute('data-status'), { timeout: 30_000 }).toBe('canceled');
    } finally {
      holder.release();
    }
  });

  it('asks for the token on a server beyond loopback, and launches with it', async () => {
    const token = 'browser-test-token-0123456789';
    const open = await startUi(sandbox.copyExample('with-token'), ['--host', '0.0.0.0', '--token', token]);
    const tab = await browser.newPage();
    try {
      const asked: string[] = [];
      tab.on('dialog', (dialog) => {
        asked.push(dialog.message());
        void dialog.accept(asked.length === 1 ? 'wrong-token-0123456789' : token);
      });
      await tab.goto(`${open.url}/#/assets/raw/locations`);
      await expect.poll(() => tab.locator('[data-testid="asset-status"]').textContent()).toBe('missing');
      await tab.locator('button[data-testid="materialize"]').click();
      await expect.poll(() => tab.locator('[data-testid="asset-status"]').textContent(), { timeout: 60_000, interval: 250 }).toBe('fresh');
      expect(asked).toHaveLength(2);
      expect(asked[0]).toContain('needs an API token');
      expect(asked[1]).toContain('refused');
    } finally {
      await tab.close();
      await open.stop();
    }
  });
});
