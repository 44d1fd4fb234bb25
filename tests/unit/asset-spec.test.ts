import { describe, expect, it } from 'vitest';
import { asset, isAssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import type { AssetDefinition, AssetOptions } from '../../core/model/definitions/asset-spec.ts';
import { keyProblem, keyToTable, qualifiedTableName, quoteIdentifier, tableToKey } from '../../core/model/definitions/asset-key.ts';
import { DefinitionError, formatLocated } from '../../core/model/errors.ts';

const noop = (): void => {};

/** Calls `asset()` and returns the DefinitionError it throws (fails the test when it does not throw). */
function assetError(options: unknown): DefinitionError {
  try {
    asset(options as AssetOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return error as DefinitionError;
  }
  throw new Error('asset() did not throw');
}

describe('asset()', () => {
  it('returns a frozen, branded definition with a frozen spec, deps and tags', () => {
    const definition = asset({ key: 'raw/orders', deps: ['raw/customers'], tags: { domain: 'sales' }, owners: ['ana@example.com'], materialize: noop });
    expect(isAssetDefinition(definition)).toBe(true);
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.spec)).toBe(true);
    expect(Object.isFrozen(definition.spec.deps)).toBe(true);
    expect(Object.isFrozen(definition.spec.tags)).toBe(true);
    expect(Object.isFrozen(definition.spec.owners)).toBe(true);
    expect(Object.isFrozen(definition.compute)).toBe(true);
    expect(() => (definition.spec.deps as string[]).push('raw/x')).toThrow(TypeError);
    expect(() => {
      (definition.spec.tags as Record<string, string>).domain = 'other';
    }).toThrow(TypeError);
    expect(definition.spec.tags).toEqual({ domain: 'sales' });
  });

  it('does not share the caller’s arrays and objects', () => {
    const deps = ['raw/customers'];
    const tags: Record<string, string> = { domain: 'sales' };
    const definition = asset({ key: 'raw/orders', deps, tags, materialize: noop });
    deps.push('raw/other');
    tags.domain = 'changed';
    expect(definition.spec.deps).toEqual(['raw/customers']);
    expect(definition.spec.tags).toEqual({ domain: 'sales' });
  });

  it('fills defaults: group is the first key segment, kinds is typescript, no deps, tags or owners', () => {
    const { spec, compute } = asset({ key: 'marts/finance/revenue', materialize: noop });
    expect(spec).toEqual({
      key: 'marts/finance/revenue',
      deps: [],
      group: 'marts',
      tags: {},
      owners: [],
      kinds: ['typescript'],
      partitionMappings: {},
      backfillPolicy: { type: 'multi_run' },
      checks: [],
    });
    expect('description' in spec).toBe(false);
    expect('codeVersion' in spec).toBe(false);
    expect(compute.type).toBe('typescript');
    expect(compute.type === 'typescript' && compute.materialize).toBe(noop);
  });

  it('keeps explicit group, kind, description, owners and code version', () => {
    const { spec } = asset({
      key: 'raw/orders',
      group: 'ingest',
      kind: 'python',
      description: 'Orders from the POS.',
      owners: ['team:data'],
      codeVersion: 'v2',
      materialize: noop,
    });
    expect(spec).toMatchObject({
      group: 'ingest',
      kinds: ['typescript', 'python'],
      description: 'Orders from the POS.',
      owners: ['team:data'],
      codeVersion: 'v2',
    });
  });

  it('adds declared kinds to typescript, in order and without repeats (kind kept for compatibility)', () => {
    expect(asset({ key: 'raw/orders', kinds: ['pandas', 'python', 'pandas'], materialize: noop }).spec.kinds).toEqual(['typescript', 'pandas', 'python']);
    expect(asset({ key: 'raw/orders', kind: 'python', kinds: ['typescript', 'pandas'], materialize: noop }).spec.kinds).toEqual([
      'typescript',
      'python',
      'pandas',
    ]);
    expect(Object.isFrozen(asset({ key: 'raw/orders', kinds: ['s3'], materialize: noop }).spec.kinds)).toBe(true);
    expect(assetError({ key: 'raw/orders', materialize: noop, kinds: ['ok', 'Not OK'] }).message).toBe(
      'kinds.1: kind must be lowercase letters, digits, _ and -',
    );
    expect(assetError({ key: 'raw/orders', materialize: noop, kinds: 'python' }).message).toContain('kinds');
  });

  it('sorts and deduplicates deps', () => {
    const { spec } = asset({ key: 'marts/sales', deps: ['staging/payments', 'raw/orders', 'staging/payments', 'raw/orders', 'marts/dim'], materialize: noop });
    expect(spec.deps).toEqual(['marts/dim', 'raw/orders', 'staging/payments']);
  });

  it('rejects a key with uppercase letters, naming the key', () => {
    const error = assetError({ key: 'Raw/Orders', materialize: noop });
    expect(error.code).toBe('asset_invalid');
    expect(error.context.assetKey).toBe('Raw/Orders');
    expect(error.message).toContain('"Raw/Orders"');
    expect(error.message).toContain('invalid segment "Raw"');
  });

  it('rejects one-segment keys such as "Orders" and "orders"', () => {
    for (const key of ['Orders', 'orders']) {
      const error = assetError({ key, materialize: noop });
      expect(error.context.assetKey).toBe(key);
      expect(error.message).toContain(`asset key "${key}" needs a layer and a name`);
      expect(formatLocated(error).startsWith(`${key}: `)).toBe(true);
    }
  });

  it('rejects a materialize that is not a function, naming the asset', () => {
    const error = assetError({ key: 'raw/orders', materialize: 'select 1' });
    expect(error.context.assetKey).toBe('raw/orders');
    expect(error.message).toBe('materialize: materialize must be a function');
    expect(formatLocated(error)).toBe('raw/orders: materialize: materialize must be a function');
  });

  it('rejects an unknown option, naming it and the asset', () => {
    const error = assetError({ key: 'raw/orders', materialize: noop, schedule: '@daily' });
    expect(error.context.assetKey).toBe('raw/orders');
    expect(error.message).toContain('"schedule"');
  });

  it('rejects a bad tag name, naming the tag path and the asset', () => {
    const error = assetError({ key: 'raw/orders', materialize: noop, tags: { 'has space': 'x' } });
    expect(error.context.assetKey).toBe('raw/orders');
    expect(error.message).toContain('tags.has space');
  });

  it('rejects invalid deps, group and kind and reports every problem at once', () => {
    const error = assetError({ key: 'raw/orders', materialize: noop, deps: ['orders'], group: 'Ingest', kind: 'Type Script' });
    expect(error.context.assetKey).toBe('raw/orders');
    expect(error.message).toContain('deps.0: asset key "orders" needs a layer and a name');
    expect(error.message).toContain('group: group must be lowercase');
    expect(error.message).toContain('kind: kind must be lowercase');
    expect(error.message.split('; ')).toHaveLength(3);
  });

  it('has no asset key in the context when the key is not a string', () => {
    const error = assetError({ key: 42, materialize: noop });
    expect(error.context.assetKey).toBeUndefined();
    expect(error.message).toMatch(/^key: /);
  });

  it('is recognised only for definitions it made', () => {
    const definition: AssetDefinition = asset({ key: 'raw/orders', materialize: noop });
    expect(isAssetDefinition({ ...definition })).toBe(false);
    expect(isAssetDefinition(null)).toBe(false);
    expect(isAssetDefinition('raw/orders')).toBe(false);
  });
});

describe('asset keys', () => {
  it('explains invalid keys and accepts valid ones', () => {
    expect(keyProblem('raw/orders')).toBeUndefined();
    expect(keyProblem('marts/finance/revenue_2')).toBeUndefined();
    expect(keyProblem('_private/x')).toBeUndefined();
    expect(keyProblem('')).toBe('asset key is empty');
    expect(keyProblem('raw/')).toContain('invalid segment ""');
    expect(keyProblem('raw//orders')).toContain('invalid segment ""');
    expect(keyProblem('raw/2orders')).toContain('invalid segment "2orders"');
    expect(keyProblem('raw/or-ders')).toContain('invalid segment "or-ders"');
  });

  it('keeps the layer _strata for the warehouse tables of Strata itself', () => {
    expect(keyProblem('_strata/commits')).toBe('asset key "_strata/commits" uses the layer "_strata", which Strata keeps for its own tables');
    expect(keyProblem('raw/_strata')).toBeUndefined();
  });

  it('maps keys to schema and table, joining deeper segments with __', () => {
    expect(keyToTable('marts/fct_sales')).toEqual({ schema: 'marts', table: 'fct_sales' });
    expect(keyToTable('marts/finance/daily_revenue')).toEqual({ schema: 'marts', table: 'finance__daily_revenue' });
  });

  it('quotes qualified table names', () => {
    expect(qualifiedTableName('marts/fct_sales')).toBe('"marts"."fct_sales"');
    expect(qualifiedTableName('marts/finance/daily_revenue')).toBe('"marts"."finance__daily_revenue"');
    expect(quoteIdentifier('we"ird')).toBe('"we""ird"');
  });

  it('maps tables back to keys, lowercasing them', () => {
    expect(tableToKey('marts', 'fct_sales')).toBe('marts/fct_sales');
    expect(tableToKey('marts', 'finance__daily_revenue')).toBe('marts/finance/daily_revenue');
    expect(tableToKey('Marts', 'Fct_Sales')).toBe('marts/fct_sales');
  });

  it('round-trips keys of two and three segments', () => {
    for (const key of ['raw/orders', 'marts/finance/daily_revenue', 'a/b/c/d']) {
      const { schema, table } = keyToTable(key);
      expect(tableToKey(schema, table)).toBe(key);
    }
  });
});
