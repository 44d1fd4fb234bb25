import { describe, it, expect } from 'vitest';
import { selectAssets } from '../../core/model/selection/index.ts';
import { ALL_KEYS, selectionGraph } from './selection-fixture.ts';

const select = (text: string) => selectAssets(selectionGraph, text).keys;

const RAW = ['raw/menu_items', 'raw/orders', 'raw/payments'];
const STAGING = ['staging/menu_items', 'staging/orders', 'staging/payments'];

describe('selectAssets: keys and globs', () => {
  it.each([
    ['staging/orders', ['staging/orders']],
    ['marts/*', ['marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue']],
    ['*', ALL_KEYS],
    ['*orders', ['raw/orders', 'staging/orders']],
    ['*/menu_*', ['raw/menu_items', 'staging/menu_items']],
    ['key:"marts/fct_sales"', ['marts/fct_sales']],
    ['key:marts/*', ['marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue']],
    ['key:"*_items"', ['raw/menu_items', 'staging/menu_items']],
    ['"staging/payments"', ['staging/payments']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });
});

describe('selectAssets: attributes', () => {
  it.each([
    ['group:staging', STAGING],
    ['group:ml', ['features/location_features']],
    ['group:m*', ['marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue', 'features/location_features']],
    ['group:"raw"', RAW],
    ['tag:pii', ['raw/payments', 'staging/payments']],
    ['tag:tier=gold', ['marts/fct_sales', 'marts/daily_revenue']],
    ['tag:tier=*', ['marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue']],
    ['tag:"source"="pos"', ['raw/menu_items', 'raw/orders']],
    ['owner:"team:menu"', ['raw/menu_items', 'staging/menu_items', 'marts/dim_menu']],
    ['owner:*@example.com', ['raw/orders', 'raw/payments', 'staging/orders', 'staging/payments']],
    ['kind:python', ['features/location_features']],
    ['kind:typescript', [...RAW, 'features/location_features']],
    ['kind:duckdb', [...STAGING, 'marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue']],
    ['kind:sql and kind:duckdb', [...STAGING, 'marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });
});

describe('selectAssets: traversal', () => {
  it.each([
    ['+marts/fct_sales', [...RAW, ...STAGING, 'marts/fct_sales']],
    ['1+marts/fct_sales', [...STAGING, 'marts/fct_sales']],
    ['2+marts/daily_revenue', [...STAGING, 'marts/fct_sales', 'marts/daily_revenue']],
    ['0+marts/fct_sales', ['marts/fct_sales']],
    ['staging/menu_items+', ['staging/menu_items', 'marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue', 'features/location_features']],
    ['staging/menu_items+1', ['staging/menu_items', 'marts/dim_menu', 'marts/fct_sales']],
    ['+marts/fct_sales+', [...RAW, ...STAGING, 'marts/fct_sales', 'marts/daily_revenue', 'features/location_features']],
    ['1+marts/fct_sales+1', [...STAGING, 'marts/fct_sales', 'marts/daily_revenue']],
    ['+(marts/dim_menu or raw/orders)', ['raw/menu_items', 'raw/orders', 'staging/menu_items', 'marts/dim_menu']],
    ['group:raw+1', [...RAW, ...STAGING]],
    ['+tag:tier=silver', ['raw/menu_items', 'staging/menu_items', 'marts/dim_menu']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });
});

describe('selectAssets: roots and sinks', () => {
  it.each([
    ['roots(marts/*)', ['marts/dim_menu', 'marts/fct_sales']],
    ['sinks(marts/*)', ['marts/dim_menu', 'marts/daily_revenue']],
    ['roots(*)', RAW],
    ['sinks(*)', ['marts/dim_menu', 'features/location_features']],
    ['roots(+marts/daily_revenue)', RAW],
    ['sinks(+marts/fct_sales)', ['marts/fct_sales']],
    ['sinks(+staging/orders+)', ['features/location_features']],
    ['roots(tag:tier=gold)+1', ['marts/fct_sales', 'marts/daily_revenue']],
    // A path through assets outside the subset counts: raw/orders is upstream of marts/fct_sales.
    ['roots(raw/orders or marts/fct_sales)', ['raw/orders']],
    ['sinks(raw/orders or marts/fct_sales)', ['marts/fct_sales']],
    ['roots(raw/orders or marts/dim_menu)', ['raw/orders', 'marts/dim_menu']],
    ['ROOTS(sinks(*))', ['marts/dim_menu', 'features/location_features']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });
});

describe('selectAssets: boolean operators and precedence', () => {
  it.each([
    ['not group:raw', ALL_KEYS.filter((k) => !k.startsWith('raw/'))],
    ['not not group:raw', RAW],
    ['group:marts and tag:tier=gold', ['marts/fct_sales', 'marts/daily_revenue']],
    ['raw/* or group:ml', [...RAW, 'features/location_features']],
    ['raw/orders, raw/payments', ['raw/orders', 'raw/payments']],
    ['raw/orders,staging/orders , marts/fct_sales', ['raw/orders', 'staging/orders', 'marts/fct_sales']],
    ['raw/orders or group:staging and tag:pii', ['raw/orders', 'staging/payments']],
    ['(raw/orders or group:staging) and tag:pii', ['staging/payments']],
    ['not group:raw and tag:pii', ['staging/payments']],
    ['not (group:raw and tag:pii)', ALL_KEYS.filter((k) => k !== 'raw/payments')],
    ['not +marts/fct_sales', ['marts/dim_menu', 'marts/daily_revenue', 'features/location_features']],
    ['+marts/fct_sales and not group:raw', [...STAGING, 'marts/fct_sales']],
    ['raw/orders, group:marts and tag:tier=silver', ['raw/orders', 'marts/dim_menu']],
    ['GROUP:marts AND Not tag:tier=gold', ['marts/dim_menu']],
    ['group:marts Or group:ml', ['marts/dim_menu', 'marts/fct_sales', 'marts/daily_revenue', 'features/location_features']],
    ['  + ( marts/fct_sales )\n\tand   not  group:raw ', [...STAGING, 'marts/fct_sales']],
    ['raw/* and marts/*', []],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });

  it('returns the parsed node with the keys, frozen', () => {
    const result = selectAssets(selectionGraph, 'tag:pii , group:ml');
    expect(result.node.toString()).toBe('tag:pii or group:ml');
    expect(result.keys).toEqual(['raw/payments', 'staging/payments', 'features/location_features']);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.keys)).toBe(true);
  });
});
