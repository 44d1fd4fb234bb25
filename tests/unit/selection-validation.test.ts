import { describe, it, expect } from 'vitest';
import { SelectionError } from '../../core/model/errors.ts';
import { selectAssets } from '../../core/model/selection/index.ts';
import { selectionGraph } from './selection-fixture.ts';

function selectionError(text: string): SelectionError {
  try {
    selectAssets(selectionGraph, text);
  } catch (error) {
    if (error instanceof SelectionError) return error;
    throw error;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

describe('selectAssets: validation against the graph', () => {
  it('rejects an unknown asset, pointing at it and suggesting the closest key', () => {
    const error = selectionError('raw/orders or staging/ordrs+');
    // biome-ignore format: one line of the message a line, so the carets stand under the query
    expect(error.message).toBe(
      'unknown asset "staging/ordrs" at column 15 (did you mean "staging/orders"?)\n' +
        '  raw/orders or staging/ordrs+\n' +
        '                ^^^^^^^^^^^^^',
    );
    expect(error.context.position).toBe(14);
    expect(error.suggestions).toEqual(['staging/orders']);
  });

  it('suggests keys that end with a bare name', () => {
    expect(selectionError('+orders').suggestions).toEqual(['raw/orders', 'staging/orders']);
  });

  it('omits "did you mean" when nothing is close', () => {
    const error = selectionError('nothing/like_this');
    expect(error.message.split('\n')[0]).toBe('unknown asset "nothing/like_this" at column 1');
    expect(error.suggestions).toEqual([]);
  });

  it('checks quoted keys and keys inside not, roots and sinks', () => {
    expect(selectionError('key:"marts/fct_sale"').suggestions).toEqual(['marts/fct_sales']);
    expect(selectionError('not staging/ordrs').context.position).toBe(4);
    expect(selectionError('roots(group:marts and marts/dim_men)').message.split('\n')[0]).toBe(
      'unknown asset "marts/dim_men" at column 23 (did you mean "marts/dim_menu"?)',
    );
  });

  it('reports the first problem in the text', () => {
    expect(selectionError('bad/one or bad/two').message.split('\n')[0]).toBe('unknown asset "bad/one" at column 1');
  });

  it.each([
    ['group:mart', 'unknown group "mart" at column 1', ['marts']],
    ['group:staging and owner:"team:analytcs"', 'unknown owner "team:analytcs" at column 19', ['team:analytics']],
    ['kind:pyton', 'unknown kind "pyton" at column 1', ['python']],
    ['tag:tire', 'unknown tag "tire" at column 1', ['tier=gold', 'tier=silver']],
    ['tag:tier', 'tag "tier" always has a value: write tag:tier=VALUE at column 1', ['tier=gold', 'tier=silver']],
    ['tag:pi', 'unknown tag "pi" at column 1', ['pii']],
    ['tag:pii=true', 'unknown tag "pii=true" (tag "pii" is key-only on some assets: write tag:pii) at column 1', ['pii']],
    ['tag:tier=gld', 'unknown tag "tier=gld" at column 1', ['tier=gold']],
  ])('rejects %s with suggestions', (text, firstLine, suggestions) => {
    const error = selectionError(text);
    expect(error.message.split('\n')[0]).toBe(`${firstLine} (did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?)`);
    expect(error.suggestions).toEqual(suggestions);
  });

  it.each([
    ['x/*', '"x/*" matches no assets at column 1'],
    ['raw/* or +key:"*_archive"', '"*_archive" matches no assets at column 11'],
    ['group:zz*', '"group:zz*" matches no assets at column 1'],
    ['tag:tier=plat*', '"tag:tier=plat*" matches no assets at column 1'],
  ])('rejects %s because its wildcard matches nothing', (text, firstLine) => {
    const error = selectionError(text);
    expect(error.message.split('\n')[0]).toBe(firstLine);
    expect(error.suggestions).toEqual([]);
  });

  it('accepts an empty result when every leaf matches something', () => {
    expect(selectAssets(selectionGraph, 'raw/* and marts/*').keys).toEqual([]);
    expect(selectAssets(selectionGraph, 'not *').keys).toEqual([]);
  });

  it('lets syntax errors through unchanged', () => {
    expect(selectionError('marts/* and').message.split('\n')[0]).toBe('unexpected end of selection at column 12');
  });
});
