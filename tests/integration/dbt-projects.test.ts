/**
 * A Strata project that includes a dbt project (`"dbt": "dbt"` in strata.json), loaded and run
 * on real DuckDB and SQLite files: `source()` reads a Strata asset and a Strata asset reads a dbt
 * model (dependencies across both), macros, `var()` (global and project-scoped), two-argument
 * `ref()` of a seed with `column_types`, an ephemeral model inlined as a CTE, folder configs
 * (`+materialized`, `+schema`, `+tags`, `+enabled`, also on seeds), `config()` beating them, an incremental model
 * whose `{% if is_incremental() %}` filter applies on the second build, schema.yml tests as checks
 * (a failing `error` test blocks the publish, `where` restricts a test) — and errors naming the
 * file and line for what Strata cannot run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { describeAsset } from '../../ui/asset-views.ts';
import { listDbtNodes } from '../../core/engine/dbt/dbt-nodes.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES: Record<string, string> = {
  'defs/raw/events.sql':
    "select * from read_csv({{ landing }} || '/events.csv', columns = {'id': 'INTEGER', 'country': 'VARCHAR', 'amount_cents': 'INTEGER', 'updated_at': 'TIMESTAMP'})\n",
  'defs/reports/summary.sql': 'select count(*) as countries, sum(total) as total from analytics.big_by_country\n',
  'dbt/dbt_project.yml': `name: shop
config-version: 2
vars:
  min_amount: 10
  shop:
    currency: EUR
models:
  shop:
    +materialized: table
    staging:
      +materialized: view
      +tags: [staging]
    marts:
      +schema: analytics
      retired:
        +enabled: false
seeds:
  shop:
    countries:
      +column_types:
        population: BIGINT
    retired_codes:
      +enabled: false
`,
  'dbt/seeds/retired_codes.csv': 'code\nxx\n',
  'dbt/macros/money.sql': `{% macro to_dollars(column, scale=100) -%}
({{ column }} / {{ scale }})::decimal(10, 2)
{%- endmacro %}
`,
  'dbt/seeds/countries.csv': 'code,name,population\nfr,France,68000000\nde,Germany,84000000\n',
  'dbt/models/sources.yml': `version: 2
sources:
  - name: raw
    tables:
      - name: events
`,
  'dbt/models/staging/stg_events.sql': `select
    id,
    country,
    {{ to_dollars('amount_cents') }} as amount,
    updated_at
from {{ source('raw', 'events') }}
`,
  'dbt/models/staging/big_events.sql': `{{ config(materialized='ephemeral') }}
select * from {{ ref('stg_events') }} where amount >= {{ var('min_amount') }}
`,
  'dbt/models/marts/big_by_country.sql': `{%- set columns = ['c.name', 'c.population'] -%}
select
    e.country,
    {% for column in columns -%}
    {{ column }}{% if not loop.last %},{% endif %}
    {% endfor -%},
    count(*) as orders,
    sum(e.amount) as total,
    '{{ var("currency") }}' as currency,
    '{{ target.type }}' as target_type
from {{ ref('big_events') }} e
join {{ ref('shop', 'countries') }} c on c.code = e.country
group by all
`,
  'dbt/models/marts/retired/old.sql': "select * from {{ ref('no_such_model') }}\n",
  'dbt/models/events_incremental.sql': `{{ config(materialized='incremental', unique_key='id', tags=['hourly']) }}
select id, amount, updated_at from {{ ref('stg_events') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
`,
  'dbt/models/schema.yml': `version: 2
models:
  - name: stg_events
    description: Events, in dollars
    config:
      materialized: table
    columns:
      - name: id
        description: The event's id
        tests: [unique, not_null]
      - name: country
        tests:
          - relationships:
              to: ref('countries')
              field: code
          - accepted_values:
              values: ['fr']
              config:
                where: "amount > 100"
  - name: big_by_country
    meta:
      owner: ana@example.com
`,
};

const EVENTS = ['1,fr,1500,2025-01-01 00:00:00', '2,de,500,2025-01-02 00:00:00', '3,de,2500,2025-01-03 00:00:00', '4,fr,20000,2025-01-04 00:00:00'];

describe('a dbt project inside a Strata project', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-dbt-', { name: 'mixed', dbt: 'dbt' }, FILES);
    writeEvents(EVENTS);
  });

  afterEach(() => workspace.close());

  function writeEvents(lines: readonly string[]): void {
    fs.mkdirSync(workspace.config.landingDir, { recursive: true });
    fs.writeFileSync(path.join(workspace.config.landingDir, 'events.csv'), `${['id,country,amount_cents,updated_at', ...lines].join('\n')}\n`);
  }

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, file), text);
  }

  async function loadErrors(): Promise<string[]> {
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    return (error as DefinitionErrors).errors.map((e) => `${e.context.file} ${e.message}`);
  }

  it('maps models, seeds and Strata assets into one graph: keys, dependencies both ways, configs with precedence', async () => {
    const project = await loadProject(workspace.dir);
    expect([...project.graph.keys].sort()).toEqual([
      'analytics/big_by_country',
      'main/events_incremental',
      'raw/events',
      'reports/summary',
      'seeds/countries',
      'staging/stg_events',
    ]);
    const spec = (key: string) => project.definitions.get(key)?.spec;
    const compute = (key: string) => project.definitions.get(key)?.compute as { materialization?: string };
    // source('raw', 'events') reads the Strata asset; the Strata report reads the dbt model.
    expect(spec('staging/stg_events')?.deps).toEqual(['raw/events']);
    expect(spec('reports/summary')?.deps).toEqual(['analytics/big_by_country']);
    // The ephemeral model is no asset: its reader depends on what it reads.
    expect(spec('analytics/big_by_country')?.deps).toEqual(['seeds/countries', 'staging/stg_events']);
    // schema.yml's config beats the folder's +materialized: view; the folder's tags stay.
    expect(compute('staging/stg_events').materialization).toBe('table');
    expect(spec('staging/stg_events')?.tags).toEqual({ staging: '' });
    expect(spec('staging/stg_events')?.description).toBe('Events, in dollars');
    expect(spec('staging/stg_events')?.kinds).toEqual(['sql', 'duckdb', 'dbt']);
    // Column descriptions reach the UI's asset API.
    expect((await describeAsset(project, workspace.storage, 'staging/stg_events')).columnDescriptions).toEqual({ id: "The event's id" });
    expect(compute('analytics/big_by_country').materialization).toBe('table');
    expect(spec('analytics/big_by_country')?.owners).toEqual(['ana@example.com']);
    expect(compute('main/events_incremental').materialization).toBe('incremental');
    expect(spec('main/events_incremental')?.tags).toEqual({ hourly: '' });
    // assets dbt ls: the ephemeral model has no asset, the disabled ones are left out; sources name their table's asset.
    expect((await listDbtNodes(workspace.config))?.map((n) => `${n.id} ${n.key} ${n.materialized}`)).toEqual([
      'model.shop.big_by_country analytics/big_by_country table',
      'model.shop.big_events null ephemeral',
      'model.shop.events_incremental main/events_incremental incremental',
      'model.shop.stg_events staging/stg_events table',
      'seed.shop.countries seeds/countries seed',
      // A source whose table a Strata asset builds: that asset.
      'source.shop.raw.events raw/events source',
    ]);
  });

  it('builds everything with macros, vars, the ephemeral CTE, the seed types and the Jinja loop', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(
      await workspace.warehouse.query(
        'select country, name, population, orders, total::double as total, currency, target_type from analytics.big_by_country order by country',
      ),
    ).toEqual([
      { country: 'de', name: 'Germany', population: 84000000, orders: 1, total: 25, currency: 'EUR', target_type: 'duckdb' },
      { country: 'fr', name: 'France', population: 68000000, orders: 2, total: 215, currency: 'EUR', target_type: 'duckdb' },
    ]);
    expect(
      await workspace.warehouse.query("select data_type from information_schema.columns where table_name = 'countries' and column_name = 'population'"),
    ).toEqual([{ data_type: 'BIGINT' }]);
    expect(await workspace.warehouse.query('select countries, total::double as total from reports.summary')).toEqual([{ countries: 2, total: 240 }]);
    const checks = await workspace.storage.latestCheckResults(['staging/stg_events']);
    expect(checks.map((c) => `${c.checkName} ${c.passed}`).sort()).toEqual([
      'accepted_values(country) where amount > 100 true',
      'not_null(id) true',
      'relationships(country, seeds/countries.code) true',
      'unique(id) true',
    ]);
  });

  it('builds the incremental model in full first, then only the rows its is_incremental() filter selects', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    const rows = async () =>
      (await workspace.warehouse.query('select id, amount::double as amount from main.events_incremental order by id')).map((r) => `${r.id}:${r.amount}`);
    expect(await rows()).toEqual(['1:15', '2:5', '3:25', '4:200']);
    // Event 1 changes but keeps an old timestamp (the filter skips it); event 5 is new.
    writeEvents([...EVENTS.slice(1), '1,fr,9900,2025-01-01 00:00:00', '5,fr,700,2025-01-05 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await rows()).toEqual(['1:15', '2:5', '3:25', '4:200', '5:7']);
    const [latest] = await workspace.storage.latestMaterializations(['main/events_incremental']);
    expect(latest?.metadata).toMatchObject({ build: 'incremental', rowsInserted: 1, rowsUpdated: 0 });
  });

  it('editing a macro changes the code version of the models that call it, and only theirs', async () => {
    const before = (await loadProject(workspace.dir)).codeVersions;
    write('dbt/macros/money.sql', FILES['dbt/macros/money.sql']?.replace('decimal(10, 2)', 'decimal(12, 2)') ?? '');
    const after = (await loadProject(workspace.dir)).codeVersions;
    const changed = [...before.keys()].filter((key) => before.get(key) !== after.get(key)).sort();
    expect(changed).toEqual(['staging/stg_events']);
  });

  it('a failing severity-error test blocks the publish; a where config restricts its test', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    // A duplicate id: unique(id) fails and blocks the publish.
    writeEvents([...EVENTS, '4,de,100,2025-01-05 00:00:00']);
    const failed = await workspace.run(project);
    expect(failed.status).toBe('failed');
    expect(await workspace.warehouse.query('select count(*) as n from staging.stg_events')).toEqual([{ n: 4 }]);
    // accepted_values(country) ['fr'] where amount > 100: a 'de' event of 500.00 fails it, one of 9.00 does not.
    writeEvents([...EVENTS, '5,de,50000,2025-01-05 00:00:00']);
    expect((await workspace.run(project)).status).toBe('failed');
    writeEvents([...EVENTS, '5,de,900,2025-01-05 00:00:00']);
    expect((await workspace.run(project)).status).toBe('success');
  });

  it('unsupported Jinja, unknown refs, vars and configs are errors naming the file and line', async () => {
    write('dbt/models/staging/stg_events.sql', "select *\nfrom {{ source('raw', 'events') }}\nwhere {{ adapter.dispatch('x')() }}\n");
    write('dbt/models/marts/big_by_country.sql', "select 1 as x\n\n-- {{ var('nope') }}\n");
    write('dbt/models/events_incremental.sql', "{{ config(materialized='incremental', alias='other') }}\nselect 1 as id\n");
    write('dbt/models/reader.sql', "select * from {{ ref('missing_model') }}\n");
    write('dbt/models/late.sql', "{{ config(materialized='incremental') }}\nselect 1 as id\n{% if is_incremental() %}\nwhere {{ nope_fn() }}\n{% endif %}\n");
    write('dbt/models/loops.sql', "{% for x in [1] %}{% do something() %}{% endfor %}\n{% call statement('a') %}select 1{% endcall %}\n");
    expect((await loadErrors()).sort()).toEqual(
      [
        'dbt/models/events_incremental.sql config "alias" is not supported by Strata yet',
        "dbt/models/late.sql:4 unsupported Jinja: nope_fn() is not available in Strata's dbt context",
        "dbt/models/loops.sql:1 unsupported Jinja: something() is not available in Strata's dbt context",
        "dbt/models/marts/big_by_country.sql:3 var('nope') has no value: set it under vars: in dbt_project.yml, or give a default",
        "dbt/models/reader.sql ref('missing_model') names no model or seed of this dbt project",
        "dbt/models/staging/stg_events.sql:3 adapter.dispatch('x') finds no macro for target type duckdb: searched duckdb__x, default__x",
      ].sort(),
    );
  });

  it('a strata.json beside dbt_project.yml ("dbt": ".") loads the seeds folder once, as dbt seeds', async () => {
    const mixed = await openTempWorkspace(
      'strata-dbt-here-',
      { name: 'here', dbt: '.' },
      {
        'dbt_project.yml': 'name: here\nseeds:\n  here:\n    codes:\n      +column_types:\n        code: VARCHAR\n',
        'seeds/codes.csv': 'code\n007\n',
        'models/staging/stg_codes.sql': "select * from {{ ref('codes') }}\n",
      },
    );
    try {
      const project = await loadProject(mixed.dir);
      expect([...project.graph.keys].sort()).toEqual(['seeds/codes', 'staging/stg_codes']);
      expect((await mixed.run(project)).status).toBe('success');
      expect(await mixed.warehouse.query('select code from staging.stg_codes')).toEqual([{ code: '007' }]);
    } finally {
      await mixed.close();
    }
  });
});
