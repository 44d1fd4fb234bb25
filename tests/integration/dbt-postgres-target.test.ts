/**
 * A dbt project loaded for a Postgres warehouse (no server needed to load): `target` is
 * `postgres` with the schema of the URL's `search_path` (else `public`, where Postgres creates
 * unqualified tables), models directly in `models/` and snapshots without `target_schema` are
 * built there, and a model in Postgres SQL DuckDB's parser cannot read depends on what it refs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A URL without a password (strata.json may hold it); nothing listens there: loading never connects. */
function warehouseUrl(searchPath?: string): string {
  const url = new URL('postgres://strata@127.0.0.1:1/analytics');
  if (searchPath !== undefined) url.searchParams.set('options', `-c search_path=${searchPath}`);
  return url.toString();
}

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: pg_target\nconfig-version: 2\n',
  'seeds/raw_orders.csv': 'id,status,doc\n1,placed,{"a":{"b":1}}\n',
  'models/staging/stg_orders.sql': "select id, status, doc from {{ ref('raw_orders') }}\n",
  'models/targets.sql':
    "select '{{ target.type }}' as target_type, '{{ target.schema }}' as target_schema, '{{ target.name }}' as target_name, '{{ target.database }}' as target_database\n",
  'snapshots/orders_snapshot.sql': `{% snapshot orders_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols='all') }}
select * from {{ ref('raw_orders') }}
{% endsnapshot %}
`,
};

async function load(warehouse: string | undefined, files: Record<string, string> = FILES): Promise<Project> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-pg-target-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'strata.json'), JSON.stringify({ name: 'pg_target', dbt: '.', ...(warehouse === undefined ? {} : { warehouse }) }));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return loadProject(dir);
}

function sqlOf(project: Project, key: string): string {
  const compute = project.definitions.get(key)?.compute;
  if (compute?.type !== 'sql') throw new Error(`${key} is not a SQL asset`);
  return compute.sql;
}

describe('target on a Postgres warehouse', () => {
  it("is postgres with the schema of the URL's search_path; root models and snapshots are built in it", async () => {
    const project = await load(warehouseUrl('reporting,public'));
    expect([...project.graph.keys].sort()).toEqual(['reporting/orders_snapshot', 'reporting/targets', 'seeds/raw_orders', 'staging/stg_orders']);
    expect(sqlOf(project, 'reporting/targets')).toContain(
      "'postgres' as target_type, 'reporting' as target_schema, 'dev' as target_name, 'analytics' as target_database",
    );
  });

  it('gives the SQL models, seeds and snapshots kind postgres instead of duckdb', async () => {
    const project = await load(warehouseUrl());
    expect(project.definitions.get('seeds/raw_orders')?.spec.kinds).toEqual(['seed', 'postgres', 'dbt']);
    expect(project.definitions.get('staging/stg_orders')?.spec.kinds).toEqual(['sql', 'postgres', 'dbt']);
    expect(project.definitions.get('public/orders_snapshot')?.spec.kinds).toEqual(['sql', 'postgres', 'dbt']);
  });

  it('is schema public without a search_path (where Postgres creates unqualified tables)', async () => {
    const project = await load(warehouseUrl());
    expect(project.graph.keys).toContain('public/targets');
    expect(project.graph.keys).toContain('public/orders_snapshot');
    expect(sqlOf(project, 'public/targets')).toContain("'postgres' as target_type, 'public' as target_schema");
  });

  it('stays duckdb and main on a DuckDB warehouse', async () => {
    const project = await load(undefined);
    expect(project.graph.keys).toContain('main/orders_snapshot');
    expect(sqlOf(project, 'main/targets')).toContain("'duckdb' as target_type, 'main' as target_schema, 'dev' as target_name, 'warehouse' as target_database");
  });
});

describe('a dbt model in Postgres SQL that DuckDB cannot parse', () => {
  const POSTGRES_ONLY = {
    ...FILES,
    'models/sources.yml': 'version: 2\nsources:\n  - name: crm\n    tables:\n      - name: accounts\n',
    'models/staging/stg_docs.sql': "{{ config(materialized='ephemeral') }}\nselect id, doc::jsonb as doc from {{ ref('stg_orders') }}\n",
    'models/marts/order_docs.sql':
      "select d.id, d.doc #>> '{a,b}' as b, a.name\nfrom {{ ref('stg_docs') }} d join {{ source('crm', 'accounts') }} a on a.id = d.id\n",
    'tests/assert_docs_b.sql':
      "select d.* from {{ ref('order_docs') }} d join {{ ref('stg_orders') }} o on o.id = d.id where o.doc::jsonb #>> '{a,b}' is distinct from d.b\n",
    'snapshots/docs_snapshot.sql': `{% snapshot docs_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='history') }}
select id, doc::jsonb #>> '{a}' as a from {{ ref('raw_orders') }}
{% endsnapshot %}
`,
  };

  it('depends on what it refs and the sources it reads (through ephemeral models too), as in dbt', async () => {
    const project = await load(warehouseUrl('reporting'), POSTGRES_ONLY);
    expect(project.definitions.get('marts/order_docs')?.spec.deps).toEqual(['crm/accounts', 'staging/stg_orders']);
    // A singular test in Postgres SQL: a check on the model it refs last, reading the others it refs.
    const check = project.definitions.get('marts/order_docs')?.spec.checks.find((c) => c.name === 'assert_docs_b');
    expect(check).toMatchObject({ type: 'custom_sql', reads: ['staging/stg_orders'] });
    expect(project.definitions.get('history/docs_snapshot')?.spec.deps).toEqual(['seeds/raw_orders']);
  });

  it('is still a definition error on a DuckDB warehouse, where the SQL runs', async () => {
    await expect(load(undefined, POSTGRES_ONLY)).rejects.toThrow(/marts\/order_docs.*SQL does not parse/);
  });
});
