/**
 * Incremental assets and snapshots in the web UI, in a real headless Chromium against a real
 * `assets ui` process: the asset page says what the latest write did (rows inserted, updated
 * and deleted with the watermark read; versions inserted and closed), the history table has it
 * per run and the run page's event log too; the launch form's "full refresh" rebuilds an
 * incremental asset, and refuses to drop a snapshot's history until its second box is checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';

const missing = browserMissing();

const FILES = {
  'strata.json': JSON.stringify({ name: 'writes' }),
  'defs/raw/orders.sql': `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select * from read_csv({{ landing }} || '/orders.csv', columns = {'order_id': 'INTEGER', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
where updated_at > {{ watermark }}
`,
  'defs/snapshots/customers.sql': `-- materialization: snapshot
-- unique_key: customer_id
select * from read_csv({{ landing }} || '/customers.csv', columns = {'customer_id': 'INTEGER', 'name': 'VARCHAR'})
`,
  'landing/orders.csv': 'order_id,status,updated_at\n1,new,2025-01-01 00:00:00\n2,new,2025-01-02 00:00:00\n',
  'landing/customers.csv': 'customer_id,name\n1,Ana\n2,Ben\n',
};

describe.skipIf(missing !== undefined)(`write counts and full refresh in the web UI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let project: string;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    project = sandbox.writeProject('writes', FILES);
    const first = runCli(['materialize', '--select', '*', '--project', project]);
    expect(first.status, first.stderr + first.stdout).toBe(0);
    fs.writeFileSync(path.join(project, 'landing/orders.csv'), 'order_id,status,updated_at\n2,paid,2025-01-05 00:00:00\n3,new,2025-01-06 00:00:00\n');
    fs.writeFileSync(path.join(project, 'landing/customers.csv'), 'customer_id,name\n1,Ana Maria\n2,Ben\n');
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  const lastWrite = () => page.locator('[data-testid="last-write"]').textContent();

  it('shows what an incremental build did on the asset page, in its history and on the run page', async () => {
    await page.goto(`${ui.url}/#/assets/raw/orders`);
    await expect.poll(lastWrite).toBe('full: 2 inserted, 0 updated, 0 deleted');
    await page.locator('button[data-testid="materialize"]').click();
    const merged = 'incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00';
    await expect.poll(lastWrite, { timeout: 60_000, interval: 250 }).toBe(merged);
    const history = page.locator('[data-testid="history-table"]');
    expect(await history.locator('th').allTextContents()).toContain('Write');
    expect(await history.locator('tbody tr').first().textContent()).toContain(merged);
    await page.locator('[data-testid="launched-run"]').click();
    await expect.poll(() => page.locator('[data-testid="run-status"]').textContent()).toBe('success');
    expect(await page.locator('[data-testid="event-log"]').textContent()).toContain(`materialized raw/orders (3 rows): ${merged}`);
  });

  it('rebuilds an incremental asset from scratch with "full refresh"', async () => {
    await page.goto(`${ui.url}/#/assets/raw/orders`);
    await page.locator('[data-testid="full-refresh"]').check();
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(lastWrite, { timeout: 60_000, interval: 250 }).toBe('full: 2 inserted, 0 updated, 0 deleted');
  });

  it('refuses a full refresh of a snapshot until "drop the snapshot\'s history" is checked, then rebuilds it', async () => {
    await page.goto(`${ui.url}/#/assets/snapshots/customers`);
    await expect.poll(lastWrite).toBe('snapshot: 2 inserted, 0 closed');
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(lastWrite, { timeout: 60_000, interval: 250 }).toBe('snapshot: 1 inserted, 1 closed');
    expect(await page.locator('[data-testid="force-refresh"]').isVisible()).toBe(false);
    await page.locator('[data-testid="full-refresh"]').check();
    await page.locator('button[data-testid="materialize"]').click();
    await expect
      .poll(() => page.locator('[data-testid="materialize-error"]').textContent())
      .toContain('would drop the history of snapshot snapshots/customers');
    await page.locator('[data-testid="force-refresh"]').check();
    await page.locator('button[data-testid="materialize"]').click();
    await expect.poll(lastWrite, { timeout: 60_000, interval: 250 }).toBe('snapshot: 2 inserted, 0 closed');
  });
});
