import { describe, expect, it } from 'vitest';
import { isAssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import { parseSqlAssetFile, sqlAssetDefinition, sqlPathToKey } from '../../core/model/definitions/sql-asset-file.ts';
import type { ParsedSqlAssetFile, SqlAssetFileResult } from '../../core/model/definitions/sql-asset-file.ts';
import type { DefinitionError } from '../../core/model/errors.ts';

function parsed(result: SqlAssetFileResult): ParsedSqlAssetFile {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result;
}

function errors(result: SqlAssetFileResult): DefinitionError[] {
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

describe('sqlPathToKey', () => {
  it('drops .sql and normalises separators', () => {
    expect(sqlPathToKey('staging/orders.sql')).toBe('staging/orders');
    expect(sqlPathToKey('./marts\\finance\\revenue.sql')).toBe('marts/finance/revenue');
  });
});

describe('parseSqlAssetFile header', () => {
  it('reads every field', () => {
    const text = [
      '-- Orders, cleaned for reporting.',
      '-- description: One row per order,',
      '',
      '-- description: deduplicated.',
      '-- group: sales',
      '-- tags: domain=sales, pii',
      '-- owners: ana@example.com, team:data',
      '-- materialization: view',
      '-- deps: raw/orders, raw/payments',
      '-- kind: dbt, mart',
      '-- code_version: 3',
      'select * from raw.orders;',
    ].join('\n');
    const { key, header, body } = parsed(parseSqlAssetFile('staging/orders.sql', text));
    expect(key).toBe('staging/orders');
    expect(header).toEqual({
      description: 'One row per order, deduplicated.',
      group: 'sales',
      tags: { domain: 'sales', pii: '' },
      owners: ['ana@example.com', 'team:data'],
      materialization: 'view',
      deps: ['raw/orders', 'raw/payments'],
      kinds: ['dbt', 'mart'],
      codeVersion: '3',
      partitionMappings: {},
      checks: [],
    });
    expect(body.startsWith('-- Orders, cleaned')).toBe(true);
    expect(body.endsWith('select * from raw.orders')).toBe(true);
  });

  it('defaults to a table with no metadata', () => {
    const { header } = parsed(parseSqlAssetFile('staging/orders.sql', 'select 1'));
    expect(header).toEqual({ deps: [], tags: {}, owners: [], kinds: [], partitionMappings: {}, checks: [], materialization: 'table' });
  });

  it('ignores prose comment lines and comments after the query starts', () => {
    const text = [
      '-- This model joins orders to payments.',
      '-- Note: amounts are in cents',
      '-- see https://wiki.example.com/orders',
      'select 1',
      '-- materialisation: view',
    ].join('\n');
    const { header } = parsed(parseSqlAssetFile('staging/orders.sql', text));
    expect(header.materialization).toBe('table');
    expect(header.description).toBeUndefined();
  });

  it('rejects a near-miss field name with a suggestion, naming key and file', () => {
    const text = '-- materialisation: view\n-- dep: raw/orders\nselect 1';
    const problems = errors(parseSqlAssetFile('staging/orders.sql', text, 'defs/staging/orders.sql'));
    expect(problems.map((e) => e.message)).toEqual([
      'unknown header field "materialisation" (did you mean "materialization"?)',
      'unknown header field "dep" (did you mean "deps"?)',
    ]);
    expect(problems[0]?.code).toBe('sql_header_unknown_field');
    expect(problems[0]?.context).toEqual({ assetKey: 'staging/orders', file: 'defs/staging/orders.sql' });
  });

  it('rejects an invalid materialization value', () => {
    const problems = errors(parseSqlAssetFile('staging/orders.sql', '-- materialization: ephemeral\nselect 1'));
    expect(problems.map((e) => e.message)).toEqual(['materialization must be "table", "view", "snapshot" or "incremental", not "ephemeral"']);
  });

  it('validates fields with the spec schema and reports them as written', () => {
    const text = '-- group: Sales\n-- deps: Raw/orders\n-- tags: bad tag=x\n-- code_version:\nselect 1';
    const messages = errors(parseSqlAssetFile('staging/orders.sql', text)).map((e) => e.message);
    expect(messages).toHaveLength(4);
    expect(messages).toContain('header field "group": group must be lowercase letters, digits and _');
    expect(messages.find((m) => m.startsWith('header field "deps"'))).toContain('"Raw/orders"');
    expect(messages).toContain('tag "bad tag": tag names use letters, digits, _ . - /');
    expect(messages.find((m) => m.startsWith('header field "code_version"'))).toBeDefined();
  });

  it('rejects a single-valued field given twice', () => {
    const problems = errors(parseSqlAssetFile('staging/orders.sql', '-- group: a\n-- group: b\nselect 1'));
    expect(problems.map((e) => e.message)).toEqual(['header field "group" is given more than once']);
  });

  it('rejects an invalid key from the path', () => {
    const problems = errors(parseSqlAssetFile('Staging/Orders.sql', 'select 1', 'defs/Staging/Orders.sql'));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('sql_key_invalid');
    expect(problems[0]?.message).toContain('invalid segment "Staging"');
    expect(problems[0]?.context.file).toBe('defs/Staging/Orders.sql');
  });

  it('collects key, header and body errors together', () => {
    const problems = errors(parseSqlAssetFile('orders.sql', '-- kind: Bad\n-- just a header'));
    expect(problems.map((e) => e.code)).toEqual(['sql_key_invalid', 'sql_header_invalid', 'sql_body_empty']);
  });
});

describe('parseSqlAssetFile body', () => {
  it('removes a trailing semicolon and trailing comments but keeps the header', () => {
    const text = '-- description: x\nselect 1 as a; -- done\n\n/* end */\n';
    expect(parsed(parseSqlAssetFile('staging/a.sql', text)).body).toBe('-- description: x\nselect 1 as a');
  });

  it('accepts SELECT-like starts', () => {
    for (const sql of ['with a as (select 1) select * from a', 'from raw.orders', 'values (1)', '(select 1)', 'SELECT 1', 'table raw.orders']) {
      expect(parseSqlAssetFile('staging/a.sql', sql).ok).toBe(true);
    }
  });

  it('does not split at semicolons inside strings, identifiers or comments', () => {
    const sql = `select ';' as a, "x;y" as b, $$;$$ as c, E'\\';' as d /* ; */ -- ;\nfrom raw.t`;
    expect(parsed(parseSqlAssetFile('staging/a.sql', sql)).body).toBe(sql);
  });

  it('rejects an empty body', () => {
    const problems = errors(parseSqlAssetFile('staging/a.sql', '-- description: nothing\n;\n', 'defs/staging/a.sql'));
    expect(problems.map((e) => [e.code, e.context.file])).toEqual([['sql_body_empty', 'defs/staging/a.sql']]);
  });

  it('rejects statements other than a query', () => {
    const problems = errors(parseSqlAssetFile('staging/a.sql', 'create table staging.a as select 1'));
    expect(problems[0]?.code).toBe('sql_not_select');
    expect(problems[0]?.message).toContain('starts with "create table staging.a as select 1"');
  });

  it('rejects two statements', () => {
    const problems = errors(parseSqlAssetFile('staging/a.sql', 'select 1;\nselect 2;'));
    expect(problems.map((e) => e.message)).toEqual(['a SQL asset must be a single SELECT query, but the file has 2 statements']);
  });
});

describe('sqlAssetDefinition', () => {
  it('builds a frozen SQL definition with merged deps', () => {
    const file = parsed(parseSqlAssetFile('staging/orders.sql', '-- deps: raw/extra\n-- materialization: view\nselect * from raw.orders;'));
    const definition = sqlAssetDefinition(file, ['raw/orders', 'raw/extra'], 'defs/staging/orders.sql');
    expect(isAssetDefinition(definition)).toBe(true);
    expect(definition.spec).toMatchObject({ key: 'staging/orders', deps: ['raw/extra', 'raw/orders'], group: 'staging', kinds: ['sql', 'duckdb'] });
    expect(definition.compute).toEqual({ type: 'sql', sql: '-- deps: raw/extra\n-- materialization: view\nselect * from raw.orders', materialization: 'view' });
    expect(definition.file).toBe('defs/staging/orders.sql');
    expect(Object.isFrozen(definition.spec)).toBe(true);
  });

  it('is sql and duckdb, plus the kinds of its header', () => {
    const file = parsed(parseSqlAssetFile('staging/orders.sql', '-- kind: dbt, duckdb\n-- kind: mart\nselect 1'));
    expect(sqlAssetDefinition(file, []).spec.kinds).toEqual(['sql', 'duckdb', 'dbt', 'mart']);
    const bad = errors(parseSqlAssetFile('staging/orders.sql', '-- kind: dbt, Not OK\nselect 1'));
    expect(bad.map((e) => e.message)).toEqual(['header field "kind": kind must be lowercase letters, digits, _ and -']);
  });
});
