/**
 * The Alerts page in a real headless Chromium against a real `assets ui` process: after a
 * failing `assets materialize` whose webhook is down, it lists the rule and the failed delivery
 * with its error (the run itself failed for its own reason, exit 1, not because of the alert).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, closeUiPage, openUiPage, type UiProcess } from './ui-harness.ts';
import { closedPort } from '../postgres.ts';

const missing = browserMissing();

describe.skipIf(missing !== undefined)(`the Alerts page${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let sandbox: Sandbox;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sandbox = Sandbox.create();
    const dead = `http://127.0.0.1:${await closedPort()}/hook`;
    const project = sandbox.writeProject('alerts', {
      'strata.json': JSON.stringify({ name: 'alerts', alerts: [{ on: ['run_failure'], select: 'marts/*', webhook: dead }] }),
      'package.json': '{"type":"module"}',
      'defs/marts/broken.sql': "select error('upstream feed is empty') as x\n",
    });
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /alert alerts\[0\] not delivered \(marts\/broken failed\) after \d attempts: webhook: POST to http:\/\/127\.0\.0\.1:\d+ failed: ECONNREFUSED/,
    );
    ({ ui, browser, page } = await openUiPage(project));
  });

  afterAll(async () => {
    await closeUiPage({ ui, browser });
    sandbox?.cleanup();
  });

  it('lists the rule and the failed delivery with its error', async () => {
    await page.goto(`${ui.url}/#/alerts`);
    await expect.poll(() => page.locator('body').getAttribute('data-ready')).toBe('alerts');
    expect(await page.locator('#alert-rules tbody tr').first().textContent()).toContain('alerts[0]run_failuremarts/*webhook');
    const row = page.locator('#alert-deliveries tbody tr').first();
    expect(await row.locator('[data-testid="alert-status"]').textContent()).toBe('failed');
    expect(await row.textContent()).toContain('marts/broken');
    expect(await row.locator('[data-testid="alert-error"]').textContent()).toContain('ECONNREFUSED');
    expect(await page.locator('[data-testid="nav-alerts"]').getAttribute('aria-current')).toBe('page');
  });
});
