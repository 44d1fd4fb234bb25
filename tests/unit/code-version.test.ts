import { describe, expect, it } from 'vitest';
import { asset, buildSpec, makeDefinition } from '../../core/model/definitions/asset-spec.ts';
import type { AssetDefinition, SqlMaterialization } from '../../core/model/definitions/asset-spec.ts';
import { parseSqlAssetFile, sqlAssetDefinition } from '../../core/model/definitions/sql-asset-file.ts';
import { codeVersionOf, normalizeSql } from '../../core/model/definitions/code-version.ts';

function sqlAsset(sql: string, options: { materialization?: SqlMaterialization; codeVersion?: string; key?: string } = {}): AssetDefinition {
  const key = options.key ?? 'staging/orders';
  const fields = { deps: [], tags: {}, owners: [], ...(options.codeVersion === undefined ? {} : { codeVersion: options.codeVersion }) };
  return makeDefinition(buildSpec(key, fields, 'sql'), { type: 'sql', sql, materialization: options.materialization ?? 'table' });
}

function sqlVersion(sql: string, materialization: SqlMaterialization = 'table'): string {
  return codeVersionOf(sqlAsset(sql, { materialization }));
}

/** The version of a SQL file as the loader sees it (header parsed, body extracted). */
function fileVersion(text: string): string {
  const parsed = parseSqlAssetFile('staging/orders.sql', text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
  return codeVersionOf(sqlAssetDefinition(parsed, []));
}

describe('codeVersionOf', () => {
  it('derives a short hex version', () => {
    expect(sqlVersion('select 1')).toMatch(/^[0-9a-f]{12}$/);
    expect(codeVersionOf(asset({ key: 'raw/orders', materialize: () => {} }))).toMatch(/^[0-9a-f]{12}$/);
  });

  it('uses an explicit code version as is, whatever the source', () => {
    expect(codeVersionOf(sqlAsset('select 1', { codeVersion: 'v7' }))).toBe('v7');
    expect(codeVersionOf(sqlAsset('select 2 from raw.other', { codeVersion: 'v7', materialization: 'view' }))).toBe('v7');
    expect(codeVersionOf(asset({ key: 'raw/orders', codeVersion: '2024-01', materialize: () => ({ rowCount: 1 }) }))).toBe('2024-01');
    expect(codeVersionOf(asset({ key: 'raw/orders', codeVersion: '2024-01', materialize: () => ({ rowCount: 2 }) }))).toBe('2024-01');
  });

  it('is stable for the same SQL', () => {
    expect(sqlVersion('select id from raw.orders')).toBe(sqlVersion('select id from raw.orders'));
  });
});

describe('SQL code versions ignore formatting', () => {
  const base = sqlVersion('select id, amount from raw.orders where amount > 0');

  it('ignores indentation, line breaks and repeated spaces', () => {
    expect(sqlVersion('select id, amount\nfrom raw.orders\nwhere amount > 0')).toBe(base);
    expect(sqlVersion('  select\n    id,\n    amount\n  from   raw.orders\n  where amount > 0\n')).toBe(base);
    expect(sqlVersion('select\tid ,amount from raw.orders where amount > 0')).toBe(base);
    expect(sqlVersion('select id,amount\r\nfrom raw.orders\r\nwhere amount > 0')).toBe(base);
  });

  it('ignores line and block comments', () => {
    expect(sqlVersion('-- orders with an amount\nselect id, amount -- the id\nfrom raw.orders /* base table */ where amount > 0')).toBe(base);
    expect(sqlVersion('/* header\n spanning lines */\nselect id, amount from raw.orders where amount > 0 -- trailing')).toBe(base);
  });

  it('ignores a trailing semicolon', () => {
    expect(sqlVersion('select id, amount from raw.orders where amount > 0;')).toBe(base);
  });

  it('ignores edits to header comments of a SQL file, including its description and tags', () => {
    const a = fileVersion('-- description: Orders.\n-- tags: domain=sales\nselect id, amount from raw.orders where amount > 0;\n');
    const b = fileVersion('-- description: Cleaned orders, one per row.\n-- owners: ana@example.com\n\nselect id, amount\nfrom raw.orders\nwhere amount > 0\n');
    expect(a).toBe(b);
    expect(a).toBe(base);
  });

  it('ignores spaces added around operators', () => {
    expect(sqlVersion('select a+b as total, x::int as n from raw.t where a>=1')).toBe(
      sqlVersion('select a + b as total, x :: int as n from raw.t where a >= 1'),
    );
  });

  it('ignores nested block comments', () => {
    expect(sqlVersion('select 1 as y /* outer /* inner */ still a comment */')).toBe(sqlVersion('select 1 as y'));
  });
});

describe('SQL code versions follow real changes', () => {
  it('changes with a different column', () => {
    expect(sqlVersion('select id, amount from raw.orders')).not.toBe(sqlVersion('select id, total from raw.orders'));
  });

  it('changes with a different table or condition', () => {
    expect(sqlVersion('select * from raw.orders')).not.toBe(sqlVersion('select * from raw.payments'));
    expect(sqlVersion('select * from raw.orders where amount > 0')).not.toBe(sqlVersion('select * from raw.orders where amount > 1'));
  });

  it('changes with a changed string literal', () => {
    expect(sqlVersion("select * from raw.orders where status = 'open'")).not.toBe(sqlVersion("select * from raw.orders where status = 'closed'"));
  });

  it('keeps whitespace and comment markers inside string literals and quoted identifiers', () => {
    expect(sqlVersion("select 'a b' as x")).not.toBe(sqlVersion("select 'a  b' as x"));
    expect(sqlVersion("select 'a\nb' as x")).not.toBe(sqlVersion("select 'a b' as x"));
    expect(sqlVersion('select 1 as "my col"')).not.toBe(sqlVersion('select 1 as "my  col"'));
    expect(sqlVersion("select '-- a' as x")).not.toBe(sqlVersion("select '-- b' as x"));
    expect(sqlVersion("select '/* a */' as x")).not.toBe(sqlVersion("select '/* b */' as x"));
    expect(sqlVersion("select 'it''s  here' as x")).not.toBe(sqlVersion("select 'it''s here' as x"));
  });

  it('keeps the content of dollar-quoted and E strings', () => {
    expect(sqlVersion('select $$--$$ || col_a as x from raw.t')).not.toBe(sqlVersion('select $$--$$ || col_b as x from raw.t'));
    expect(sqlVersion('select $$a  b$$ as x')).not.toBe(sqlVersion('select $$a b$$ as x'));
    expect(sqlVersion("select E'it\\'s  here' as x")).not.toBe(sqlVersion("select E'it\\'s here' as x"));
  });

  it('changes when the materialization changes from table to view', () => {
    expect(sqlVersion('select 1 as x', 'table')).not.toBe(sqlVersion('select 1 as x', 'view'));
    expect(fileVersion('select 1 as x')).not.toBe(fileVersion('-- materialization: view\nselect 1 as x'));
  });

  it('does not change with the asset key or spec metadata', () => {
    const a = codeVersionOf(sqlAsset('select 1 as x', { key: 'staging/a' }));
    const b = codeVersionOf(sqlAsset('select 1 as x', { key: 'staging/b' }));
    expect(a).toBe(b);
  });
});

describe('TypeScript code versions', () => {
  it('changes when the materialize function’s source changes', () => {
    const a = asset({ key: 'raw/orders', materialize: () => ({ rowCount: 1 }) });
    const b = asset({ key: 'raw/orders', materialize: () => ({ rowCount: 2 }) });
    expect(codeVersionOf(a)).not.toBe(codeVersionOf(b));
  });

  it('is the same for the same function', () => {
    const materialize = () => ({ rowCount: 1 });
    const a = asset({ key: 'raw/orders', materialize });
    const b = asset({ key: 'raw/orders', tags: { domain: 'sales' }, description: 'changed', materialize });
    expect(codeVersionOf(a)).toBe(codeVersionOf(b));
  });

  it('differs between assets sharing one function text (a factory), by key', () => {
    const factory = (key: string) => asset({ key, materialize: () => ({ rowCount: 1 }) });
    expect(codeVersionOf(factory('raw/orders'))).not.toBe(codeVersionOf(factory('raw/payments')));
  });

  it('differs from a SQL asset', () => {
    expect(codeVersionOf(asset({ key: 'staging/orders', materialize: () => {} }))).not.toBe(sqlVersion('select 1'));
  });
});

describe('normalizeSql', () => {
  it('drops comments, collapses whitespace and the trailing semicolon', () => {
    expect(normalizeSql('select  *\n  from t -- all rows\n;')).toBe('select*from t');
    expect(normalizeSql('select a ,\n b from ( select 1 ) x')).toBe('select a,b from(select 1)x');
    expect(normalizeSql("select 'a  -- b' /* c */ from t")).toBe("select'a  -- b'from t");
  });
});

describe('code versions of TypeScript assets with config, sources, and dependency versions', () => {
  const load = (file: string) => () => ({ metadata: { file } });
  const fn = load('x');

  it('counts the config: another value changes the version, another key order does not', () => {
    const version = (config: Record<string, unknown>) => codeVersionOf(asset({ key: 'raw/orders', config, materialize: fn }));
    expect(version({ file: 'orders_{date}.csv', delimiter: ',' })).toBe(version({ delimiter: ',', file: 'orders_{date}.csv' }));
    expect(version({ file: 'orders_{date}.csv', delimiter: ',' })).not.toBe(version({ file: 'orders_{date}.tsv', delimiter: ',' }));
    expect(version({ nested: { a: [1, 2] } })).not.toBe(version({ nested: { a: [2, 1] } }));
  });

  it('hands the config to materialize, frozen, and rejects config that is not JSON data', async () => {
    const definition = asset({ key: 'raw/orders', config: { file: 'a.csv' }, materialize: fn });
    expect(definition.compute.type === 'typescript' && definition.compute.config).toEqual({ file: 'a.csv' });
    expect(Object.isFrozen(definition.compute.type === 'typescript' ? definition.compute.config : undefined)).toBe(true);
    expect(() => asset({ key: 'raw/orders', config: { when: new Date() } as unknown as Record<string, unknown>, materialize: fn })).toThrow(
      /config must be plain JSON data/,
    );
  });

  it('derives a source asset version from its observe function', async () => {
    const { sourceAsset } = await import('../../core/model/definitions/source-asset.ts');
    const a = sourceAsset({ key: 'landing/a', observe: () => [] });
    const b = sourceAsset({ key: 'landing/a', observe: () => [{ dataVersion: 'x' }] });
    expect(codeVersionOf(a)).not.toBe(codeVersionOf(b));
    expect(a.spec).toMatchObject({ source: true, kinds: ['source'] });
  });

  it('has one dependency version per set of upstream keys, in any order', async () => {
    const { depsVersionOf } = await import('../../core/model/definitions/code-version.ts');
    expect(depsVersionOf(['raw/a', 'raw/b'])).toBe(depsVersionOf(['raw/b', 'raw/a']));
    expect(depsVersionOf(['raw/a'])).not.toBe(depsVersionOf(['raw/a', 'raw/b']));
    expect(depsVersionOf([])).toMatch(/^[0-9a-f]{8}$/);
  });
});
