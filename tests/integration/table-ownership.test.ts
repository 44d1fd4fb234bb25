/**
 * A step owns its asset's table: a TypeScript asset that drops, replaces, renames, alters or
 * creates another asset's table or view through `ctx.warehouse` fails and rolls back, against a
 * real DuckDB file and a real SQLite file. What it may do: anything to its own table, temp
 * tables, and tables that belong to no asset.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset, type AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import { buildProject } from '../../core/model/project.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-table-ownership-', { name: 'table-ownership-test', concurrency: 2 });
});

afterEach(() => workspace.close());

const WORDS = asset({
  key: 'raw/words',
  async materialize(ctx) {
    await ctx.warehouse.replaceTable(`select * from (values ('alpha'), ('beta')) as t(word)`);
  },
});
const LENGTHS = sqlAsset('staging/lengths', 'select word, length(word) as len from raw.words', ['raw/words'], 'view');

/** A TypeScript asset downstream of both others that runs `sql` (then writes its own table). */
function intruder(...sql: string[]): AssetDefinition {
  return asset({
    key: 'marts/intruder',
    deps: ['raw/words', 'staging/lengths'],
    async materialize(ctx) {
      for (const statement of sql) await ctx.warehouse.run(statement);
      await ctx.warehouse.replaceTable('select 1 as x');
    },
  });
}

/** Builds everything once, then runs only `marts/intruder` with `definition`. */
async function runIntruder(definition: AssetDefinition) {
  const setup = await workspace.run(buildProject(workspace.config, [WORDS, LENGTHS]));
  expect(setup.status).toBe('success');
  return workspace.run(buildProject(workspace.config, [WORDS, LENGTHS, definition]), ['marts/intruder']);
}

async function catalog(): Promise<string[]> {
  const rows = await workspace.warehouse.query<{ name: string }>(
    // Strata's own schema (_strata.commits) left out.
    `select schema_name || '.' || table_name as name from duckdb_tables() where not temporary and schema_name <> '_strata' union all select schema_name || '.' || view_name from duckdb_views() where not internal and not temporary order by 1`,
  );
  return rows.map((r) => r.name);
}

describe('a TypeScript step that touches another asset’s table', () => {
  const cases: [string, string[], RegExp][] = [
    ['drops a table', ['drop table raw.words'], /dropped raw\.words, the table of asset raw\/words/],
    ['replaces a table', [`create or replace table raw.words as select 'omega' as word`], /replaced raw\.words, the table of asset raw\/words/],
    ['renames a table', ['alter table raw.words rename to words_old'], /dropped raw\.words, the table of asset raw\/words/],
    ['alters a table', ['alter table raw.words add column extra int'], /altered raw\.words, the table of asset raw\/words/],
    ['drops a view', ['drop view staging.lengths'], /dropped staging\.lengths, the view of asset staging\/lengths/],
    ['drops a whole schema', ['drop schema staging cascade'], /dropped staging\.lengths, the view of asset staging\/lengths/],
    ['drops and recreates a table', ['drop table raw.words', `create table raw.words as select 'omega' as word`], /replaced raw\.words/],
  ];
  for (const [what, sql, message] of cases) {
    it(`fails and rolls back when it ${what}`, async () => {
      const result = await runIntruder(intruder(...sql));
      expect(result.status).toBe('failed');
      const step = result.steps.find((s) => s.key === 'marts/intruder');
      expect(step?.status).toBe('failed');
      expect(step?.error).toMatch(message);
      expect(step?.error).toContain('marts/intruder may only write its own table marts.intruder');
      expect(await catalog()).toEqual(['raw.words', 'staging.lengths']);
      expect(await workspace.warehouse.query('select word, len from staging.lengths order by 1')).toEqual([
        { word: 'alpha', len: 5 },
        { word: 'beta', len: 4 },
      ]);
      const latest = (await workspace.storage.latestMaterializations()).map((m) => m.assetKey).sort();
      expect(latest).toEqual(['raw/words', 'staging/lengths']);
    });
  }

  it('fails when a second statement hides in the query given to replaceTable', async () => {
    const result = await runIntruder(
      asset({
        key: 'marts/intruder',
        deps: ['raw/words'],
        materialize: (ctx) => ctx.warehouse.replaceTable('select 1 as x; drop table raw.words;').then(() => undefined),
      }),
    );
    expect(result.steps.find((s) => s.key === 'marts/intruder')?.error).toMatch(/dropped raw\.words, the table of asset raw\/words/);
    expect(await catalog()).toEqual(['raw.words', 'staging.lengths']);
  });

  it('fails when it creates the table of another asset that was not built yet', async () => {
    const project = buildProject(workspace.config, [
      WORDS,
      asset({ key: 'staging/later', deps: ['raw/words'], materialize: (ctx) => ctx.warehouse.replaceTable('select 1 as x').then(() => undefined) }),
      asset({
        key: 'marts/early',
        deps: ['raw/words'],
        async materialize(ctx) {
          await ctx.warehouse.run('create table staging.later as select 2 as x');
          await ctx.warehouse.replaceTable('select 1 as x');
        },
      }),
    ]);
    await workspace.warehouse.ensureSchemas(['staging']);
    const result = await workspace.run(project, ['raw/words', 'marts/early']);
    expect(result.steps.find((s) => s.key === 'marts/early')?.error).toMatch(/created staging\.later, the table of asset staging\/later/);
    expect(await catalog()).toEqual(['raw.words']);
  });
});

describe('a TypeScript step that stays within what it owns', () => {
  it('succeeds: its own table any way it likes, temp tables, tables of no asset, reading others', async () => {
    const project = buildProject(workspace.config, [
      WORDS,
      LENGTHS,
      asset({
        key: 'marts/tidy',
        deps: ['raw/words', 'staging/lengths'],
        async materialize(ctx) {
          await ctx.warehouse.run(`create or replace table ${ctx.table} as select 0 as n`);
          await ctx.warehouse.run(`alter table ${ctx.table} add column m int`);
          await ctx.warehouse.run(`drop table ${ctx.table}`);
          await ctx.warehouse.run('create or replace temp table scratch as select * from raw.words');
          await ctx.warehouse.run('create or replace table raw.words_cursor as select 1 as last_id');
          await ctx.warehouse.run(`create or replace table ${ctx.table} as select count(*) as n from scratch join staging.lengths using (word)`);
        },
      }),
      // Runs beside marts/tidy (concurrency 2): its own replace, committed meanwhile, is no intrusion.
      asset({
        key: 'marts/neighbour',
        deps: ['raw/words'],
        async materialize(ctx) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          await ctx.warehouse.replaceTable('select 1 as x');
        },
      }),
    ]);
    const first = await workspace.run(project);
    expect(first.status, JSON.stringify(first.steps)).toBe('success');
    const again = await workspace.run(project);
    expect(again.status, JSON.stringify(again.steps)).toBe('success');
    expect(await workspace.warehouse.query('select n from marts.tidy')).toEqual([{ n: 2 }]);
    expect(await catalog()).toEqual(['marts.neighbour', 'marts.tidy', 'raw.words', 'raw.words_cursor', 'staging.lengths']);
  });
});
