/**
 * The pure mapping of dbt nodes onto Strata: folder configs and their precedence, asset keys and
 * schemas, incremental settings, ephemeral CTEs and schema.yml tests as checks.
 */
import { describe, expect, it } from 'vitest';
import { folderConfigs, mergeModelConfig, strayFolderKeys } from '../../core/model/dbt/dbt-config.ts';
import { dbtIncrementalConfig, dbtModelKey } from '../../core/model/dbt/dbt-model-mapping.ts';
import { injectCtes } from '../../core/model/dbt/dbt-ephemeral.ts';
import { dbtModelChecks } from '../../core/model/dbt/dbt-tests.ts';

const TREE = {
  '+tags': ['all'],
  shop: {
    materialized: 'table',
    staging: { '+materialized': 'view', '+tags': 'staging', orders: { '+schema': 'raw_orders' } },
  },
};

describe('dbt configs', () => {
  it('folder configs apply outermost first; schema.yml then config() win; tags add up', () => {
    const levels = folderConfigs(TREE, 'shop', ['staging', 'orders']);
    expect(levels).toEqual([{ tags: ['all'] }, { materialized: 'table' }, { materialized: 'view', tags: 'staging' }, { schema: 'raw_orders' }]);
    const { config, problems } = mergeModelConfig([...levels, { materialized: 'table', tags: ['yml'] }, { materialized: 'incremental', unique_key: 'id' }]);
    expect(problems).toEqual([]);
    expect(config).toEqual({ materialized: 'incremental', schema: 'raw_orders', tags: ['all', 'staging', 'yml'], enabled: true, uniqueKey: ['id'] });
  });

  it('defaults to a view, as dbt does; reports unknown and unsupported configs and bad values', () => {
    expect(mergeModelConfig([]).config.materialized).toBe('view');
    expect(mergeModelConfig([{ alias: 'x', materialised: 'table', materialized: 'snapshot', enabled: 'no' }]).problems).toEqual([
      'config "alias" is not supported by Strata yet',
      'unknown config "materialised"',
      'materialized "snapshot" is not supported (use view, table, incremental or ephemeral)',
      'config "enabled" must be true or false',
    ]);
  });

  it('a folder key that is neither a config nor a model folder is reported', () => {
    const folders = new Set(['staging', 'staging/orders']);
    expect(strayFolderKeys(TREE, 'shop', (path) => folders.has(path.join('/')))).toEqual([]);
    expect(strayFolderKeys({ shop: { stagin: { '+materialized': 'view' } } }, 'shop', (path) => folders.has(path.join('/')))).toEqual(['shop.stagin']);
  });
});

describe('dbt keys and incremental settings', () => {
  it('the path under models/ is the key; a top-level model is in main; a schema config names the layer', () => {
    expect(dbtModelKey('staging/stg_orders')).toBe('staging/stg_orders');
    expect(dbtModelKey('customers')).toBe('main/customers');
    expect(dbtModelKey('marts/finance/orders')).toBe('marts/finance/orders');
    expect(dbtModelKey('marts/finance/orders', 'finance')).toBe('finance/orders');
  });

  it("dbt-duckdb's default strategies; on_schema_change ignore runs as fail; unsupported strategies are reported", () => {
    const base = mergeModelConfig([{ materialized: 'incremental' }]).config;
    expect(dbtIncrementalConfig(base).config).toEqual({ uniqueKey: [], strategy: 'append', onSchemaChange: 'fail' });
    expect(dbtIncrementalConfig({ ...base, uniqueKey: ['id'] }).config).toEqual({ uniqueKey: ['id'], strategy: 'delete+insert', onSchemaChange: 'fail' });
    expect(dbtIncrementalConfig({ ...base, uniqueKey: ['id'], incrementalStrategy: 'merge', onSchemaChange: 'append_new_columns' }).config).toMatchObject({
      strategy: 'merge',
      onSchemaChange: 'append_new_columns',
    });
    expect(dbtIncrementalConfig({ ...base, incrementalStrategy: 'insert_overwrite' }).problem).toBe(
      'incremental_strategy "insert_overwrite" is not supported (use merge, append or delete+insert)',
    );
  });
});

describe('ephemeral models as CTEs', () => {
  it('joins the query’s own WITH (after RECURSIVE), or adds one', () => {
    const cte = [['__dbt__cte__e', 'select 2 as x']] as const;
    expect(injectCtes('-- note\nwith a as (select 1) select * from a, __dbt__cte__e', cte)).toBe(
      '-- note\nwith __dbt__cte__e as (\nselect 2 as x\n),\n a as (select 1) select * from a, __dbt__cte__e',
    );
    expect(injectCtes('WITH RECURSIVE r as (select 1) select * from r', cte)).toMatch(/^WITH RECURSIVE __dbt__cte__e as \(/);
    expect(injectCtes('\nselect * from __dbt__cte__e', cte)).toBe('\nwith __dbt__cte__e as (\nselect 2 as x\n)\nselect * from __dbt__cte__e');
  });
});

describe('schema.yml tests as checks', () => {
  const resolve = (call: string) => (call === "ref('customers')" ? { key: 'main/customers' } : { problem: `${call} names no model or seed` });

  it('unique, not_null, accepted_values, relationships; severity warn does not block; where restricts the rows', () => {
    const { checks, problems } = dbtModelChecks(
      {
        columns: [
          { name: 'id', tests: ['unique', { not_null: { config: { severity: 'warn' } } }] },
          { name: 'status', data_tests: [{ accepted_values: { values: ['a', 'b'], where: 'id > 10', severity: 'ERROR' } }] },
          { name: 'customer_id', tests: [{ relationships: { to: "ref('customers')", field: 'customer_id' } }] },
        ],
      },
      resolve,
    );
    expect(problems).toEqual([]);
    expect(checks.map((c) => [c.name, c.type, c.severity, c.blocking])).toEqual([
      ['unique(id)', 'unique', 'error', true],
      ['not_null(id)', 'not_null', 'warn', false],
      ['accepted_values(status) where id > 10', 'custom_sql', 'error', true],
      ['relationships(customer_id, main/customers.customer_id)', 'relationships', 'error', true],
    ]);
    expect(checks[2]).toMatchObject({ sql: "select * from {{ this }} where (id > 10) and status not in ('a', 'b')" });
  });

  it('tests on the model need column_name (an expression makes a SQL check); config: names, disables and grades them', () => {
    const { checks, custom, problems } = dbtModelChecks(
      {
        data_tests: [
          { unique: { column_name: "a || '-' || b" } },
          { not_null: { column_name: 'a', config: { name: 'a_present', severity: 'warn' } } },
          { unique: { column_name: 'b', config: { enabled: false } } },
          { test_name: 'accepted_values', name: 'a_small', column_name: 'a', values: [1, 2], quote: false, alias: 'a_is_small' },
          'unique',
          { is_even: { column_name: 'b', config: { severity: 'warn' } } },
        ],
        columns: [{ name: 'c', data_tests: ['is_even', { is_even: { alias: 'c_even', factor: 3 } }] }],
      },
      resolve,
      { isCustom: (name) => name === 'is_even' },
    );
    expect(problems).toEqual(['test unique on the model itself needs column_name: the column (or expression) it tests']);
    expect(checks.map((c) => [c.name, c.type, c.severity])).toEqual([
      ["unique(a || '-' || b)", 'custom_sql', 'error'],
      ['a_present', 'not_null', 'warn'],
      ['a_is_small', 'accepted_values', 'error'],
    ]);
    expect(checks[0]).toMatchObject({
      sql: "select a || '-' || b from {{ this }} where (true) and a || '-' || b is not null group by a || '-' || b having count(*) > 1",
    });
    expect(custom.map((u) => [u.checkName, u.column, u.entry.config.severity, u.entry.args])).toEqual([
      ['is_even(b)', 'b', 'warn', { column_name: 'b' }],
      ['is_even(c)', 'c', undefined, {}],
      ['c_even', 'c', undefined, { factor: 3 }],
    ]);
  });

  it('unsupported tests and settings are problems, never dropped', () => {
    const { problems } = dbtModelChecks(
      {
        tests: ['dbt_utils.expression_is_true'],
        columns: [
          { name: 'id', tests: ['dbt_utils.at_least_one', { unique: { config: { limit: 10 } } }, { relationships: { to: "ref('nope')", field: 'id' } }] },
        ],
      },
      resolve,
    );
    expect(problems).toEqual([
      'test "dbt_utils.expression_is_true" comes from package dbt_utils, whose macros are not installed in dbt_packages/dbt_utils/macros (run dbt deps)',
      'column id: test "dbt_utils.at_least_one" comes from package dbt_utils, whose macros are not installed in dbt_packages/dbt_utils/macros (run dbt deps)',
      'column id: test unique: "limit" is not supported yet',
      "column id: test relationships: ref('nope') names no model or seed",
    ]);
  });
});
