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
