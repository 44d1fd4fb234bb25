/**
 * Seeds on real SQLite and DuckDB files: CSV files in the seeds folder load into `seeds.<name>`
 * with their column types; a SQL asset reading `seeds.<name>` depends on the seed; an edit of a
 * seed makes it and its downstream stale (and one `--stale-only` run leaves nothing stale), a
 * touch does not, and a long-lived process sees an edit through a SeedRefresher; bad seeds are definition errors or step failures naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { SeedRefresher } from '../../core/engine/project/seed-refresh.ts';
import { computeStaleness } from '../../core/model/staleness/compute-staleness.ts';
import { findStale } from '../../core/engine/staleness/find-stale.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { createApiApp } from '../../ui/api-app.ts';
import { listenOnLoopback } from './loopback-server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const COUNTRIES = 'code,name,population\nfr,France,68000000\nde,Germany,84000000\n';
const MART = 'select name, population from seeds.countries where population > 70000000\n';

let workspace: TempWorkspace | undefined;

afterEach(async () => {
  await workspace?.close();
  workspace = undefined;
});

async function open(settings: Record<string, unknown>, files: Record<string, string>): Promise<TempWorkspace> {
  workspace = await openTempWorkspace('strata-seeds-', { name: 'seeds-test', ...settings }, files);
  return workspace;
}

async function staleKeys(project: Project): Promise<Record<string, string[]>> {
  const report = await computeStaleness({ project, storage: (workspace as TempWorkspace).storage });
  return Object.fromEntries(report.stale.map((p) => [p.key, p.reasons.map((r) => r.kind)]));
}

async function loadErrors(dir: string): Promise<string[]> {
  const error = await loadProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DefinitionErrors);
  return (error as DefinitionErrors).errors.map((e) => `${e.context.assetKey ?? ''} | ${e.context.file ?? ''} | ${e.message}`);
}

describe('seeds', () => {
  it('load into seeds.<name> with the configured column types; a SQL asset reading one depends on it', async () => {
    const ws = await open(
      { seeds: { path: 'seeds', columnTypes: { countries: { code: 'VARCHAR', population: 'INTEGER' } } } },
      { 'seeds/countries.csv': COUNTRIES, 'seeds/README.md': 'not a seed', 'defs/marts/big.sql': MART },
    );
    const project = await loadProject(ws.dir);
    expect(project.graph.keys).toEqual(['seeds/countries', 'marts/big']);
    expect(project.graph.spec('seeds/countries').kinds).toEqual(['seed', 'duckdb']);
    expect(project.graph.spec('seeds/countries').group).toBe('seeds');
    expect(project.definitions.get('seeds/countries')?.file).toBe('seeds/countries.csv');
    expect(project.graph.parents('marts/big')).toEqual(['seeds/countries']);

    const result = await ws.run(project);
    expect(result.status).toBe('success');
    const columns = await ws.warehouse.query<{ column_name: string; data_type: string }>(
      "select column_name, data_type from information_schema.columns where table_schema = 'seeds' and table_name = 'countries' order by ordinal_position",
    );
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual(['code VARCHAR', 'name VARCHAR', 'population INTEGER']);
    expect(await ws.warehouse.query('select name from marts.big')).toEqual([{ name: 'Germany' }]);
    const [seed] = await ws.storage.latestMaterializations(['seeds/countries']);
    expect(seed?.rowCount).toBe(2);
    expect(seed?.metadata).toMatchObject({ file: 'seeds/countries.csv' });
    expect(await staleKeys(project)).toEqual({});
  });

  it('an edited seed makes it and its downstream stale; one --stale-only run rebuilds both; a touch changes nothing', async () => {
    const ws = await open({}, { 'seeds/countries.csv': COUNTRIES, 'defs/marts/big.sql': MART });
    expect((await ws.run(await loadProject(ws.dir))).status).toBe('success');
    const file = path.join(ws.dir, 'seeds/countries.csv');

    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    expect(await staleKeys(await loadProject(ws.dir))).toEqual({});

    fs.appendFileSync(file, 'it,Italy,59000000\nus,United States,335000000\n');
    const edited = await loadProject(ws.dir);
    expect(await staleKeys(edited)).toEqual({ 'seeds/countries': ['code_changed'], 'marts/big': ['upstream_stale'] });

    const report = await findStale({ project: edited, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir) });
    expect(report.stale.map((p) => p.key)).toEqual(['seeds/countries', 'marts/big']);
    expect((await ws.run(edited, ['seeds/countries', 'marts/big'])).status).toBe('success');
    expect(await staleKeys(edited)).toEqual({});
    expect(await ws.warehouse.query('select name from marts.big order by name')).toEqual([{ name: 'Germany' }, { name: 'United States' }]);
  });

  it('a SeedRefresher gives a loaded project the new hash of an edited seed, and the same project while nothing changed', async () => {
    const ws = await open({}, { 'seeds/countries.csv': COUNTRIES, 'defs/marts/big.sql': MART });
    const loaded = await loadProject(ws.dir);
    expect((await ws.run(loaded)).status).toBe('success');
    const seeds = new SeedRefresher();
    expect(seeds.refresh(loaded)).toBe(loaded);
    const file = path.join(ws.dir, 'seeds/countries.csv');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    expect(seeds.refresh(loaded)).toBe(loaded);

    fs.appendFileSync(file, 'us,United States,335000000\n');
    const refreshed = seeds.refresh(loaded);
    expect(refreshed).not.toBe(loaded);
    expect(refreshed.codeVersions.get('seeds/countries')).toBe((await loadProject(ws.dir)).codeVersions.get('seeds/countries'));
    expect(refreshed.codeVersions.get('seeds/countries')).not.toBe(loaded.codeVersions.get('seeds/countries'));
    expect(refreshed.codeVersions.get('marts/big')).toBe(loaded.codeVersions.get('marts/big'));
    expect(await staleKeys(refreshed)).toEqual({ 'seeds/countries': ['code_changed'], 'marts/big': ['upstream_stale'] });
    expect(seeds.refresh(refreshed)).toBe(refreshed);
    fs.rmSync(file);
    expect(seeds.refresh(refreshed)).toBe(refreshed);
  });

  it('changed column types make the seed and its downstream stale', async () => {
    const ws = await open({}, { 'seeds/countries.csv': COUNTRIES, 'defs/marts/big.sql': MART });
    expect((await ws.run(await loadProject(ws.dir))).status).toBe('success');
    fs.writeFileSync(path.join(ws.dir, 'strata.json'), JSON.stringify({ name: 'seeds-test', seeds: { columnTypes: { countries: { population: 'DOUBLE' } } } }));
    const retyped = await loadProject(ws.dir);
    expect(await staleKeys(retyped)).toEqual({ 'seeds/countries': ['code_changed'], 'marts/big': ['upstream_stale'] });
    expect((await ws.run(retyped, ['seeds/countries'])).status).toBe('success');
    expect(await staleKeys(retyped)).toEqual({ 'marts/big': ['upstream_changed'] });
  });

  it('column types for a column the header lacks, or for a seed with no file, are definition errors naming them', async () => {
    const ws = await open(
      { seeds: { columnTypes: { countries: { populaton: 'BIGINT' }, regions: { code: 'VARCHAR' } } } },
      { 'seeds/countries.csv': COUNTRIES, 'defs/marts/big.sql': MART },
    );
    const errors = await loadErrors(ws.dir);
    expect(errors).toEqual([
      'seeds/countries | seeds/countries.csv | "seeds.columnTypes.countries" in strata.json types column "populaton", which seeds/countries.csv does not have (its header: code, name, population)',
      ' | strata.json | "seeds.columnTypes" in strata.json names the seed "regions", but there is no seeds/regions.csv',
    ]);
  });

  it('a seed whose key is taken by another asset, or whose file name is no key, is a definition error', async () => {
    const ws = await open({}, { 'seeds/countries.csv': COUNTRIES, 'seeds/Bad Name.csv': 'a\n1\n', 'defs/seeds/countries.sql': 'select 1 as id\n' });
    const errors = await loadErrors(ws.dir);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBe('seeds/countries | defs/seeds/countries.sql | asset key is defined twice (also in seeds/countries.csv)');
    expect(errors[1]).toMatch(/^ \| seeds\/Bad Name\.csv \| asset key "seeds\/Bad Name" has an invalid segment/);
  });

  it('a seeds folder named in strata.json that does not exist is a definition error; the default folder may be absent', async () => {
    const ws = await open({ seeds: 'reference' }, { 'defs/main/one.sql': 'select 1 as id\n' });
    expect(await loadErrors(ws.dir)).toEqual([' | strata.json | the seeds folder reference ("seeds" in strata.json) does not exist or is not a folder']);
    fs.writeFileSync(path.join(ws.dir, 'strata.json'), '{ "name": "no-seeds" }');
    expect((await loadProject(ws.dir)).graph.keys).toEqual(['main/one']);
  });

  it('an empty seed file, or one DuckDB cannot read, fails its step with a message naming the file', async () => {
    const ws = await open(
      { seeds: { columnTypes: { numbers: { n: 'INTEGER' } } } },
      { 'seeds/empty.csv': '', 'seeds/numbers.csv': 'n\n1\nnot a number\n', 'defs/main/one.sql': 'select 1 as id\n' },
    );
    const project = await loadProject(ws.dir);
    const result = await ws.run(project);
    expect(result.status).toBe('failed');
    const failures = await ws.storage.latestStepFailures();
    const byKey = Object.fromEntries(failures.map((f) => [f.assetKey, f.message]));
    expect(byKey['seeds/empty']).toBe('seeds/empty failed: seed file seeds/empty.csv is empty: a seed needs a header row naming its columns');
    expect(byKey['seeds/numbers']).toMatch(
      /^seeds\/numbers failed: seed file seeds\/numbers\.csv cannot be loaded: Conversion Error: .*Could not convert string "not a number"/s,
    );
  });

  it('the UI API lists a seed and shows it as a seed written as a table, with its file and lineage', async () => {
    const ws = await open({}, { 'seeds/countries.csv': COUNTRIES, 'defs/marts/big.sql': MART });
    const project = await loadProject(ws.dir);
    expect((await ws.run(project)).status).toBe('success');
    const server = await listenOnLoopback(createApiApp({ project, storage: async () => ws.storage }, { log: () => undefined }));
    try {
      const get = async (route: string) => (await fetch(`${server.base}${route}`)).json() as Promise<any>;
      const list = await get('/api/assets?select=kind:seed');
      expect(list.assets.map((a: { key: string; kinds: string[] }) => [a.key, a.kinds])).toEqual([['seeds/countries', ['seed', 'duckdb']]]);
      const detail = await get('/api/assets/seeds/countries');
      expect(detail).toMatchObject({
        key: 'seeds/countries',
        compute: 'seed',
        materialization: 'table',
        file: 'seeds/countries.csv',
        dependents: ['marts/big'],
      });
      expect(detail.codeVersion).toBe(project.codeVersions.get('seeds/countries'));
    } finally {
      await server.close();
    }
  });
});
