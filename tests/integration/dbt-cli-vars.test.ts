/**
 * dbt vars given on the command line (`--vars`, loadProject's `dbtVars`): they override the
 * `vars:` of dbt_project.yml, global and project-scoped, as in dbt; they change the code version
 * of exactly the models whose rendering reads them; and the dbt load cache never hands a model
 * rendered with other vars to a load with these.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject, type LoadProjectOptions } from '../../core/engine/project/project-loader.ts';
import { parseDbtVars } from '../../core/engine/dbt/dbt-cli-vars.ts';
import { UsageError } from '../../core/model/errors.ts';
import { enqueueBackfill, requeueBackfill } from '../../core/engine/runs/queued-backfills.ts';
import { planClaimed } from '../../core/engine/runs/claimed-plan.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { openStorage } from '../../storage/index.ts';

const FILES: Record<string, string> = {
  'dbt_project.yml': [
    'name: shop',
    'vars:',
    '  scale: 100',
    '  region: eu',
    '  shop:',
    "    start_date: '2024-01-01'",
    'models:',
    '  shop:',
    '    +materialized: table',
  ].join('\n'),
  'seeds/raw.csv': 'id,amount,day\n1,100,2024-03-01\n',
  'models/dollars.sql': "select id, amount / {{ var('scale') }} as dollars from {{ ref('raw') }}\n",
  'models/recent.sql': "select id from {{ ref('raw') }} where day >= '{{ var('start_date') }}' and '{{ var('region') }}' = 'eu'\n",
  'models/plain.sql': "select id from {{ ref('raw') }}\n",
};

const RENDERS = path.join('.strata', 'dbt-renders.json');

describe('--vars on a dbt project', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-vars-'));
    for (const [file, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function load(vars?: string) {
    const options: LoadProjectOptions = vars === undefined ? {} : { dbtVars: parseDbtVars(vars) };
    return loadProject(dir, options);
  }

  async function sqlOf(key: string, vars?: string): Promise<string> {
    const compute = (await load(vars)).definitions.get(key)?.compute as { sql?: string } | undefined;
    return compute?.sql ?? '';
  }

  it('override the global and the project-scoped vars of dbt_project.yml; the others keep theirs', async () => {
    expect(await sqlOf('main/dollars')).toContain('amount / 100 as dollars');
    expect(await sqlOf('main/recent')).toContain("day >= '2024-01-01' and 'eu' = 'eu'");
    expect(await sqlOf('main/dollars', '{scale: 1000}')).toContain('amount / 1000 as dollars');
    expect(await sqlOf('main/recent', '{start_date: 2025-06-01}')).toContain("day >= '2025-06-01' and 'eu' = 'eu'");
    expect(await sqlOf('main/recent', 'region: us')).toContain("'us' = 'eu'");
    expect(await sqlOf('main/recent', '{"start_date": "2023-01-01", "region": "us"}')).toContain("day >= '2023-01-01' and 'us' = 'eu'");
    expect((await load('{scale: 7}')).config.dbtVars).toEqual({ scale: 7 });
  });

  it('change the code version of the models that read them, and of no other', async () => {
    const before = (await load()).codeVersions;
    const scaled = (await load('{scale: 1000}')).codeVersions;
    expect(scaled.get('main/dollars')).not.toBe(before.get('main/dollars'));
    expect(scaled.get('main/recent')).toBe(before.get('main/recent'));
    expect(scaled.get('main/plain')).toBe(before.get('main/plain'));
    expect(scaled.get('seeds/raw')).toBe(before.get('seeds/raw'));
    // A var no model reads, or the value dbt_project.yml already gives, changes nothing.
    expect([...(await load('{unused: 1, scale: 100}')).codeVersions]).toEqual([...before]);
    const started = (await load('{start_date: 2025-06-01}')).codeVersions;
    expect(started.get('main/recent')).not.toBe(before.get('main/recent'));
    expect(started.get('main/dollars')).toBe(before.get('main/dollars'));
  });

  it('key the load cache: a rendering made with other vars is never reused, one with the same vars is', async () => {
    expect(await sqlOf('main/dollars', '{scale: 10}')).toContain('amount / 10 as dollars');
    const file = path.join(dir, RENDERS);
    // Every cached rendering of `dollars` now says `cached`: a load printing it took it from the cache.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('as dollars', 'as cached'));
    expect(await sqlOf('main/dollars', '{scale: 10}')).toContain('amount / 10 as cached');
    expect(await sqlOf('main/dollars', '{scale: 1000}')).toContain('amount / 1000 as dollars');
    expect(await sqlOf('main/dollars')).toContain('amount / 100 as dollars');
  });

  it('re-render only the models whose rendering reads a var they change: the others come from the cache', async () => {
    await load('{scale: 10}');
    const file = path.join(dir, RENDERS);
    // Every cached rendering now selects `1 as cached`: a load whose SQL has it took the rendering from the cache.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll(' from __strata_dbt_ref_0__', ', 1 as cached from __strata_dbt_ref_0__'));
    const cached = async (vars: string) => {
      const project = await load(vars);
      return ['main/dollars', 'main/recent', 'main/plain'].filter((key) =>
        ((project.definitions.get(key)?.compute as { sql?: string } | undefined)?.sql ?? '').includes('1 as cached'),
      );
    };
    expect(await cached('{scale: 10}')).toEqual(['main/dollars', 'main/recent', 'main/plain']);
    expect(await cached('{scale: 10, unused: 1}')).toEqual(['main/dollars', 'main/recent', 'main/plain']);
    expect(await cached('{scale: 10, region: us}')).toEqual(['main/dollars', 'main/plain']);
    expect(await cached('{scale: 1000, region: us}')).toEqual(['main/plain']);
  });

  it('are refused, naming --vars, when not a YAML mapping or on a project without dbt', async () => {
    for (const [text, message] of [
      ['{scale: [1', /--vars is not valid YAML/],
      ['[1, 2]', /--vars must be a YAML mapping .* \(got a list\)/],
      ['just text', /--vars must be a YAML mapping .* \(got string "just text"\)/],
      ['', /--vars must be a YAML mapping .* \(got nothing\)/],
    ] as const) {
      expect(() => parseDbtVars(text), text).toThrow(UsageError);
      expect(() => parseDbtVars(text), text).toThrow(message);
    }
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-no-dbt-'));
    try {
      fs.writeFileSync(path.join(plain, 'strata.json'), '{"name": "plain"}');
      await expect(loadProject(plain, { dbtVars: { scale: 1 } })).rejects.toThrow(/--vars sets the vars of a dbt project, but project .* includes none/);
    } finally {
      fs.rmSync(plain, { recursive: true, force: true });
    }
  });

  it('travel with the runs of a queued backfill, resumed ones too, and the worker plans them on the project loaded with them', async () => {
    fs.writeFileSync(path.join(dir, 'strata.json'), JSON.stringify({ name: 'shop', dbt: '.' }));
    fs.mkdirSync(path.join(dir, 'defs', 'raw'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'defs', 'raw', 'days.sql'),
      ['-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)', '-- partition_column: day', 'select {{ partition_start }}::date as day'].join('\n'),
    );
    const project = await load('{scale: 10}');
    const storage = await openStorage({ kind: 'sqlite', file: path.join(dir, '.strata', 'strata.db') });
    try {
      const request = { selection: 'raw/days', keys: ['raw/days'], from: '2025-01-01', to: '2025-01-02', mode: 'all', grouping: 'per_partition' } as const;
      const env = { project, storage, landing: new FileLandingZone(project.config.landingDir), now: new Date('2025-02-01T00:00:00Z') };
      const { backfill, runs } = await enqueueBackfill(env, request, {});
      expect(runs.map((run) => run.request?.dbtVars)).toEqual([{ scale: 10 }, { scale: 10 }]);

      // A worker whose project was loaded without vars plans the run on the project loaded with the run's.
      const service = new RunService({ project: await load(), storage });
      const claimed = await planClaimed(service, runs[0] as (typeof runs)[number], new AbortController().signal);
      expect(claimed.project.config.dbtVars).toEqual({ scale: 10 });
      expect((claimed.project.definitions.get('main/dollars')?.compute as { sql?: string } | undefined)?.sql).toContain('amount / 10 as dollars');
      await service.close();

      for (const run of runs) await storage.updateRun(run.id, { status: 'failed', endedAt: Date.now(), error: 'test' });
      const resumed = await requeueBackfill({ project: await load(), storage }, backfill, ['raw/days']);
      expect(resumed.runs.map((run) => run.request?.dbtVars)).toEqual([{ scale: 10 }, { scale: 10 }]);
    } finally {
      await storage.close();
    }
  });
});
