/**
 * A dbt microbatch model's query on a Postgres warehouse: the batch filter of a ref (and a
 * source) with `event_time` is a subquery named `_dbt_et_filter_subq_<name>`, as dbt-postgres
 * names it and Postgres before 16 requires, and reads only the batch's rows on real Postgres.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbtTarget, loadDbtProject } from '../../core/engine/dbt/dbt-project-loader.ts';
import type { DefinitionError } from '../../core/model/errors.ts';
import { renderSqlTemplate } from '../../core/model/definitions/sql-template.ts';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';

const missing = postgresMissing();
let dir: string;

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: feed\nconfig-version: 2\nmodels:\n  feed:\n    +materialized: table\n',
  'models/sources.yml':
    'version: 2\nsources:\n  - name: landing\n    schema: dbt_mb_landing\n    config: { event_time: at }\n    tables:\n      - name: clicks\n',
  'models/dbt_mb_staging/events.sql': "{{ config(event_time='at') }}\nselect 1 as id, now()::timestamp as at\n",
  'models/dbt_mb_marts/per_batch.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='at', begin='2025-01-01', batch_size='day') }}
select at, (select count(*) from {{ ref('events') }}) as events, (select count(*) from {{ source('landing', 'clicks') }}) as clicks,
  (select count(*) from {{ ref('events').render() }}) as all_events
from {{ ref('events') }}
`,
};

describe.skipIf(missing !== undefined)(`dbt microbatch models on a Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pg-dbt-microbatch-'));
    for (const [file, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    await onPostgres(
      'drop schema if exists dbt_mb_staging cascade',
      'drop schema if exists dbt_mb_landing cascade',
      'create schema dbt_mb_staging',
      'create schema dbt_mb_landing',
      'create table dbt_mb_staging.events (id integer, at timestamp)',
      "insert into dbt_mb_staging.events values (1, '2025-01-01 10:00'), (2, '2025-01-02 00:00'), (3, '2025-01-02 23:59'), (4, '2025-01-03 00:00')",
      'create table dbt_mb_landing.clicks (id integer, at timestamp)',
      "insert into dbt_mb_landing.clicks values (1, '2025-01-02 12:00'), (2, '2025-01-05 12:00')",
    );
  });

  afterAll(async () => {
    await onPostgres('drop schema if exists dbt_mb_staging cascade', 'drop schema if exists dbt_mb_landing cascade');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads a batch's rows of the ref and the source through named subqueries", async () => {
    const errors: DefinitionError[] = [];
    const config = { warehouseUrl: postgresUrl(), warehouseFile: path.join(dir, 'unused.duckdb') };
    const { models } = loadDbtProject(dir, dir, dbtTarget(config), errors);
    expect(errors.map((e) => e.message)).toEqual([]);
    const model = models.find((m) => m.parsed.key === 'dbt_mb_marts/per_batch');
    expect(model?.parsed.body).toContain('"_dbt_et_filter_subq_events"');
    expect(model?.parsed.body).toContain('"_dbt_et_filter_subq_clicks"');
    const sql = renderSqlTemplate(model?.parsed.body ?? '', { partition_start: '2025-01-02 00:00:00', partition_end: '2025-01-03 00:00:00' });
    const rows = await postgresRows<{ at: Date; events: string; clicks: string; all_events: string }>(`${sql} order by at`);
    expect(rows.map((r) => [r.events, r.clicks, r.all_events].map(Number))).toEqual([
      [2, 1, 4],
      [2, 1, 4],
    ]);
  });
});
