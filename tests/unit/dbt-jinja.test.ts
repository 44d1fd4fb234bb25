/**
 * How far nunjucks renders the Jinja dbt projects write exactly as Jinja does, with Strata's
 * fills (`{% do %}`, `dict()`, Python string methods, Python's printing of booleans), and that
 * whatever it would render differently is an error with the file and line instead.
 */
import { describe, expect, it } from 'vitest';
import { renderDbtTemplate } from '../../core/engine/dbt/dbt-jinja.ts';
import { renderModel } from '../../core/engine/dbt/dbt-model-render.ts';

function render(text: string, context: Record<string, unknown> = {}): string {
  const result = renderDbtTemplate({ file: 'models/m.sql', text }, [], context);
  if ('message' in result) throw new Error(`${result.where}: ${result.message}`);
  return result.text;
}

function problem(text: string, context: Record<string, unknown> = {}): string {
  const result = renderDbtTemplate({ file: 'models/m.sql', text }, [], context);
  return 'message' in result ? `${result.where}: ${result.message}` : `rendered ${JSON.stringify(result.text)}`;
}

describe('Jinja as dbt projects write it, rendered by nunjucks', () => {
  it('set lists, loops with loop.last, whitespace control and comments', () => {
    const text = `{% set methods = ['card', 'coupon'] %}
select
    {% for m in methods -%}
    sum(case when method = '{{ m }}' then amount end) as {{ m }}_amount{% if not loop.last %},{% endif %}
    {% endfor -%}
from payments {#- a comment -#}
`;
    expect(render(text)).toBe(
      "\nselect\n    sum(case when method = 'card' then amount end) as card_amount,\n    sum(case when method = 'coupon' then amount end) as coupon_amount\n    from payments",
    );
  });

  it('filters, operators, conditionals, {% do %}, dict(), dict and list methods, set blocks and raw', () => {
    expect(render("{{ 'a' ~ 1 }} {{ 'AbC' | lower }} {{ [1, 2] | join('-') }} {{ [] | length }} {{ x | default('d') }}", { x: undefined })).toBe(
      'a1 abc 1-2 0 d',
    );
    expect(render("{{ 1 if x is none else 2 }} {{ 'x' in ['x'] }} {{ True }} {{ not true }}", { x: null })).toBe('1 True True False');
    expect(render("{% set l = [] %}{% do l.append(3) %}{% do l.append(4) %}{{ l | join(',') }} {{ dict(a=1).a }}")).toBe('3,4 1');
    expect(render("{% set d = {'a': 1, 'b': 2} %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.get('b') }}")).toBe('a=1;b=2; 2');
    expect(render('{% set x %}inner{% endset %}{{ x }} {% raw %}{{ kept }}{% endraw %}')).toBe('inner {{ kept }}');
  });

  it("Python's string methods, as Python runs them (replace replaces every occurrence)", () => {
    expect(render("{{ 'abc'.upper() }} {{ ' x '.strip() }} {{ 'a-b-c'.replace('-', '_') }} {{ 'a,b'.split(',') | length }} {{ ', '.join(['a', 'b']) }}")).toBe(
      'ABC x a_b_c 2 a, b',
    );
    expect(render("{{ 'stg_x'.startswith('stg_') }} {{ 'xxhixx'.strip('x') }} {{ 'a  b'.split() | join('|') }}")).toBe('True hi a|b');
  });

  it('macros with default arguments see the caller context', () => {
    const macros = [{ file: 'macros/m.sql', text: '{% macro cents(col, scale=100) -%}\n({{ col }} / {{ scale }}){{ suffix }}\n{%- endmacro %}\n' }];
    const result = renderDbtTemplate({ file: 'models/m.sql', text: "select {{ cents('amount') }}" }, macros, { suffix: '::double' });
    expect('text' in result && result.text.trim()).toBe('select (amount / 100)::double');
  });

  it('what nunjucks would render differently from Jinja, or does not know, is an error with its line', () => {
    expect(problem("select 1\n{{ '%s' % 1 }}")).toMatch(/^models\/m\.sql: unsupported Jinja: prints NaN/);
    expect(problem('{{ [1, 2] }}')).toMatch(/prints a list, which Jinja prints as Python's repr/);
    expect(problem("select 1\n\n{{ adapter.dispatch('x')() }}", { adapter: {} })).toBe(
      "models/m.sql:3: unsupported Jinja: adapter.dispatch() is not available in Strata's dbt context",
    );
    expect(problem('select 1\n{{ run_started_at }}')).toBe('models/m.sql:2: unsupported Jinja: prints an undefined variable or attribute');
    expect(problem('select 1\n{% call statement() %}x{% endcall %}')).toMatch(/^models\/m\.sql:2: unsupported Jinja: statement\(\)/);
    expect(problem('select 1\n{% materialization x %}{% endmaterialization %}')).toBe(
      'models/m.sql:2: unsupported Jinja: {% materialization %} is not supported',
    );
    expect(problem('select 1\n{{ x | tojson }}', { x: 1 })).toBe('models/m.sql:2: unsupported Jinja: filter tojson is not supported');
    expect(problem("{{ 'x'.zfill(3) }}")).toMatch(/x\.zfill\(\) is not available/);
  });
});

describe("dbt's context", () => {
  const settings = {
    vars: { limit: 5 },
    target: { type: 'duckdb' },
    sources: new Map([['raw.orders', { schema: 'raw', identifier: 'orders_v2' }]]),
    project: 'shop',
  };

  it('ref, source, config (keywords), var with defaults, target, this and is_incremental', () => {
    const text = `{{ config(materialized='incremental', unique_key=['a', 'b']) }}
select * from {{ ref('x') }} join {{ ref('shop', 'y') }} using (id) join {{ source('raw', 'orders') }} using (id)
where n < {{ var('limit') }} and m < {{ var('other', 7) }} and '{{ target.type }}' = '{{ target.schema }}'
{% if is_incremental() %}and t > (select max(t) from {{ this }}){% endif %}`;
    const full = renderModel({ file: 'models/m.sql', text }, [], { ...settings, incremental: false });
    expect(full).toEqual({
      text: `
select * from __strata_dbt_ref_0__ join __strata_dbt_ref_1__ using (id) join "raw"."orders_v2" using (id)
where n < 5 and m < 7 and 'duckdb' = 'main'
`,
      configs: [{ materialized: 'incremental', unique_key: ['a', 'b'] }],
      refs: ['x', 'y'],
    });
    const incremental = renderModel({ file: 'models/m.sql', text }, [], { ...settings, incremental: true });
    expect('text' in incremental && incremental.text.trim().endsWith('and t > (select max(t) from __strata_dbt_this__)')).toBe(true);
  });

  it('names the line of a var without value, an undeclared source, a ref to another package', () => {
    const model = (text: string) => renderModel({ file: 'models/m.sql', text }, [], { ...settings, incremental: false });
    expect(model("select 1\nwhere x = {{ var('nope') }}")).toEqual({
      message: "var('nope') has no value: set it under vars: in dbt_project.yml, or give a default",
      where: 'models/m.sql:2',
    });
    expect(model("select 1\n\nfrom {{ source('raw', 'missing') }}")).toMatchObject({ where: 'models/m.sql:3' });
    expect(model("select * from {{ ref('dbt_utils', 'x') }}")).toMatchObject({
      message: "ref('dbt_utils', 'x') names package dbt_utils: dbt packages are not supported yet",
    });
  });
});
