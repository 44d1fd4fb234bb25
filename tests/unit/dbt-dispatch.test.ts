/**
 * `adapter.dispatch` as dbt resolves it (adapter prefix, then `default__`; the project's macros,
 * then dbt's; `dispatch:` search orders), `return()` in macros, dbt's cross-database macros as
 * text (dbt-core's, dbt-duckdb's and dbt-postgres's implementations with their whitespace
 * collapsed), the adapter helpers, and what needs the database while rendering as errors saying why.
 */
import { describe, expect, it } from 'vitest';
import { renderModel, type RenderSettings } from '../../core/engine/dbt/dbt-model-render.ts';
import { dbtAdapterConfig } from '../../core/model/dbt/dbt-adapter-config.ts';

const SETTINGS: RenderSettings = { vars: {}, target: { type: 'duckdb', database: 'warehouse' }, sources: new Map(), incremental: false, project: 'shop' };

const MACROS = `{% macro money(col) -%}
{{ return(adapter.dispatch('money')(col)) }}
{%- endmacro %}

{% macro default__money(col) -%}
({{ col }} / 100)
{%- endmacro %}

{% macro postgres__money(col) -%}
({{ col }}::numeric / 100)
{%- endmacro %}

{% macro columns() -%}
{% if true %}{% do return(['a', 'b']) %}{% endif %}
never printed
{%- endmacro %}
`;

function render(text: string, settings: Partial<RenderSettings> = {}, macros = MACROS): string {
  const result = renderModel({ file: 'models/m.sql', text }, [{ file: 'macros/m.sql', text: macros }], { ...SETTINGS, ...settings });
  return 'message' in result ? `${result.where}: ${result.message}` : result.text;
}

const POSTGRES: Partial<RenderSettings> = { target: { type: 'postgres', database: 'analytics' } };

describe('adapter.dispatch', () => {
  it("finds <adapter>__name, else default__name, in the project's macros; return() returns a value from a macro", () => {
    expect(render("select {{ money('amount') }}")).toBe('select (amount / 100)');
    expect(render("select {{ money('amount') }}", POSTGRES)).toBe('select (amount::numeric / 100)');
    expect(render("{% set cols = columns() %}{{ cols | join(', ') }} {{ cols | length }}")).toBe('a, b 2');
    expect(render("select {{ adapter.dispatch('money', 'shop')('x') }}")).toBe('select (x / 100)');
    expect(render("select {{ adapter.dispatch('money', macro_namespace='shop')(col='y') }}")).toBe('select (y / 100)');
    expect(render("select {{ shop.money('z') }}")).toBe('select (z / 100)');
    // A package's namespace (its macros rendered with the project's, as for its generic tests): the project's macros are searched.
    expect(render("select {{ adapter.dispatch('money', 'dbt_utils')('w') }}")).toBe('select (w / 100)');
  });

  it("a project implementation overrides dbt's, through dbt.name() too (dbt searches the root project first)", () => {
    const own = `{% macro duckdb__any_value(e) %}first({{ e }}){% endmacro %}`;
    expect(render('select {{ dbt.any_value("x") }}', {}, own)).toBe('select first(x)');
    expect(render('select {{ dbt.any_value("x") }}')).toBe('select arbitrary(x)');
    // A macro of the same name as a dbt macro wins where it is called unqualified.
    expect(render('select {{ hash("x") }}', {}, '{% macro hash(f) %}sha256({{ f }}){% endmacro %}')).toBe('select sha256(x)');
    expect(render('select {{ dbt.hash("x") }}', {}, '{% macro hash(f) %}sha256({{ f }}){% endmacro %}')).toBe('select md5(cast(x as TEXT))');
  });

  it('a dispatch: search_order decides the packages searched, in order', () => {
    const own = `{% macro duckdb__any_value(e) %}first({{ e }}){% endmacro %}`;
    const dbtFirst = dbtAdapterConfig({ dispatch: [{ macro_namespace: 'dbt', search_order: ['dbt', 'shop'] }] }).config;
    expect(render('select {{ dbt.any_value("x") }}', { adapter: dbtFirst }, own)).toBe('select arbitrary(x)');
    const other = dbtAdapterConfig({ dispatch: [{ macro_namespace: 'dbt', search_order: ['spark_utils', 'dbt'] }] }).config;
    expect(render('select 1\n{{ dbt.any_value("x") }}', { adapter: other }, own)).toBe(
      "models/m.sql:2: adapter.dispatch('any_value', 'dbt'): the search_order of dbt_project.yml's dispatch: names package spark_utils: dbt packages are not supported yet",
    );
    expect(dbtAdapterConfig({ dispatch: [{ macro_namespace: 'dbt' }], quoting: { identifier: 'no' } }).problems).toEqual([
      'dispatch: each entry needs macro_namespace (a string) and search_order (a list of package names)',
      'quoting: identifier must be true or false',
    ]);
  });

  it('no implementation is an error naming the macro, what was searched, the file and line', () => {
    expect(render("select 'nothing'\n\n{{ adapter.dispatch('nothing')() }}")).toBe(
      "models/m.sql:3: adapter.dispatch('nothing') finds no macro for target type duckdb: searched duckdb__nothing, default__nothing",
    );
    expect(render("select 1\n{{ adapter.dispatch('surrogate', 'dbt_utils')() }}")).toBe(
      "models/m.sql:2: adapter.dispatch('surrogate', 'dbt_utils') finds no macro for target type duckdb: searched shop.duckdb__surrogate, shop.default__surrogate (dbt_utils would be a package: Strata reads a package's macros only for its generic tests)",
    );
    expect(render("{{ adapter.dispatch('dbt_utils.x')() }}")).toMatch(/did you mean adapter\.dispatch\('x', macro_namespace='dbt_utils'\)/);
    // The error of a macro file's dispatch names the macro file's line.
    expect(render('select 1\n{{ broken() }}', {}, "\n{% macro broken() %}{{ adapter.dispatch('gone')() }}{% endmacro %}")).toMatch(
      /^macros\/m\.sql:2: adapter\.dispatch\('gone'\) finds no macro/,
    );
  });
});

describe("dbt's cross-database macros, as dbt-duckdb and dbt-postgres print them", () => {
  it('dates', () => {
    expect(render("{{ dbt.dateadd('day', 3, 'd') }} {{ dbt.dateadd('quarter', 1, 'd') }} {{ dbt.dateadd('week', 'n', 'd') }}")).toBe(
      '(d + cast(3 as bigint) * interval 1 day) (d + (cast(1 as bigint) * 3) * interval 1 month) (d + (cast(n as bigint) * 7) * interval 1 day)',
    );
    expect(render("{{ dbt.dateadd('day', 3, 'd') }}", POSTGRES)).toBe("d + ((interval '1 day') * (3))");
    expect(render("{{ dbt.datediff('a', 'b', 'month') }}")).toBe("(date_diff('month', a::timestamp, b::timestamp ))");
    expect(render("{{ dbt.datediff('a', 'b', 'month') }}", POSTGRES)).toBe(
      "((date_part('year', (b)::date) - date_part('year', (a)::date)) * 12 + date_part('month', (b)::date) - date_part('month', (a)::date))",
    );
    expect(render("{{ dbt.date_trunc('month', 'd') }} {{ current_timestamp() }} {{ dbt.current_timestamp() }}")).toBe("date_trunc('month', d) now() now()");
    expect(render("{{ dbt.last_day('d', 'month') }}")).toBe(
      "cast(((date_trunc('month', d) + cast(1 as bigint) * interval 1 month) + cast(-1 as bigint) * interval 1 day) as date)",
    );
  });

  it('strings, types, aggregates and set operators', () => {
    expect(render("{{ dbt.concat(['a', \"'-'\", 'b']) }} | {{ dbt.hash('x') }} | {{ dbt.split_part('s', \"','\", 2) }}")).toBe(
      "a || '-' || b | md5(cast(x as TEXT)) | string_split(s, ',')[ 2 ]",
    );
    expect(render("{{ dbt.split_part('s', \"','\", -1) }}", POSTGRES)).toBe("split_part(s, ',', length(s) - length(replace(s, ',', '')) + 2 + -1)");
    expect(render("{{ dbt.split_part('s', \"','\", 1) }}", POSTGRES)).toBe("split_part(s, ',', 1)");
    expect(
      render(
        '{{ dbt.type_string() }} {{ dbt.type_int() }} {{ dbt.type_bigint() }} {{ dbt.type_float() }} {{ dbt.type_numeric() }} {{ type_boolean() }} {{ dbt.type_timestamp() }}',
      ),
    ).toBe('TEXT integer bigint float numeric(28,6) boolean timestamp');
    expect(render("{{ dbt.safe_cast('x', 'int') }} {{ dbt.cast('x', dbt.type_string()) }}")).toBe('cast(x as int) cast(x as TEXT)');
    expect(render("{{ dbt.any_value('x') }} {{ dbt.bool_or('b') }}", POSTGRES)).toBe('min(x) bool_or(b)');
    expect(render("{{ dbt.listagg('n') }} | {{ dbt.listagg('n', \"'-'\", 'order by n desc', 2) }}")).toBe(
      "string_agg(n, ',') | list_aggr((array_agg(n order by n desc))[1:2], 'string_agg', '-')",
    );
    expect(render("{{ dbt.listagg('n', \"'-'\", 'order by n', 2) }}", POSTGRES)).toBe("array_to_string((array_agg(n order by n))[1:2], '-')");
    expect(render("'{{ dbt.escape_single_quotes(\"it's\") }}' {{ dbt.string_literal('x') }} {{ dbt.except() }} {{ dbt.intersect() }}")).toBe(
      "'it''s' 'x' except intersect",
    );
    expect(render("{{ dbt.replace('s', \"'a'\", \"'b'\") }} {{ dbt.length('s') }} {{ dbt.position(\"'a'\", 's') }} {{ dbt.right('s', 2) }}")).toBe(
      "replace(s, 'a', 'b') length(s) position('a' in s) right(s, 2)",
    );
    expect(render("{{ adapter.dispatch('hash', 'dbt')('x') }} {{ dbt.default__hash('y') }}")).toBe('md5(cast(x as TEXT)) md5(cast(y as TEXT))');
    expect(render("{{ dbt.listagg(measure='n', delimiter_text=\"'|'\") }}")).toBe("string_agg(n, '|')");
  });

  it('date, cast_bool_to_text, arrays and api.Column', () => {
    expect(render('{{ dbt.date(2024, 2, 29) }}')).toBe('make_date(2024, 2, 29)');
    expect(render('{{ dbt.date(2024, 2, 9) }}', POSTGRES)).toBe("to_date('2024-02-09', 'YYYY-MM-DD')");
    expect(render('select 1\n{{ dbt.date(2023, 2, 29) }}', POSTGRES)).toBe(
      'models/m.sql:2: dbt.date(2023, 2, 29) is not a date (year, month and day as integers)',
    );
    expect(render("{{ dbt.cast_bool_to_text('b') }}")).toBe('cast(b as TEXT)');
    expect(render("{{ dbt.array_construct(['1', '2']) }} {{ dbt.array_construct() }} {{ dbt.array_construct([], 'text') }}")).toBe(
      'array[ 1 , 2 ] array[]::integer[] array[]::text[]',
    );
    expect(render("{{ dbt.array_append('a', 3) }} {{ dbt.array_concat('a', 'b') }}")).toBe('array_append(a, 3) array_cat(a, b)');
    expect(
      render(
        "{{ api.Column.translate_type('string') }} {{ api.Column.translate_type('integer') }} {{ api.Column.numeric_type('numeric', 10, 2) }} {{ api.Column.string_type(5) }}",
      ),
    ).toBe('TEXT integer numeric(10,2) character varying(5)');
  });

  it('bad arguments are errors naming the macro', () => {
    expect(render("select concat(a, b)\n{{ dbt.concat('a') }}")).toBe('models/m.sql:2: dbt.concat() takes a list of fields');
    // A project macro's result (a safe string) is SQL text like any string.
    expect(render("{{ dbt.length(money('x')) }}")).toBe('length((x / 100))');
    expect(render("{{ dbt.hash('a', 'b') }}")).toBe('models/m.sql:1: dbt.hash() takes 1 arguments, not 2');
    expect(render("{{ dbt.datediff('a', 'b', 'fortnight') }}", POSTGRES)).toBe(
      "models/m.sql:1: Unsupported datepart for macro datediff in postgres: 'fortnight'",
    );
  });
});

describe('adapter helpers, target, and what needs the database', () => {
  it('quote, quote_as_configured, api.Relation.create, target.database and target.profile_name', () => {
    const unquoted = dbtAdapterConfig({ quoting: { identifier: false }, profile: 'shop_profile' }).config;
    expect(
      render("{{ adapter.quote('a b') }} {{ adapter.quote_as_configured('t', 'identifier') }} {{ adapter.quote_as_configured('s', 'schema') }}", {
        adapter: unquoted,
      }),
    ).toBe('"a b" t "s"');
    expect(render("{% set r = api.Relation.create(schema='raw', identifier='events') %}{{ r }} {{ r.schema }} {{ r.identifier }}")).toBe(
      '"raw"."events" raw events',
    );
    expect(render('{{ api.Relation.create(target.database, "raw", "e") }}')).toBe('"warehouse"."raw"."e"');
    expect(render('{{ target.database }} {{ target.profile_name }} {{ target.threads }} {{ adapter.type() }}', { adapter: unquoted })).toBe(
      'warehouse shop_profile 1 duckdb',
    );
  });

  it('run_query, statement blocks and adapter.get_relation are errors naming the line and saying why', () => {
    const why =
      'reads the database while the model is rendered, which Strata does not support: it renders every model once, before anything is built, to know the graph, its dependencies and code versions';
    expect(render("select 1\n{% if execute %}{% set r = run_query('select 1') %}{% endif %}")).toBe(`models/m.sql:2: run_query() ${why}`);
    expect(render("select 1\n\n{% call statement('x', fetch_result=True) %}select 1{% endcall %}")).toBe(`models/m.sql:3: statement() ${why}`);
    expect(render('select 1\n{% set cols = adapter.get_columns_in_relation(this) %}')).toBe(`models/m.sql:2: adapter.get_columns_in_relation() ${why}`);
    expect(render("{{ exceptions.raise_compiler_error('bad input') }}")).toBe('models/m.sql:1: bad input');
    expect(render("{{ log('hello', info=True) }}select 1")).toBe('select 1');
  });

  it('an undefined value printed after a macro call names its own line; printed in a macro, the macro file and line', () => {
    expect(render("select\n  {{ money('a') }} as amount,\n  {{ dbt.hash('x') }} as h,\n  '{{ target.nothing }}' as profile\n")).toBe(
      'models/m.sql:4: unsupported Jinja: prints an undefined variable or attribute',
    );
    expect(render('select\n\n  {{ bad() }} as x\n', {}, '{% macro ok() %}1{% endmacro %}\n\n{% macro bad() %}\n  {{ nope }}\n{% endmacro %}\n')).toBe(
      'macros/m.sql:4: unsupported Jinja: prints an undefined variable or attribute',
    );
  });

  it('return() outside a macro, and a macro printed without calling it, are errors', () => {
    expect(render('select 1\n{{ return(1) }}')).toBe('models/m.sql:2: return() is only valid inside a macro');
    expect(render('select {{ length }}, {{ money }}')).toBe(
      'models/m.sql: unsupported Jinja: prints a macro or function without calling it, which Jinja prints as its repr: call it',
    );
  });
});
