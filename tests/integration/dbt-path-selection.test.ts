/**
 * `path:` on loaded dbt projects: each model, seed, snapshot and source asset records its dbt
 * node's file relative to the dbt project's root (not to the Strata project holding it), so
 * `path:models/staging` selects what dbt's `--select path:models/staging` does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { selectAssets } from '../../core/model/selection/index.ts';
import type { Project } from '../../core/model/project.ts';

const FILES: Record<string, string> = {
  'strata.json': JSON.stringify({ name: 'holder', dbt: 'transform' }),
  'defs/reports/summary.sql': 'select count(*) as n from marts.orders\n',
  'transform/dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +materialized: table\n',
  'transform/seeds/raw_orders.csv': 'id,status\n1,placed\n',
  'transform/models/staging/stg_orders.sql': "select id, status from {{ ref('raw_orders') }}\n",
  'transform/models/staging/sources.yml': 'version: 2\nsources:\n  - name: shop_db\n    schema: landing\n    tables:\n      - name: customers\n',
  'transform/models/staging/stg_customers.sql': "select * from {{ source('shop_db', 'customers') }}\n",
  'transform/models/marts/orders.sql': "select * from {{ ref('stg_orders') }}\n",
  'transform/snapshots/orders_snapshot.sql': [
    '{% snapshot orders_snapshot %}',
    "{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols='all') }}",
    "select * from {{ ref('stg_orders') }}",
    '{% endsnapshot %}',
  ].join('\n'),
};

let dir: string;
let project: Project;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-path-'));
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  project = await loadProject(dir);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const select = (text: string) => [...selectAssets(project.graph, text).keys].sort();

describe('path: on a loaded dbt project', () => {
  it('records every dbt node’s file relative to the dbt project root, and none on the Strata project’s own assets', () => {
    const paths = Object.fromEntries(project.graph.keys.map((key) => [key, project.graph.spec(key).dbtPath ?? null]));
    expect(paths).toEqual({
      'seeds/raw_orders': 'seeds/raw_orders.csv',
      'staging/stg_orders': 'models/staging/stg_orders.sql',
      'staging/stg_customers': 'models/staging/stg_customers.sql',
      'marts/orders': 'models/marts/orders.sql',
      'snapshots/orders_snapshot': 'snapshots/orders_snapshot.sql',
      'landing/customers': 'models/staging/sources.yml',
      'reports/summary': null,
    });
  });

  it('selects by folder, file and resource folder, with operators', () => {
    expect(select('path:models/staging')).toEqual(['landing/customers', 'staging/stg_customers', 'staging/stg_orders']);
    expect(select('path:models/staging/stg_orders.sql')).toEqual(['staging/stg_orders']);
    expect(select('path:marts')).toEqual(['marts/orders']);
    expect(select('path:seeds')).toEqual(['seeds/raw_orders']);
    expect(select('path:snapshots')).toEqual(['snapshots/orders_snapshot']);
    expect(select('+path:models/marts')).toEqual(['marts/orders', 'seeds/raw_orders', 'staging/stg_orders']);
    expect(select('path:models/marts+')).toEqual(['marts/orders', 'reports/summary']);
    expect(select('path:models and kind:dbt and not path:models/staging')).toEqual(['marts/orders']);
    expect(() => select('path:transform/models')).toThrow(/unknown path "transform\/models"/);
  });
});
