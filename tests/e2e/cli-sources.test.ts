/**
 * The `assets` CLI on small projects that read files: SQL assets reading landing files by a
 * project-relative path or through `{{ landing }}` / `{{ project_dir }}`, run with `--project`
 * from another folder (the CLI runs from the repository root); a landing file that disappears;
 * and a source whose observation fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryDuckDb, REPO_ROOT, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

const PACKAGE = JSON.stringify({ type: 'module', private: true });

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

describe('paths in SQL assets resolve against the project folder', () => {
  let project: string;

  beforeAll(() => {
    project = sandbox.writeProject("paths o'project", {
      'package.json': PACKAGE,
      'strata.json': '{}',
      'landing/x.csv': 'id,amount\n1,10\n2,20\n',
      'landing/x_2.csv': 'id,amount\n3,30\n',
      'data/extra.csv': 'id\n7\n',
      'defs/raw/relative.sql': "select * from read_csv('landing/x.csv')",
      'defs/raw/relative_glob.sql': "select * from read_csv('landing/x*.csv')",
      'defs/raw/templated.sql': "select * from read_csv({{ landing }} || '/x.csv')",
      'defs/raw/project_dir.sql': "select * from read_csv({{project_dir}} || '/data/extra.csv')",
      'defs/raw/templated_view.sql': '-- materialization: view\nselect {{ landing }} as landing_dir',
    });
  });

  it('materialize --project DIR from another folder reads landing/x.csv of the project', () => {
    expect(fs.existsSync(path.join(REPO_ROOT, 'landing', 'x.csv'))).toBe(false);
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('5 materialized');
    expect(result.status).toBe(0);
  });

  it('wrote the rows of the files: relative paths, globs and the template variables', async () => {
    const { warehouse } = stateFiles(project);
    const counts = await queryDuckDb(
      warehouse,
      `select (select count(*) from raw.relative) as relative, (select count(*) from raw.relative_glob) as glob,
              (select count(*) from raw.templated) as templated, (select max(id) from raw.project_dir) as extra`,
    );
    expect(counts).toEqual([{ relative: 2, glob: 3, templated: 2, extra: 7 }]);
    // {{ landing }} is the absolute landing folder, as a string literal (the quote in the folder name escaped).
    expect(await queryDuckDb(warehouse, 'select landing_dir from raw.templated_view')).toEqual([{ landing_dir: path.join(project, 'landing') }]);
  });

  it('an unknown template variable is a definition error naming the file, with the path variables listed', () => {
    const broken = sandbox.writeProject('paths-broken', {
      'package.json': PACKAGE,
      'strata.json': '{}',
      'defs/raw/bad.sql': "select * from read_csv({{ landing_dir }} || '/x.csv')",
    });
    const result = runCli(['materialize', '--select', '*', '--project', broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('defs/raw/bad.sql');
    expect(result.stderr).toContain('unknown template variable {{ landing_dir }}');
    expect(result.stderr).toContain('{{ landing }}');
    expect(stackFrames(result.stderr)).toEqual([]);
  });
});

describe('a landing file that disappears', () => {
  let project: string;

  beforeAll(() => {
    project = sandbox.writeProject('gone', {
      'package.json': PACKAGE,
      'strata.json': '{}',
      'landing/menu.csv': 'item,price\nsoup,4\n',
      'defs/landing/menu.ts': [
        "import { existsSync, readFileSync } from 'node:fs';",
        "import { sourceAsset } from 'strata';",
        'export const menu = sourceAsset({',
        "  key: 'landing/menu',",
        "  observe: (ctx) => (existsSync(ctx.landing.path('menu.csv')) ? [{ dataVersion: readFileSync(ctx.landing.path('menu.csv'), 'utf8'), metadata: { file: 'menu.csv' } }] : []),",
        '});',
      ].join('\n'),
      'defs/raw/menu.sql': "-- deps: landing/menu\nselect * from read_csv('landing/menu.csv')",
    });
  });

  it('is a change: what read it is stale, the reason says it is gone, and rebuilding it fails naming the file', () => {
    expect(runCli(['materialize', '--select', '*', '--project', project]).status).toBe(0);
    fs.rmSync(path.join(project, 'landing', 'menu.csv'));

    const status = runCli(['status', '--stale', '--why', '--project', project]);
    expect(status.stdout).toContain('upstream landing/menu is gone: its data (item,pri…) is no longer there');

    const rebuild = runCli(['materialize', '--select', '*', '--stale-only', '--project', project]);
    expect(rebuild.status).toBe(1);
    expect(rebuild.stdout).toContain(`✗ raw/menu`);
    expect(rebuild.stdout).toContain(`raw/menu reads landing/menu.csv, which does not exist (${path.join(project, 'landing', 'menu.csv')})`);
    expect(rebuild.stdout).not.toContain('IO Error');
  });
});

describe('a source that cannot be observed', () => {
  /** A project whose source landing/db fails its first `failures` observations (counted in a file). */
  function dbProject(name: string, failures: number): string {
    return sandbox.writeProject(name, {
      'package.json': PACKAGE,
      'strata.json': JSON.stringify({ retries: { maxRetries: 2, delay: 1 } }),
      'defs/landing/db.ts': [
        "import { existsSync, readFileSync, writeFileSync } from 'node:fs';",
        "import { sourceAsset } from 'strata';",
        'export const db = sourceAsset({',
        "  key: 'landing/db',",
        '  observe: (ctx) => {',
        "    const counter = ctx.landing.path('../attempts.txt');",
        "    const n = (existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0) + 1;",
        '    writeFileSync(counter, String(n));',
        `    if (n <= ${failures}) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');`,
        "    return [{ dataVersion: 'v1' }];",
        '  },',
        '});',
      ].join('\n'),
      'defs/raw/from_db.ts':
        "import { asset } from 'strata';\nexport const fromDb = asset({ key: 'raw/from_db', deps: ['landing/db'], materialize: () => ({}) });",
      'defs/raw/other.sql': 'select 1 as x',
    });
  }

  it('is retried by the retry policy, each retry shown, and the run succeeds', () => {
    const project = dbProject('flaky-db', 2);
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(project, 'attempts.txt'), 'utf8')).toBe('3');
    expect(result.stdout).toMatch(/↻ landing\/db +observing landing\/db failed \(attempt 1 of 3\), retrying in 1ms: connect ECONNREFUSED 127\.0\.0\.1:5432/);
    expect(result.stdout).toContain('2 materialized');
  });

  it('once its retries are spent, the run output says why and skips what reads it', () => {
    const project = dbProject('down-db', 100);
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/✗ landing\/db +observing source landing\/db failed: connect ECONNREFUSED 127\.0\.0\.1:5432/);
    expect(result.stdout).toMatch(/- raw\/from_db skipped: source landing\/db could not be observed: connect ECONNREFUSED 127\.0\.0\.1:5432/);
    expect(result.stdout).toContain('✓ raw/other');
    expect(result.stdout).toContain('1 materialized');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
  });
});

describe('a source that cannot be observed, in a backfill', () => {
  it('prints the cause', () => {
    const project = sandbox.writeProject('down-db-daily', {
      'package.json': PACKAGE,
      'strata.json': '{}',
      'defs/landing/db.ts': [
        "import { daily, sourceAsset } from 'strata';",
        "export const db = sourceAsset({ key: 'landing/db', partitions: daily({ start: '2025-01-01', end: '2025-01-03' }), observe: () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } });",
      ].join('\n'),
      'defs/raw/from_db.ts':
        "import { asset, daily } from 'strata';\nexport const fromDb = asset({ key: 'raw/from_db', deps: ['landing/db'], partitions: daily({ start: '2025-01-01', end: '2025-01-03' }), materialize: () => ({}) });",
    });
    const result = runCli(['backfill', '--select', 'raw/from_db', '--from', '2025-01-01', '--to', '2025-01-02', '--project', project]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('✗ landing/db: observing source landing/db failed: connect ECONNREFUSED 127.0.0.1:5432');
  });
});
