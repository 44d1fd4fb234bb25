/**
 * dbt snapshots through the built `assets` CLI: a snapshot built twice over a changed seed keeps
 * dbt's history, and a snapshot config Strata cannot write as dbt would exits 2 naming the
 * file and line, writing nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryDuckDb, runCli, Sandbox, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

const SNAPSHOT = (config: string) => `{% snapshot orders_snapshot %}
{{ config(${config}) }}
select * from {{ ref('raw_orders') }}
{% endsnapshot %}
`;

describe('dbt snapshots through the CLI', () => {
  it('materialize keeps the history in dbt columns, at <target_schema>.<name>', async () => {
    const project = sandbox.writeProject('snap_ok', {
      'dbt_project.yml': 'name: snap_ok\n',
      'seeds/raw_orders.csv': 'id,status\n1,placed\n2,placed\n',
      'snapshots/orders.sql': SNAPSHOT("target_schema='snapshots', unique_key='id', strategy='check', check_cols='all'"),
    });
    const first = runCli(['materialize', '--select', '*', '--project', project]);
    expect(first.status, first.stderr).toBe(0);
    fs.writeFileSync(path.join(project, 'seeds/raw_orders.csv'), 'id,status\n1,shipped\n2,placed\n');
    const second = runCli(['materialize', '--select', '*', '--project', project]);
    expect(second.status, second.stderr).toBe(0);
    const rows = await queryDuckDb(
      stateFiles(project).warehouse,
      'select id, status, dbt_valid_to is null as current, dbt_valid_from = dbt_updated_at as same from snapshots.orders_snapshot order by id, dbt_valid_from',
    );
    expect(rows).toEqual([
      { id: 1, status: 'placed', current: false, same: true },
      { id: 1, status: 'shipped', current: true, same: true },
      { id: 2, status: 'placed', current: true, same: true },
    ]);
    expect(runCli(['dbt', 'ls', '--project', project]).stdout).toMatch(
      /snapshot\.snap_ok\.orders_snapshot\s+snapshots\/orders_snapshot\s+snapshot\s+snapshots\/orders\.sql/,
    );
  });

  it('a config Strata cannot write as dbt would exits 2 naming the file and line, and writes nothing', () => {
    const project = sandbox.writeProject('snap_bad', {
      'dbt_project.yml': 'name: snap_bad\n',
      'seeds/raw_orders.csv': 'id,status\n1,placed\n',
      'snapshots/orders.sql': SNAPSHOT("target_schema='snapshots', unique_key='id', strategy='check', check_cols='all', hard_deletes='new_record'"),
    });
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("snapshots/orders.sql:2: snapshot orders_snapshot: hard_deletes='new_record' is not supported by Strata yet");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(project, '.strata'))).toBe(false);
  });
});
