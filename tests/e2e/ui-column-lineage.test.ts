/**
 * The Columns section of the asset page in headless Chromium against a real `assets ui` process
 * on a small SQL project: each column with its upstream columns and how, and a click on a column
 * shows its path upstream and downstream, then highlighted on the lineage graph.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';

const missing = browserMissing();

const FILES = {
  'strata.json': JSON.stringify({ name: 'ui-columns' }),
  'defs/raw/orders.sql': 'select 1 as id, 2.5::double as amount\n',
  'defs/staging/orders.sql': 'select id, amount * 2 as amount from raw.orders where id > 0\n',
  'defs/marts/totals.sql': 'select sum(amount) as total from staging.orders\n',
  'defs/marts/ids.sql': 'select id from staging.orders\n',
};

describe.skipIf(missing !== undefined)(`the asset page's columns in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    const project = sandbox.writeProject('ui-columns', FILES);
    expect(runCli(['materialize', '--select', '*', '--project', project]).status).toBe(0);
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  it('lists the columns with their type and upstream columns, and shows a chosen column path', async () => {
    await page.goto(`${ui.url}/#/assets/staging/orders`);
    const section = page.locator('[data-testid="asset-columns"]');
    await expect.poll(() => section.locator('tbody tr').count(), { timeout: 20_000 }).toBe(2);
    const rows = await section.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));
    expect(rows).toEqual([
      ['id', 'INTEGER', 'raw/orders.id (identity)'],
      ['amount', 'DOUBLE', 'raw/orders.amount (transformation)'],
    ]);
    expect(await section.textContent()).toContain('Also uses: raw/orders.id (filter)');
    await section.locator('button', { hasText: 'amount' }).click();
    const path = page.locator('[data-testid="column-path"]');
    await expect.poll(() => path.textContent(), { timeout: 20_000 }).toContain('Downstream of amount');
    expect(await path.textContent()).toContain('raw/orders.amount (transformation)');
    expect(await path.textContent()).toContain('marts/totals.total (aggregation)');
  });

  it('highlights the chosen column path on the lineage graph', async () => {
    await page.locator('[data-testid="column-path-graph"]').click();
    await page.waitForURL(/#\/\?asset=staging%2Forders&column=amount$/);
    await expect
      .poll(() => page.locator('[data-testid="column-path-note"]').textContent(), { timeout: 20_000 })
      .toBe('path of staging/orders.amount: 3 assets');
    const classes = await page
      .locator('svg#lineage g.node')
      .evaluateAll((nodes) =>
        Object.fromEntries(
          nodes.map((n) => [n.getAttribute('data-key'), n.classList.contains('highlight') ? 'lit' : n.classList.contains('dim') ? 'dim' : '-']),
        ),
      );
    expect(classes).toEqual({ 'raw/orders': 'lit', 'staging/orders': 'lit', 'marts/totals': 'lit', 'marts/ids': 'dim' });
    expect(await page.locator('svg#lineage path.edge.highlight').count()).toBe(2);
  });
});
