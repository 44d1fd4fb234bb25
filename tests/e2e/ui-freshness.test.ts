/**
 * Freshness on the web UI's asset page, in a real headless Chromium against a real `assets ui`
 * process: `ok` for an asset within its policy, `overdue (no data)` for one never materialized,
 * and nothing for an asset without a policy; the lineage page's side panel says the same.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';

const missing = browserMissing();

describe.skipIf(missing !== undefined)(`freshness on the asset page${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    const project = sandbox.writeProject('fresh-ui', {
      'strata.json': JSON.stringify({ name: 'fresh-ui' }),
      'defs/marts/sales.sql': '-- freshness: 2h\nselect 1 as x\n',
      'defs/marts/plain.sql': 'select 2 as y\n',
      'defs/later/never.sql': '-- freshness: 26h\nselect 3 as z\n',
    });
    const run = runCli(['materialize', '--select', 'marts/*', '--project', project]);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  const freshness = () => page.locator('[data-testid="freshness"]').textContent();

  it('says ok, overdue (no data), or nothing without a policy', async () => {
    await page.goto(`${ui.url}/#/assets/marts/sales`);
    await expect.poll(freshness).toBe('Freshness ok');
    expect(await page.locator('[data-testid="freshness"]').getAttribute('title')).toContain('more than 2h old');
    await page.goto(`${ui.url}/#/assets/later/never`);
    await expect.poll(freshness).toBe('Freshness overdue (no data)');
    await page.goto(`${ui.url}/#/assets/marts/plain`);
    await expect.poll(() => page.locator('[data-testid="asset-key"]').textContent()).toBe('marts/plain');
    await expect.poll(() => page.locator('text=Last built').count()).toBe(1);
    expect(await page.locator('[data-testid="freshness"]').count()).toBe(0);
  });

  it("says it in the lineage page's panel of a clicked asset", async () => {
    await page.goto(`${ui.url}/#/`);
    await page.locator('svg#lineage g.node[data-key="later/never"] rect').first().click();
    await expect.poll(() => page.locator('[data-testid="panel-freshness"]').textContent()).toBe('overdue (no data)');
    await page.locator('svg#lineage g.node[data-key="marts/sales"] rect').first().click();
    await expect.poll(() => page.locator('[data-testid="panel-freshness"]').textContent()).toBe('ok');
    await page.locator('svg#lineage g.node[data-key="marts/plain"] rect').first().click();
    await expect.poll(() => page.locator('h2.panel-title').textContent()).toBe('marts/plain');
    expect(await page.locator('[data-testid="panel-freshness"]').count()).toBe(0);
  });
});
