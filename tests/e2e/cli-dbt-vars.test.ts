/**
 * `--vars` through the real CLI on a dbt project: materialize renders the models with them,
 * `status --stale` shows stale exactly the models whose rendering reads a var whose value
 * changed, `dbt ls` and `list` load the project with them, bad --vars exit 2 naming the option;
 * and on Postgres storage a run queued with --vars is run by `assets worker` with those vars
 * (each queued run with its own).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRows, postgresSchemaUrl } from '../postgres.ts';
import { parseJson, queryDuckDb, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

interface StaleRow {
  key: string;
  reasons: { kind: string }[];
}

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: shop\nvars:\n  scale: 100\nmodels:\n  shop:\n    +materialized: table\n',
  'seeds/raw.csv': 'id,amount\n1,500\n2,1500\n',
  'models/dollars.sql': "select id, amount / {{ var('scale') }} as dollars from {{ ref('raw') }}\n",
  'models/plain.sql': "select id from {{ ref('raw') }}\n",
  'models/extra.sql': "{{ config(enabled=var('with_extra', false)) }}\nselect 1 as one\n",
};

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

/** The keys `status --stale --json` reports stale, with their reasons' kinds. */
function stale(project: string, vars?: string, env: Readonly<Record<string, string>> = {}): Record<string, string[]> {
  const result = runCli(['status', '--stale', '--json', '--project', project, ...(vars === undefined ? [] : ['--vars', vars])], env);
  expect(result.status, result.stderr).toBe(0);
  return Object.fromEntries(parseJson<StaleRow[]>(result).map((row) => [row.key, row.reasons.map((r) => r.kind)]));
}

describe('--vars on the CLI', () => {
  it('materialize renders with them; status --stale then shows stale only the model reading a var whose value changed', async () => {
    const project = sandbox.writeProject('vars-materialize', FILES);
    const run = runCli(['materialize', '--select', '*', '--vars', '{scale: 10}', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select id, dollars::int as dollars from main.dollars order by id')).toEqual([
      { id: 1, dollars: 50 },
      { id: 2, dollars: 150 },
    ]);
    expect(stale(project, '{scale: 10}')).toEqual({});
    expect(stale(project, 'scale: 1000')).toEqual({ 'main/dollars': ['code_changed'] });
    // Without --vars, dbt_project.yml's scale (100) is not the one it was built with.
    expect(stale(project)).toEqual({ 'main/dollars': ['code_changed'] });
    // A var no model reads changes nothing.
    expect(stale(project, '{scale: 10, unused: x}')).toEqual({});
  });

  it('dbt ls and list load the project with them (a model enabled by a var)', () => {
    const project = sandbox.writeProject('vars-ls', FILES);
    const ids = (vars?: string) => {
      const result = runCli(['dbt', 'ls', '--json', '--project', project, ...(vars === undefined ? [] : ['--vars', vars])]);
      expect(result.status, result.stderr).toBe(0);
      return parseJson<{ id: string }[]>(result).map((node) => node.id);
    };
    expect(ids()).not.toContain('model.shop.extra');
    expect(ids('{with_extra: true}')).toContain('model.shop.extra');
    const list = runCli(['list', '--json', '--vars', '{"with_extra": true}', '--project', project]);
    expect(list.status, list.stderr).toBe(0);
    expect(parseJson<{ key: string }[]>(list).map((a) => a.key)).toContain('main/extra');
  });

  it('bad --vars, --vars on a project without dbt, and --vars where nothing renders exit 2 naming --vars, writing nothing', () => {
    const project = sandbox.writeProject('vars-bad', FILES);
    const plain = sandbox.writeProject('vars-plain', { 'strata.json': '{"name": "plain"}', 'defs/raw/a.sql': 'select 1 as a\n' });
    for (const [args, message] of [
      [['materialize', '--select', '*', '--vars', '{scale: [1', '--project', project], '--vars is not valid YAML'],
      [['materialize', '--select', '*', '--vars', '[1, 2]', '--project', project], '--vars must be a YAML mapping of var names to values'],
      [['status', '--vars', 'scale', '--project', project], '--vars must be a YAML mapping of var names to values'],
      [['materialize', '--select', '*', '--vars', '{scale: 1}', '--project', plain], '--vars sets the vars of a dbt project, but project'],
      [['query', 'select 1', '--vars', '{scale: 1}', '--project', project], 'assets query takes no --vars'],
      [['worker', '--once', '--vars', '{scale: 1}', '--project', project], 'assets worker takes no --vars'],
      [['materialize', '--select', '*', '--project', project, '--vars'], "Option '--vars <value>' argument missing"],
    ] as const) {
      const result = runCli(args);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
      expect(stackFrames(result.stderr)).toEqual([]);
    }
    for (const dir of [project, plain]) {
      expect(fs.existsSync(stateFiles(dir).warehouse)).toBe(false);
      expect(fs.existsSync(stateFiles(dir).storage)).toBe(false);
    }
  });
});

const missing = postgresMissing();

describe.skipIf(missing !== undefined)(`runs queued with --vars, run by assets worker${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const schema = `cli_dbt_vars_${process.pid}`;

  beforeAll(() => onPostgres(`drop schema if exists ${schema} cascade`, `create schema ${schema}`));
  afterAll(() => onPostgres(`drop schema if exists ${schema} cascade`));

  it('the worker renders each queued run with the vars it was queued with', async () => {
    const project = sandbox.writeProject('vars-queue', {
      ...FILES,
      'strata.json': JSON.stringify({ name: 'vars-queue', dbt: '.', storage: 'env:STRATA_E2E_STORAGE' }),
    });
    const env = { STRATA_E2E_STORAGE: postgresSchemaUrl(schema) };
    const seeds = runCli(['materialize', '--select', 'seeds/raw', '--project', project], env);
    expect(seeds.status, seeds.stderr).toBe(0);
    const queue = (vars?: string) => {
      const result = runCli(
        ['materialize', '--select', 'main/dollars', '--queue', '--json', '--project', project, ...(vars === undefined ? [] : ['--vars', vars])],
        env,
      );
      expect(result.status, result.stderr).toBe(0);
      return parseJson<{ runId: string }>(result).runId;
    };
    const withVars = queue('{scale: 10}');
    const requests = await postgresRows<{ id: string; request: string }>(`select id, request from ${schema}.runs where status = 'queued'`);
    expect(requests.map((row) => ({ id: row.id, vars: JSON.parse(row.request).dbtVars }))).toEqual([{ id: withVars, vars: { scale: 10 } }]);

    const worker = runCli(['worker', '--once', '--json', '--project', project], env);
    expect(worker.status, worker.stdout + worker.stderr).toBe(0);
    expect(parseJson<{ runs: { runId: string; status: string }[] }>(worker).runs).toEqual([{ runId: withVars, status: 'success' }]);
    const dollars = () => queryDuckDb(stateFiles(project).warehouse, 'select dollars::int as dollars from main.dollars order by id');
    expect(await dollars()).toEqual([{ dollars: 50 }, { dollars: 150 }]);
    // Built with the queued vars: fresh with them, its code changed without them.
    expect(stale(project, '{scale: 10}', env)['main/dollars']).toBeUndefined();
    expect(stale(project, undefined, env)['main/dollars']).toEqual(['code_changed']);

    // Queued without --vars: dbt_project.yml's scale, though the last run had others.
    const without = queue();
    const again = runCli(['worker', '--once', '--json', '--project', project], env);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(parseJson<{ runs: { runId: string; status: string }[] }>(again).runs).toEqual([{ runId: without, status: 'success' }]);
    expect(await dollars()).toEqual([{ dollars: 5 }, { dollars: 15 }]);
  });
});
