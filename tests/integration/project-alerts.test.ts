/**
 * The loader collects alert rules from strata.json (named by index) and from the project's
 * modules (`alert()`, named by `name`), and reports bad rules naming the rule, its `on` and its file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { SeedRefresher } from '../../core/engine/project/seed-refresh.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-alert-rules-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const STRATA = path.resolve(import.meta.dirname, '../../core/index.ts');

function write(alerts: unknown, files: Record<string, string> = {}): void {
  const all = {
    'strata.json': JSON.stringify({ name: 'a', alerts }),
    'package.json': '{ "type": "module" }',
    'defs/marts/b.sql': 'select 1 as x\n',
    ...files,
  };
  for (const [file, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text.replaceAll("'strata'", JSON.stringify(STRATA)));
  }
}

/** The messages of the definition errors loading the project throws. */
async function problems(): Promise<string[]> {
  const error = await loadProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DefinitionErrors);
  return (error as DefinitionErrors).errors.map((e) => `${e.context.file}: ${e.message}`);
}

describe('alert rules in a project', () => {
  it('are read from strata.json and from modules, with their targets, windows and files', async () => {
    write([{ on: ['run_failure', 'run_failure'], select: 'marts/*', webhook: 'env:HOOK_URL', window: '5m' }], {
      'defs/alerts.ts':
        "import { alert } from 'strata';\nexport const a = alert({ name: 'mail_oncall', on: ['daemon_error'], email: { to: 'oncall@example.com', from: 's@example.com', host: 'smtp.example.com', port: 465 } });\n",
    });
    const project = await loadProject(dir);
    expect(project.alerts).toEqual([
      {
        name: 'alerts[0]',
        on: ['run_failure'],
        select: 'marts/*',
        windowMs: 300_000,
        targets: [{ type: 'webhook', url: 'env:HOOK_URL' }],
        file: 'strata.json',
      },
      {
        name: 'mail_oncall',
        on: ['daemon_error'],
        windowMs: 60_000,
        targets: [{ type: 'email', to: ['oncall@example.com'], from: 's@example.com', host: 'smtp.example.com', port: 465, secure: true }],
        file: 'defs/alerts.ts',
      },
    ]);
  });

  it('are kept when the daemon re-hashes an edited seed', async () => {
    write([{ on: ['run_failure'], webhook: 'https://example.com/h' }], {
      'seeds/countries.csv': 'code,name\nfr,France\n',
      'defs/alerts.ts':
        "import { alert } from 'strata';\nexport const a = alert({ name: 'declared', on: ['daemon_error'], webhook: 'https://example.com/h' });\n",
    });
    const loaded = await loadProject(dir);
    const seeds = new SeedRefresher();
    seeds.refresh(loaded);
    fs.appendFileSync(path.join(dir, 'seeds/countries.csv'), 'us,United States\n');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'seeds/countries.csv'), later, later);
    const refreshed = seeds.refresh(loaded);
    expect(refreshed).not.toBe(loaded);
    expect(refreshed.alerts.map((a) => a.name)).toEqual(['alerts[0]', 'declared']);
  });

  it('report every bad rule of strata.json, naming its index and on', async () => {
    write([
      { on: ['run_failure'], slack: 'https://hooks.slack.com/services/T/B/X' },
      { on: ['backfill_done'], webhook: 'https://example.com/h', window: 'soon' },
      { on: ['check_warning'] },
      { on: [], webhook: 'https://example.com/h' },
    ]);
    expect(await problems()).toEqual([
      'strata.json: alert rule alerts[0] (on: run_failure): slack: must be env:NAME, the environment variable holding the incoming-webhook URL',
      'strata.json: alert rule alerts[1] (on: backfill_done): window: "soon" is not a duration (e.g. "5m", "30s")',
      'strata.json: alert rule alerts[2] (on: check_warning): no target: give "webhook", "slack" or "email"',
      'strata.json: alert rule alerts[3] (on: ): on: Too small: expected array to have >=1 items',
    ]);
  });

  it('report selections that match nothing and names declared twice', async () => {
    write([{ on: ['run_failure'], select: 'mart/*', webhook: 'https://example.com/h' }], {
      'defs/one.ts': "import { alert } from 'strata';\nexport const a = alert({ name: 'x', on: ['run_failure'], webhook: 'https://example.com/h' });\n",
      'defs/two.ts': "import { alert } from 'strata';\nexport const a = alert({ name: 'x', on: ['check_failure'], webhook: 'https://example.com/h' });\n",
    });
    const found = await problems();
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^strata\.json: alert rule alerts\[0\] \(on: run_failure\): select "mart\/\*": /);
    expect(found[1]).toBe('defs/two.ts: alert rule x (on: check_failure) is defined twice (also in defs/one.ts)');
  });
});
