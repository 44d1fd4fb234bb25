/**
 * dbt's cross-database macros rendered for a Postgres target (dbt-postgres's implementations: `min`
 * for any_value, `interval` arithmetic for dateadd, date_part sums for datediff, `split_part` from
 * the end…) and run on real Postgres, each value checked.
 */
import { describe, expect, it } from 'vitest';
import { renderModel } from '../../core/engine/dbt/dbt-model-render.ts';
import { postgresMissing, postgresRows } from '../postgres.ts';

const missing = postgresMissing();

/** Renders `expression` as a dbt model for Postgres. */
function sql(expression: string): string {
  const rendered = renderModel({ file: 'models/m.sql', text: expression }, [], {
    vars: {},
    target: { type: 'postgres' },
    sources: new Map(),
    incremental: false,
  });
  if ('message' in rendered) throw new Error(`${rendered.where}: ${rendered.message}`);
  return rendered.text;
}

async function value(expression: string, from = ''): Promise<unknown> {
  const rows = await postgresRows<{ v: unknown }>(`select ${sql(expression)} as v ${from}`);
  return rows[0]?.v;
}

const D = "date '2024-01-31'";
const TS = "timestamp '2024-03-10 12:30:00'";
/** An integer array as text. */
const TEXT_ARRAY = '{1,2,3,4}';

describe.skipIf(missing !== undefined)(`dbt's cross-database macros on Postgres${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('dates: dateadd, datediff (day, week, month, quarter, year, hour), date_trunc, last_day, current_timestamp', async () => {
    const iso = (expression: string) => value(`to_char(${expression}, 'YYYY-MM-DD HH24:MI')`);
    expect(await iso(`{{ dbt.dateadd('day', 3, "${D}") }}`)).toBe('2024-02-03 00:00');
    expect(await iso(`{{ dbt.dateadd('month', 1, "${D}") }}`)).toBe('2024-02-29 00:00');
    expect(await iso(`{{ dbt.dateadd('hour', '2 + 1', "${TS}") }}`)).toBe('2024-03-10 15:30');
    const diff = async (part: string) => Number(await value(`{{ dbt.datediff("${D}", "${TS}", '${part}') }}`));
    expect([await diff('day'), await diff('week'), await diff('month'), await diff('quarter'), await diff('year'), await diff('hour')]).toEqual([
      39, 6, 2, 0, 0, 948,
    ]);
    expect(await iso(`{{ dbt.date_trunc('month', "${TS}") }}`)).toBe('2024-03-01 00:00');
    expect(await iso(`{{ dbt.last_day("${TS}", 'month') }}`)).toBe('2024-03-31 00:00');
    expect(await iso(`{{ dbt.last_day("${TS}", 'quarter') }}`)).toBe('2024-03-31 00:00');
    expect(await value('{{ dbt.current_timestamp() }} <= now()')).toBe(true);
  });

  it('strings and types: concat, hash, split_part (also from the end), replace, length, position, right, casts', async () => {
    expect(await value(`{{ dbt.concat(["'a'", "'-'", "'b'"]) }}`)).toBe('a-b');
    expect(await value('{{ dbt.hash("\'abc\'") }}')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await value(`{{ dbt.split_part("'a,b,c'", "','", 2) }}`)).toBe('b');
    expect(await value(`{{ dbt.split_part("'a,b,c'", "','", -1) }}`)).toBe('c');
    expect(await value(`{{ dbt.replace("'banana'", "'a'", "'o'") }}`)).toBe('bonono');
    expect(Number(await value(`{{ dbt.length("'banana'") }}`))).toBe(6);
    expect(Number(await value(`{{ dbt.position("'n'", "'banana'") }}`))).toBe(3);
    expect(await value(`{{ dbt.right("'banana'", 3) }}`)).toBe('ana');
    expect(await value(`'{{ dbt.escape_single_quotes("it's") }}'`)).toBe("it's");
    const types = await postgresRows(
      `select pg_typeof(${sql("{{ dbt.cast('1', dbt.type_string()) }}")})::text as s, pg_typeof(${sql("{{ dbt.cast('1', dbt.type_int()) }}")})::text as i, pg_typeof(${sql(
        "{{ dbt.cast('1', dbt.type_bigint()) }}",
      )})::text as b, pg_typeof(${sql("{{ dbt.cast('1', dbt.type_float()) }}")})::text as f, pg_typeof(${sql(
        "{{ dbt.safe_cast('1', dbt.type_numeric()) }}",
      )})::text as n, pg_typeof(${sql("{{ dbt.cast('true', dbt.type_boolean()) }}")})::text as t, pg_typeof(${sql('{{ dbt.cast("\'2024-01-01\'", dbt.type_timestamp()) }}')})::text as ts`,
    );
    expect(types).toEqual([{ s: 'text', i: 'integer', b: 'bigint', f: 'double precision', n: 'numeric', t: 'boolean', ts: 'timestamp without time zone' }]);
  });

  it('date, cast_bool_to_text and arrays (construct, append, concat)', async () => {
    expect(await value(`{{ dbt.date(2024, 2, 29) }} = date '2024-02-29'`)).toBe(true);
    expect(await value(`{{ dbt.cast_bool_to_text('1 < 2') }}`)).toBe('true');
    expect(await value(`{{ dbt.array_concat(dbt.array_append(dbt.array_construct(['1', '2']), 3), dbt.array_construct(['4'])) }}::text`)).toBe(TEXT_ARRAY);
    expect(await value(`({{ dbt.array_construct() }})::text`)).toBe('{}');
  });

  it('aggregates and set operators: any_value (min), bool_or, listagg (with order and limit), except, intersect', async () => {
    const numbers = 'from (values (3), (1), (2)) t(n)';
    expect(Number(await value("{{ dbt.any_value('n') }}", numbers))).toBe(1);
    expect(await value("{{ dbt.bool_or('n > 2') }}", numbers)).toBe(true);
    expect(await value("{{ dbt.listagg('n::text', \"'-'\", 'order by n') }}", numbers)).toBe('1-2-3');
    expect(await value("{{ dbt.listagg('n::text', \"'-'\", 'order by n desc', 2) }}", numbers)).toBe('3-2');
    const rows = await postgresRows(`select n from (values (1), (2)) a(n) ${sql('{{ dbt.except() }}')} select 2 ${sql('{{ dbt.intersect() }}')} select 2`);
    expect(rows).toEqual([{ n: 1 }]);
  });
});
