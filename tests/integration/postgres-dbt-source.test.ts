/**
 * A dbt source on a Postgres warehouse: its observation query (row count, `hashtext` checksum of
 * the rows, newest `loaded_at_field` among the rows `filter` keeps) runs on real Postgres; an
 * update changes its data version, and `database:` must be the URL's database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbtTarget, loadDbtProject } from '../../core/engine/dbt/dbt-project-loader.ts';
import type { DefinitionError } from '../../core/model/errors.ts';
import type { AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import type { ObserveContext, SourceObservation } from '../../core/model/definitions/source-asset.ts';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';

const missing = postgresMissing();
let dir: string;

function sourcesOf(yml: string): { sources: readonly AssetDefinition[]; errors: DefinitionError[] } {
  fs.writeFileSync(path.join(dir, 'models', 'sources.yml'), yml);
  const errors: DefinitionError[] = [];
  const config = { warehouseUrl: postgresUrl(), warehouseFile: path.join(dir, 'unused.duckdb') };
  return { sources: loadDbtProject(dir, dir, dbtTarget(config), errors).sources, errors };
}

async function observe(definition: AssetDefinition): Promise<readonly SourceObservation[]> {
  if (definition.compute.type !== 'source') throw new Error('not a source');
  const ctx = { key: definition.spec.key, partitions: null, previous: new Map(), warehouse: { query: (sql: string) => postgresRows(sql) } };
  return definition.compute.observe(ctx as unknown as ObserveContext);
}

const YML = `version: 2
sources:
  - name: landing
    schema: dbt_src_test
    loaded_at_field: loaded_at
    freshness: { error_after: { count: 1, period: hour }, filter: "kind <> 'test'" }
    tables:
      - name: feed
`;

describe.skipIf(missing !== undefined)(`dbt sources on a Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pg-dbt-source-'));
    fs.mkdirSync(path.join(dir, 'models'));
    fs.writeFileSync(path.join(dir, 'dbt_project.yml'), 'name: feed\nconfig-version: 2\n');
    await onPostgres(
      'drop schema if exists dbt_src_test cascade',
      'create schema dbt_src_test',
      'create table dbt_src_test.feed (id integer, kind text, loaded_at timestamp)',
      "insert into dbt_src_test.feed values (1, 'real', '2025-03-01 10:00:00'), (2, 'test', '2025-03-09 00:00:00')",
    );
  });

  afterAll(async () => {
    await onPostgres('drop schema if exists dbt_src_test cascade');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is observed by row count, a checksum of its rows and the newest loaded_at the filter keeps', async () => {
    const { sources, errors } = sourcesOf(YML);
    expect(errors).toEqual([]);
    const feed = sources[0] as AssetDefinition;
    expect(feed.spec.key).toBe('dbt_src_test/feed');
    const [first] = await observe(feed);
    expect(first?.metadata).toEqual({ row_count: 2, loaded_at: '2025-03-01T10:00:00.000Z' });
    await onPostgres("update dbt_src_test.feed set kind = 'real2' where id = 1");
    const [second] = await observe(feed);
    expect(second?.metadata).toEqual(first?.metadata);
    expect(second?.dataVersion).not.toBe(first?.dataVersion);
  });

  it("a database other than the URL's is a definition error", () => {
    const database = new URL(postgresUrl()).pathname.slice(1);
    expect(sourcesOf(YML.replace('    schema:', `    database: ${database}\n    schema:`)).errors).toEqual([]);
    const { errors } = sourcesOf(YML.replace('    schema:', '    database: elsewhere\n    schema:'));
    expect(errors.map((e) => `${e.context.file} ${e.message}`)).toEqual([
      expect.stringMatching(new RegExp(`^models/sources.yml:4 source "landing" names database "elsewhere", but the warehouse is database "${database}"`)),
    ]);
  });
});
