/**
 * Schema history in headless Chromium against a real `assets ui` process: after a SQL asset's
 * columns changed, its page's Schema section lists the current columns and types and the change
 * with a link to its run, and the run page's event log lists the change column by column.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';

const missing = browserMissing();

describe.skipIf(missing !== undefined)(`schema history in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  let runId: string;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    const project = sandbox.writeProject('ui-schema', {
      'strata.json': JSON.stringify({ name: 'ui-schema' }),
      'defs/marts/sales.sql': "select 1 as id, 10.5::decimal(10,2) as amount, 'x' as legacy_code\n",
    });
    expect(runCli(['materialize', '--select', '*', '--project', project]).status).toBe(0);
    fs.writeFileSync(path.join(project, 'defs/marts/sales.sql'), 'select 1 as id, 10.5::double as amount, 0.1::double as discount_pct\n');
    expect(runCli(['materialize', '--select', '*', '--project', project]).status).toBe(0);
    runId = parseJson<{ id: string }[]>(runCli(['runs', '--json', '--project', project]))[0]?.id ?? '';
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  it("the asset page's Schema section: current columns and types, and the change with its run", async () => {
    await page.goto(`${ui.url}/#/assets/marts/sales`);
    const columns = page.locator('[data-testid="schema-columns"] tbody tr');
    await expect.poll(() => columns.count(), { timeout: 20_000 }).toBe(3);
    const rows = await columns.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));
    expect(rows).toEqual([
      ['id', 'INTEGER'],
      ['amount', 'DOUBLE'],
      ['discount_pct', 'DOUBLE'],
    ]);
    const change = page.locator('[data-testid="schema-changes"] tbody tr');
    expect(await change.count()).toBe(1);
    expect(await change.locator('[data-testid="schema-change"] li').allTextContents()).toEqual([
      '+ discount_pct DOUBLE',
      '− legacy_code VARCHAR',
      '~ amount DECIMAL(10,2) → DOUBLE',
    ]);
    expect(await change.locator('a').getAttribute('href')).toBe(`#/runs/${runId}`);
  });

  it("the run page's event log lists the change column by column", async () => {
    await page.goto(`${ui.url}/#/runs/${runId}`);
    const row = page.locator('[data-testid="event-log"] tr[data-type="schema_change"]');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await row.getAttribute('data-level')).toBe('warn');
    expect(await row.locator('td.msg').textContent()).toContain('schema changed: +discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE');
    expect(await row.locator('[data-testid="schema-change"] li').count()).toBe(3);
  });
});
