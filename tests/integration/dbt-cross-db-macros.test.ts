/**
 * dbt's cross-database macros and `adapter.dispatch` on real DuckDB: every macro's SQL is run and
 * its value checked, and a dbt project whose model dispatches to its own macros and calls
 * `dbt.*` macros is materialized and its rows checked. A dispatch without implementation is a
 * definition error naming the model, the file and the line.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderModel } from '../../core/engine/dbt/dbt-model-render.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

/** Renders `expression` as a dbt model for DuckDB (no macros of the project). */
function sql(expression: string): string {
  const rendered = renderModel({ file: 'models/m.sql', text: expression }, [], {
    vars: {},
    target: { type: 'duckdb' },
    sources: new Map(),
    incremental: false,
  });
  if ('message' in rendered) throw new Error(`${rendered.where}: ${rendered.message}`);
  return rendered.text;
}

describe("dbt's cross-database macros on DuckDB", () => {
  let warehouse: DuckDBWarehouse;
  beforeAll(async () => {
    warehouse = await DuckDBWarehouse.open(':memory:');
  });
  afterAll(() => warehouse.close());

  async function value(expression: string, from = ''): Promise<unknown> {
    const rows = await warehouse.query(`select ${sql(expression)} as v ${from}`);
    return rows[0]?.v;
  }

  const D = "date '2024-01-31'";
  const TS = "timestamp '2024-03-10 12:30:00'";
  /** An integer list as DuckDB prints it. */
  const TEXT_ARRAY = '[1, 2, 3, 4]';

  it('dates: dateadd (day, month, quarter, week, hour), datediff, date_trunc, last_day, current_timestamp', async () => {
    const iso = (expression: string) => value(`strftime(${expression}, '%Y-%m-%d %H:%M')`);
    expect(await iso(`{{ dbt.dateadd('day', 3, "${D}") }}`)).toBe('2024-02-03 00:00');
    expect(await iso(`{{ dbt.dateadd('month', 1, "${D}") }}`)).toBe('2024-02-29 00:00');
    expect(await iso(`{{ dbt.dateadd('quarter', 1, "${D}") }}`)).toBe('2024-04-30 00:00');
    expect(await iso(`{{ dbt.dateadd('week', -1, "${D}") }}`)).toBe('2024-01-24 00:00');
    expect(await iso(`{{ dbt.dateadd('hour', '2 + 1', "${TS}") }}`)).toBe('2024-03-10 15:30');
    expect(Number(await value(`{{ dbt.datediff("${D}", "${TS}", 'day') }}`))).toBe(39);
    expect(Number(await value(`{{ dbt.datediff("${D}", "${TS}", 'month') }}`))).toBe(2);
    // Week boundaries (Sundays) crossed from Wednesday 31 January to Sunday 10 March, as dbt counts them.
    expect(Number(await value(`{{ dbt.datediff("${D}", "${TS}", 'week') }}`))).toBe(6);
    expect(await iso(`{{ dbt.date_trunc('month', "${TS}") }}`)).toBe('2024-03-01 00:00');
    expect(await iso(`{{ dbt.last_day("${TS}", 'month') }}`)).toBe('2024-03-31 00:00');
    expect(await iso(`{{ dbt.last_day("${TS}", 'quarter') }}`)).toBe('2024-03-31 00:00');
    expect(await value('{{ dbt.current_timestamp() }} <= now()')).toBe(true);
  });

  it('strings: concat, hash, split_part (also from the end), replace, length, position, right, escape_single_quotes, string_literal', async () => {
    expect(await value(`{{ dbt.concat(["'a'", "'-'", "'b'"]) }}`)).toBe('a-b');
    expect(await value('{{ dbt.hash("\'abc\'") }}')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await value(`{{ dbt.split_part("'a,b,c'", "','", 2) }}`)).toBe('b');
    expect(await value(`{{ dbt.split_part("'a,b,c'", "','", -1) }}`)).toBe('c');
    expect(await value(`{{ dbt.replace("'banana'", "'a'", "'o'") }}`)).toBe('bonono');
    expect(Number(await value(`{{ dbt.length("'banana'") }}`))).toBe(6);
    expect(Number(await value(`{{ dbt.position("'n'", "'banana'") }}`))).toBe(3);
    expect(await value(`{{ dbt.right("'banana'", 3) }}`)).toBe('ana');
    expect(await value(`'{{ dbt.escape_single_quotes("it's") }}'`)).toBe("it's");
    expect(await value("{{ dbt.string_literal('x') }}")).toBe('x');
  });

  it('casts and types: cast, safe_cast, type_* (each a type DuckDB accepts)', async () => {
    expect(Number(await value('{{ dbt.cast("\'42\'", dbt.type_int()) }}'))).toBe(42);
    expect(Number(await value('{{ dbt.safe_cast("\'7\'", dbt.type_bigint()) }}'))).toBe(7);
    const types = await warehouse.query(
      `select typeof(${sql("{{ dbt.cast('1', dbt.type_string()) }}")}) as s, typeof(${sql("{{ dbt.cast('1', dbt.type_float()) }}")}) as f, typeof(${sql(
        "{{ dbt.cast('1', dbt.type_numeric()) }}",
      )}) as n, typeof(${sql("{{ dbt.cast('true', dbt.type_boolean()) }}")}) as b, typeof(${sql('{{ dbt.cast("\'2024-01-01\'", dbt.type_timestamp()) }}')}) as t`,
    );
    expect(types).toEqual([{ s: 'VARCHAR', f: 'FLOAT', n: 'DECIMAL(28,6)', b: 'BOOLEAN', t: 'TIMESTAMP' }]);
  });

  it('date, cast_bool_to_text and arrays (construct, append, concat)', async () => {
    expect(await value(`{{ dbt.date(2024, 2, 29) }} = date '2024-02-29'`)).toBe(true);
    expect(await value(`{{ dbt.cast_bool_to_text('1 < 2') }}`)).toBe('true');
    expect(await value(`{{ dbt.array_concat(dbt.array_append(dbt.array_construct(['1', '2']), 3), dbt.array_construct(['4'])) }}::text`)).toBe(TEXT_ARRAY);
    expect(await value(`({{ dbt.array_construct() }})::text`)).toBe('[]');
  });

  it('aggregates and set operators: any_value, bool_or, listagg (with order and limit), except, intersect', async () => {
    const numbers = 'from (values (3), (1), (2)) t(n)';
    expect([1, 2, 3]).toContain(Number(await value("{{ dbt.any_value('n') }}", numbers)));
    expect(await value("{{ dbt.bool_or('n > 2') }}", numbers)).toBe(true);
    expect(await value("{{ dbt.listagg('cast(n as varchar)', \"'-'\", 'order by n') }}", numbers)).toBe('1-2-3');
    expect(await value("{{ dbt.listagg('cast(n as varchar)', \"'-'\", 'order by n desc', 2) }}", numbers)).toBe('3-2');
    const rows = await warehouse.query(`select n from (values (1), (2)) a(n) ${sql('{{ dbt.except() }}')} select 2 ${sql('{{ dbt.intersect() }}')} select 2`);
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe('a dbt project dispatching to its own macros, materialized on DuckDB', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace(
      'strata-dbt-dispatch-',
      { name: 'dispatching', dbt: 'dbt' },
      {
        'dbt/dbt_project.yml': 'name: shop\nprofile: shop_profile\nmodels:\n  shop:\n    +materialized: table\n',
        'dbt/seeds/orders.csv': 'id,customer,ordered_at,amount_cents,tags\n1,ann,2024-01-31,1250,a|b\n2,bob,2024-02-15,900,c\n3,ann,2024-03-01,300,d|e|f\n',
        'dbt/macros/cents.sql': `{% macro cents_to_dollars(column) -%}
  {{ return(adapter.dispatch('cents_to_dollars', 'shop')(column)) }}
{%- endmacro %}

{% macro default__cents_to_dollars(column) -%}
  ({{ column }} / 100)::numeric(10, 2)
{%- endmacro %}

{% macro duckdb__cents_to_dollars(column) -%}
  round({{ column }} / 100, 2)
{%- endmacro %}

{% macro payment_columns() -%}
  {{ return(['id', 'customer']) }}
{%- endmacro %}
`,
        'dbt/models/customer_orders.sql': `select
    {{ payment_columns() | join(', ') }},
    {{ cents_to_dollars('amount_cents') }} as amount,
    {{ dbt.dateadd('day', 1, dbt.cast('ordered_at', 'date')) }}::date as due_at,
    {{ dbt.datediff("date '2024-01-01'", 'ordered_at', 'day') }} as days_in,
    {{ dbt.split_part('tags', "'|'", 1) }} as first_tag,
    {{ dbt.concat(['customer', "'#'", dbt.cast('id', dbt.type_string())]) }} as label,
    '{{ target.profile_name }}' as profile
from {{ ref('orders') }}
`,
        'dbt/models/by_customer.sql': `select
    customer,
    {{ dbt.listagg(dbt.cast('id', dbt.type_string()), "','", 'order by id') }} as ids,
    {{ dbt.bool_or('amount > 10') }} as any_large
from {{ ref('customer_orders') }}
group by customer
`,
      },
    );
  });

  afterEach(async () => {
    await workspace.close();
  });

  it('builds the models with the duckdb__ implementation and dbt macros; rows as expected', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(
      await workspace.warehouse.query(
        "select id, customer, amount::double as amount, strftime(due_at, '%Y-%m-%d') as due_at, days_in::int as days_in, first_tag, label, profile from main.customer_orders order by id",
      ),
    ).toEqual([
      { id: 1, customer: 'ann', amount: 12.5, due_at: '2024-02-01', days_in: 30, first_tag: 'a', label: 'ann#1', profile: 'shop_profile' },
      { id: 2, customer: 'bob', amount: 9, due_at: '2024-02-16', days_in: 45, first_tag: 'c', label: 'bob#2', profile: 'shop_profile' },
      { id: 3, customer: 'ann', amount: 3, due_at: '2024-03-02', days_in: 60, first_tag: 'd', label: 'ann#3', profile: 'shop_profile' },
    ]);
    expect(await workspace.warehouse.query('select customer, ids, any_large from main.by_customer order by customer')).toEqual([
      { customer: 'ann', ids: '1,3', any_large: true },
      { customer: 'bob', ids: '2', any_large: false },
    ]);
  });

  it('a dispatch with no implementation is a definition error naming the model, the file and the line', async () => {
    const file = `${workspace.dir}/dbt/models/broken.sql`;
    (await import('node:fs')).writeFileSync(file, "select 1 as x\nfrom {{ ref('orders') }}\nwhere {{ adapter.dispatch('nowhere')() }}\n");
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => [e.context.assetKey, e.context.file, e.message])).toEqual([
      [
        'main/broken',
        'dbt/models/broken.sql:3',
        "adapter.dispatch('nowhere') finds no macro for target type duckdb: searched duckdb__nowhere, default__nowhere",
      ],
    ]);
  });

  it('a dispatch: or quoting: that is not valid is a definition error naming dbt_project.yml', async () => {
    (await import('node:fs')).writeFileSync(
      `${workspace.dir}/dbt/dbt_project.yml`,
      'name: shop\nprofile: shop_profile\ndispatch:\n  - macro_namespace: dbt\nquoting:\n  identifier: maybe\n',
    );
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as DefinitionErrors).errors.map((e) => [e.context.file, e.message])).toEqual([
      ['dbt/dbt_project.yml', 'dispatch: each entry needs macro_namespace (a string) and search_order (a list of package names)'],
      ['dbt/dbt_project.yml', 'quoting: identifier must be true or false'],
    ]);
  });
});
