/**
 * The dbt load cache in `.strata/`: a later load takes each model's rendering from it (shown by
 * editing a cached rendering, which the next load then uses), and a change of anything the
 * rendering read — the model's file, a macro, a var, `dispatch:`, an environment variable it
 * read — renders again. YAML files are cached by their text the same way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: cached\nvars:\n  scale: 100\nmodels:\n  cached:\n    +materialized: table\n',
  'macros/money.sql': "{% macro money(column) -%}\n({{ column }} / {{ var('scale') }})\n{%- endmacro %}\n",
  'seeds/raw.csv': 'id,amount\n1,100\n',
  'models/dollars.sql': "select id, {{ money('amount') }} as dollars, '{{ env_var('STRATA_TEST_REGION', 'eu') }}' as region from {{ ref('raw') }}\n",
  'models/schema.yml': 'version: 2\nmodels:\n  - name: dollars\n    description: Amounts in dollars\n',
};

const RENDERS = path.join('.strata', 'dbt-renders.json');

describe('the dbt load cache', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-cache-'));
    for (const [file, text] of Object.entries(FILES)) write(file, text);
    delete process.env.STRATA_TEST_REGION;
  });

  afterEach(() => {
    delete process.env.STRATA_TEST_REGION;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }

  async function sqlOf(key: string): Promise<string> {
    const project = await loadProject(dir);
    const compute = project.definitions.get(key)?.compute as { sql?: string } | undefined;
    return compute?.sql ?? '';
  }

  /** Replaces `from` by `to` in every cached rendering: a load that prints `to` took its rendering from the cache. */
  function editCachedRenders(from: string, to: string): void {
    const file = path.join(dir, RENDERS);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll(from, to));
  }

  it('a second load takes the rendering from .strata/, and YAML files by their text', async () => {
    expect(await sqlOf('main/dollars')).toContain('(amount / 100) as dollars');
    expect(fs.existsSync(path.join(dir, '.strata', 'dbt-yaml.json'))).toBe(true);
    editCachedRenders('as dollars', 'as cached_dollars');
    expect(await sqlOf('main/dollars')).toContain('(amount / 100) as cached_dollars');
  });

  it('editing the model, a macro or a var renders again', async () => {
    await sqlOf('main/dollars');
    editCachedRenders('as dollars', 'as cached_dollars');
    write('models/dollars.sql', FILES['models/dollars.sql']?.replace('as dollars', 'as usd') ?? '');
    expect(await sqlOf('main/dollars')).toContain('as usd');

    editCachedRenders('as usd', 'as cached_usd');
    write('macros/money.sql', FILES['macros/money.sql']?.replace(' / ', ' * 1.0 / ') ?? '');
    expect(await sqlOf('main/dollars')).toContain('(amount * 1.0 / 100) as usd');

    editCachedRenders('as usd', 'as cached_usd');
    write('dbt_project.yml', FILES['dbt_project.yml']?.replace('scale: 100', 'scale: 1000') ?? '');
    expect(await sqlOf('main/dollars')).toContain('(amount * 1.0 / 1000) as usd');
  });

  it('a change of an environment variable the model read renders again, unset and set', async () => {
    expect(await sqlOf('main/dollars')).toContain("'eu' as region");
    editCachedRenders("'eu' as region", "'cached' as region");
    expect(await sqlOf('main/dollars')).toContain("'cached' as region");
    process.env.STRATA_TEST_REGION = 'us';
    expect(await sqlOf('main/dollars')).toContain("'us' as region");
    editCachedRenders("'us' as region", "'cached-us' as region");
    expect(await sqlOf('main/dollars')).toContain("'cached-us' as region");
    delete process.env.STRATA_TEST_REGION;
    expect(await sqlOf('main/dollars')).toContain("'eu' as region");
  });

  it("a dispatched macro's implementation, and the dispatch: search order of dbt_project.yml, render again when edited", async () => {
    write('macros/pick.sql', '{% macro duckdb__any_value(e) %}first({{ e }}){% endmacro %}\n');
    write('models/picked.sql', "select {{ dbt.any_value('amount') }} as picked from {{ ref('raw') }}\n");
    expect(await sqlOf('main/picked')).toContain('first(amount) as picked');
    editCachedRenders('as picked', 'as cached_picked');
    write('macros/pick.sql', '{% macro duckdb__any_value(e) %}max({{ e }}){% endmacro %}\n');
    expect(await sqlOf('main/picked')).toContain('max(amount) as picked');

    editCachedRenders('as picked', 'as cached_picked');
    write('dbt_project.yml', `${FILES['dbt_project.yml']}dispatch:\n  - macro_namespace: dbt\n    search_order: ['dbt', 'cached']\n`);
    expect(await sqlOf('main/picked')).toContain('arbitrary(amount) as picked');
  });

  it('a changed schema.yml is parsed again', async () => {
    const description = async () => (await loadProject(dir)).definitions.get('main/dollars')?.spec.description;
    expect(await description()).toBe('Amounts in dollars');
    write('models/schema.yml', FILES['models/schema.yml']?.replace('in dollars', 'in US dollars') ?? '');
    expect(await description()).toBe('Amounts in US dollars');
  });
});
