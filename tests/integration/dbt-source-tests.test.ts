/**
 * Tests declared on dbt sources (on a source table and on its columns, builtins and the project's
 * own generic tests) as checks of the source asset, run on real DuckDB and SQLite files once a
 * run has observed the source: a failing `error` test skips the models reading the source (their
 * tables keep their rows) and fails the run; a `warn` one is recorded only. The table's
 * `meta.owner` and description go to the asset.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import type { Project } from '../../core/model/project.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const SOURCES = `version: 2
sources:
  - name: raw
    meta: { owner: platform@example.com }
    tables:
      - name: events
        description: One row per click
        meta: { owner: clicks@example.com }
        data_tests:
          - has_rows
        columns:
          - name: id
            data_tests: [unique, not_null]
          - name: kind
            tests:
              - accepted_values: { values: [click, view], config: { severity: warn } }
      - name: users
`;

const FILES: Record<string, string> = {
  'dbt/dbt_project.yml': 'name: clicks\nmodels:\n  clicks:\n    +materialized: table\n',
  'dbt/models/sources.yml': SOURCES,
  'dbt/models/staging/stg_events.sql': "select id, kind from {{ source('raw', 'events') }}\n",
  'dbt/models/staging/stg_users.sql': "select id from {{ source('raw', 'users') }}\n",
  'dbt/macros/has_rows.sql': '{% test has_rows(model) %}\nselect 1 as missing where not exists (select 1 from {{ model }})\n{% endtest %}\n',
};

describe('dbt source tests', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-dbt-source-tests-', { name: 'clicks', dbt: 'dbt' }, FILES);
    await workspace.warehouse.run(
      "create schema raw; create table raw.events (id integer, kind varchar); insert into raw.events values (1, 'click'), (2, 'view'); create table raw.users (id integer); insert into raw.users values (7)",
    );
  });

  afterEach(() => workspace.close());

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, file), text);
  }

  const built = (project: Project) => project.graph.keys.filter((k) => !project.graph.spec(k).source);
  const results = async () => (await workspace.storage.latestCheckResults(['raw/events'])).map((c) => `${c.checkName} ${c.passed}`).sort();

  it('become checks of the source asset, which carries the table owner and description', async () => {
    const project = await loadProject(workspace.dir);
    const spec = project.graph.spec('raw/events');
    expect(spec.checks.map((c) => `${c.name} ${c.severity} ${c.blocking}`)).toEqual([
      'unique(id) error true',
      'not_null(id) error true',
      "accepted_values(kind, 'click', 'view') warn false",
      'has_rows error true',
    ]);
    expect(spec).toMatchObject({ source: true, owners: ['clicks@example.com'], description: 'One row per click' });
    // A table without its own owner has its source's.
    expect(project.graph.spec('raw/users').owners).toEqual(['platform@example.com']);
  });

  it('run once the source is observed: a failing error test skips the models reading it; a warn test only records', async () => {
    let project = await loadProject(workspace.dir);
    expect((await workspace.run(project, built(project))).status).toBe('success');
    expect(await results()).toEqual(["accepted_values(kind, 'click', 'view') true", 'has_rows true', 'not_null(id) true', 'unique(id) true']);

    await workspace.warehouse.run("insert into raw.events values (3, 'scroll')");
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project, built(project))).status).toBe('success');
    expect(await results()).toContain("accepted_values(kind, 'click', 'view') false");
    expect(await workspace.warehouse.query('select count(*)::int as n from staging.stg_events')).toEqual([{ n: 3 }]);

    await workspace.warehouse.run("insert into raw.events values (3, 'click'); insert into raw.users values (8)");
    const run = await workspace.run(project, built(project));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/source raw\/events failed blocking check unique\(id\)/);
    expect(await results()).toContain('unique(id) false');
    const steps = await workspace.storage.listEvents(run.runId);
    const skipped = steps.find((e) => e.type === 'step_skipped' && e.assetKey === 'staging/stg_events');
    expect(skipped?.message).toMatch(/source raw\/events failed blocking check unique\(id\)/);
    // The model reading the bad source kept its rows; the one reading the other source was built.
    expect(await workspace.warehouse.query('select count(*)::int as n from staging.stg_events')).toEqual([{ n: 3 }]);
    expect(await workspace.warehouse.query('select count(*)::int as n from staging.stg_users')).toEqual([{ n: 2 }]);
  });

  it('a source test reading a model or seed is an error: it runs before anything is built', async () => {
    write(
      'dbt/tests/generic/known_user.sql',
      "{% test known_user(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} not in (select id from {{ ref('stg_users') }})\n{% endtest %}\n",
    );
    write(
      'dbt/models/sources.yml',
      SOURCES.replace(
        '            data_tests: [unique, not_null]\n',
        "            data_tests:\n              - relationships: { to: \"source('raw', 'users')\", field: id }\n              - relationships: { to: ref('stg_users'), field: id }\n              - known_user\n",
      ),
    );
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.assetKey} ${e.context.file} ${e.message}`)).toEqual([
      "raw/events dbt/models/sources.yml column id: test relationships: ref('stg_users'): a source test runs when the source is observed, before the models and seeds are built, so it may read only sources",
      "raw/events dbt/models/sources.yml test known_user(id): it reads ref('stg_users'): a source test runs when the source is observed, before the models and seeds are built, so it may read only sources",
    ]);
  });

  it('tests on a source table a model builds are an error: the table is that model', async () => {
    write('dbt/models/raw/events.sql', "select 1 as id, 'click' as kind\n");
    write('dbt/models/staging/stg_events.sql', "select id, kind from {{ ref('events') }}\n");
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.file} ${e.message}`)).toEqual([
      'dbt/models/sources.yml source table raw/events is built by an asset of the project, so it is no source asset: put its tests on that asset',
    ]);
  });
});
