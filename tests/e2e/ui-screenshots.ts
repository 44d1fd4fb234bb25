/**
 * `npm run screenshots`: the README's pictures of the web UI. Builds three days of the bundled
 * example (a copy in a temp folder) from the CLI in two runs, serves it with `assets ui`, and saves
 * the main pages from headless Chromium under docs/.
 */
import path from 'node:path';
import { REPO_ROOT, runCli, Sandbox } from './cli-harness.ts';
import { browserMissing, launchChromium, startUi } from './ui-harness.ts';

const DOCS = path.join(REPO_ROOT, 'docs');

const missing = browserMissing();
if (missing) {
  console.error(`cannot take screenshots: ${missing}`);
  process.exit(2);
}

const sandbox = Sandbox.create();
try {
  await sandbox.generateLanding(3);
  const project = sandbox.copyExample('example');
  // Two runs, so the asset page charts its row counts over time.
  for (const args of [
    ['backfill', '--select', '+marts/*', '--from', '2025-01-01', '--to', '2025-01-02'],
    ['backfill', '--select', '+marts/*', '--from', '2025-01-03', '--to', '2025-01-03'],
  ]) {
    const result = runCli([...args, '--project', project]);
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
  const ui = await startUi(project);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    const shoot = async (name: string) => {
      await page.waitForTimeout(300); // let transitions settle
      await page.screenshot({ path: path.join(DOCS, name) });
      console.log(`docs/${name}`);
    };

    await page.goto(`${ui.url}/#/`);
    await page.waitForFunction(() => performance.getEntriesByName('lineage-rendered').length > 0);
    await page.locator('svg#lineage g.node[data-key="marts/fct_sales"] rect').first().click();
    await shoot('ui-lineage.png');

    await page.goto(`${ui.url}/#/assets/marts/fct_sales`);
    await page.locator('h1[data-testid="asset-key"]').waitFor();
    await page.waitForLoadState('networkidle');
    await shoot('ui-asset.png');

    await page.goto(`${ui.url}/#/runs`);
    await page.locator('#run-list tr[data-run-id] a').first().click();
    await page.locator('svg.timeline').waitFor();
    await page.waitForLoadState('networkidle');
    await shoot('ui-run.png');

    await page.goto(`${ui.url}/#/backfills`);
    await page.locator('#backfill-list [data-backfill-id]').first().waitFor();
    await shoot('ui-backfills.png');
  } finally {
    await browser.close();
    await ui.stop();
  }
} finally {
  sandbox.cleanup();
}
