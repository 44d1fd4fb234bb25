/**
 * The run page in a real headless Chromium shows a running step's percentage (from the live,
 * never stored `step_progress` events) beside its bar in the timeline; the server's runs use the
 * warehouse settings of strata.json.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';

const missing = browserMissing();

describe.skipIf(missing !== undefined)(`the run page's step progress in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  let project: string;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    project = sandbox.writeProject('slow', {
      'strata.json': JSON.stringify({ name: 'slow', warehouse: { threads: 1, memoryLimit: '300MB' } }),
      'defs/main/settings.sql': "select current_setting('memory_limit') as m, current_setting('threads') as t\n",
      // Runs until canceled; DuckDB reports its progress (one thread: see ui-api-mutations.test.ts).
      'defs/slow/spin.sql': 'select sum(i % 7) as n from range(20000000000) t(i)\n',
    });
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  it('shows the running step with its percentage, which is not in the event log', async () => {
    await page.goto(`${ui.url}/#/assets/slow/spin`);
    await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('slow/spin');
    await page.locator('button[data-testid="materialize"]').click();
    await page.locator('[data-testid="launched-run"]').click();
    await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 30_000 }).toBe('running');
    const label = page.locator('svg.timeline g.timeline-row.status-running [data-testid="step-progress"]');
    await expect.poll(() => label.count(), { timeout: 30_000, interval: 250 }).toBe(1);
    expect(await label.textContent()).toMatch(/ · \d+%$/);
    expect(await page.locator('[data-testid="event-log"]').textContent()).not.toContain('step_progress');
    await page.locator('button[data-testid="cancel-run"]').click();
    await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 30_000 }).toBe('canceled');
    await expect.poll(() => label.count()).toBe(0);
  }, 90_000);

  it('runs launched from the UI use the warehouse settings of strata.json', async () => {
    await page.goto(`${ui.url}/#/assets/main/settings`);
    await expect.poll(() => page.locator('h1[data-testid="asset-key"]').textContent()).toBe('main/settings');
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(() => page.locator('[data-testid="asset-status"]').textContent(), { timeout: 60_000, interval: 250 }).toBe('fresh');
    await ui.stop();
    const rows = parseJson(runCli(['query', 'select m, t from main.settings', '--json', '--project', project]));
    expect(rows).toEqual([{ m: '286.1 MiB', t: 1 }]);
  }, 90_000);
});
