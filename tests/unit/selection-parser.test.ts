import { describe, it, expect } from 'vitest';
import { SelectionError } from '../../core/model/errors.ts';
import {
  AndNode,
  AttributeNode,
  FunctionNode,
  KeyNode,
  NotNode,
  OrNode,
  TagNode,
  TraversalNode,
  leavesOf,
  parseSelection,
} from '../../core/model/selection/index.ts';
import { selectionGraph } from './selection-fixture.ts';

const resolved = (text: string) => selectionGraph.sortTopologically(parseSelection(text).resolve(selectionGraph));

function parseError(text: string): SelectionError {
  try {
    parseSelection(text);
  } catch (error) {
    if (error instanceof SelectionError) return error;
    throw error;
  }
  throw new Error(`expected "${text}" not to parse`);
}

describe('parseSelection: tree shape', () => {
  it('binds "and" tighter than "or"', () => {
    const node = parseSelection('a or b and c');
    expect(node).toBeInstanceOf(OrNode);
    const [a, bc] = node.operands;
    expect(a).toEqual(new KeyNode('a', { start: 0, end: 1 }));
    expect(bc).toBeInstanceOf(AndNode);
    expect(bc?.operands.map(String)).toEqual(['b', 'c']);
  });

  it('binds "not" looser than traversal', () => {
    const node = parseSelection('not +a');
    expect(node).toBeInstanceOf(NotNode);
    expect(node.operands[0]).toBeInstanceOf(TraversalNode);
  });

  it('reads traversal depths', () => {
    expect(parseSelection('2+a+1')).toMatchObject({ upstreamDepth: 2, downstreamDepth: 1 });
    expect(parseSelection('+a')).toMatchObject({ upstreamDepth: Infinity, downstreamDepth: undefined });
    expect(parseSelection('a+')).toMatchObject({ upstreamDepth: undefined, downstreamDepth: Infinity });
    expect(parseSelection('+a+3')).toMatchObject({ upstreamDepth: Infinity, downstreamDepth: 3 });
  });

  it('reads a top-level comma list as "or"', () => {
    const node = parseSelection('a, b ,c');
    expect(node).toBeInstanceOf(OrNode);
    expect(node.operands.map(String)).toEqual(['a', 'b', 'c']);
  });

  it('reads attributes, tags and functions with their spans', () => {
    expect(parseSelection('key:"marts/fct_sales"')).toEqual(new KeyNode('marts/fct_sales', { start: 0, end: 21 }));
    expect(parseSelection(' Group:marts')).toEqual(new AttributeNode('group', 'marts', { start: 1, end: 12 }));
    expect(parseSelection('tag:tier = "gold"')).toEqual(new TagNode('tier', 'gold', { start: 0, end: 17 }));
    expect(parseSelection('tag:pii')).toEqual(new TagNode('pii', undefined, { start: 0, end: 7 }));
    const roots = parseSelection('roots(owner:x)');
    expect(roots).toBeInstanceOf(FunctionNode);
    expect(roots).toMatchObject({ name: 'roots' });
    expect(leavesOf(roots)).toEqual([new AttributeNode('owner', 'x', { start: 6, end: 13 })]);
  });

  it('treats keywords as keys only when quoted, and roots/sinks as keys without "("', () => {
    expect(parseSelection('key:"and"')).toEqual(new KeyNode('and', { start: 0, end: 9 }));
    expect(parseSelection('roots')).toEqual(new KeyNode('roots', { start: 0, end: 5 }));
  });

  it('builds frozen nodes', () => {
    const node = parseSelection('+(a and not b)');
    for (const n of [node, ...node.operands, ...(node.operands[0]?.operands ?? [])]) {
      expect(Object.isFrozen(n)).toBe(true);
      expect(Object.isFrozen(n.operands)).toBe(true);
    }
  });

  it('lists leaves in the order they were written', () => {
    expect(leavesOf(parseSelection('roots(a or group:b) and not tag:c=d+')).map(String)).toEqual(['a', 'group:b', 'tag:c=d']);
  });
});

describe('printing', () => {
  it.each([
    ['a or b and c', 'a or b and c'],
    ['(a or b) and c', '(a or b) and c'],
    ['a or (b or c)', 'a or (b or c)'],
    ['a and (b and c)', 'a and (b and c)'],
    ['A AND not B', 'A and not B'],
    ['not (a or b)', 'not (a or b)'],
    ['not not a', 'not not a'],
    ['+(a and b)+2', '+(a and b)+2'],
    ['+(+a)', '+(+a)'],
    ['+(not a)', '+(not a)'],
    ['2 + a + 1', '2+a+1'],
    ['a,b', 'a or b'],
    ['key:"weird key"', 'key:"weird key"'],
    ['key:marts/*', 'marts/*'],
    ['"staging/orders"', 'staging/orders'],
    ['key:"2"', 'key:2'],
    ['key:"OR"', 'key:OR'],
    ['owner:"team:menu"', 'owner:"team:menu"'],
    ['owner:"say \\"hi\\""', 'owner:"say \\"hi\\""'],
    ['TAG:"tier"="gold"', 'tag:tier=gold'],
    ['tag:"a b"="c=d"', 'tag:"a b"="c=d"'],
    ['roots( sinks(group:marts) )', 'roots(sinks(group:marts))'],
    ['sinks(a or b)+', 'sinks(a or b)+'],
  ])('%s prints as %s', (text, printed) => {
    expect(parseSelection(text).toString()).toBe(printed);
  });

  it('prints trees built in code with the parentheses they need', () => {
    const tree = new AndNode([
      new OrNode([new KeyNode('raw/*'), new AttributeNode('group', 'ml')]),
      new NotNode(new TraversalNode(new TagNode('tier', 'gold'), 1, undefined)),
      new FunctionNode('sinks', new KeyNode('with space')),
    ]);
    expect(tree.toString()).toBe('(raw/* or group:ml) and not 1+tag:tier=gold and sinks(key:"with space")');
  });

  it.each([
    '+marts/fct_sales and not group:raw',
    'raw/orders or group:staging and tag:pii',
    '(raw/orders or group:staging) and tag:pii',
    'not (group:raw and tag:pii)',
    'roots(+marts/daily_revenue), sinks(marts/*)',
    '1+marts/fct_sales+1 or owner:"team:menu"',
    'key:"*_items" and kind:typescript+',
    'GROUP:m* AND NOT tag:tier=gold',
    '+(marts/dim_menu or raw/orders)',
  ])('round-trips %s', (text) => {
    const printed = parseSelection(text).toString();
    const reparsed = parseSelection(printed);
    expect(reparsed.toString()).toBe(printed);
    expect(resolved(printed)).toEqual(resolved(text));
    expect(resolved(text).length).toBeGreaterThan(0);
  });
});

describe('syntax errors', () => {
  it.each([
    ['marts/* and', 'unexpected end of selection at column 12', 11],
    ['(a', 'expected ")" but found end of selection at column 3', 2],
    ['+', 'unexpected end of selection at column 2', 1],
    ['roots(', 'unexpected end of selection at column 7', 6],
    ['roots(a', 'expected ")" but found end of selection at column 8', 7],
    ['a or b)', 'unexpected ")" at column 7', 6],
    ['a b', 'unexpected "b" at column 3', 2],
    ['and a', 'unexpected "and" at column 1', 0],
    ['a or or b', 'unexpected "or" at column 6', 5],
    ['', 'the selection is empty (use "*" for every asset)', 0],
    ['group:', 'expected a value but found end of selection at column 7', 6],
    ['group:x=y', 'unexpected "=" at column 8', 7],
    ['(a, b)', 'expected ")" but found "," at column 3', 2],
    ['a++', 'unexpected "+" at column 3', 2],
    ['"abc', 'unterminated string at column 1', 0],
    ['a & b', 'unexpected character "&" at column 3', 2],
  ])('%j', (text, message, position) => {
    const error = parseError(text);
    expect(error.message.split('\n')[0]).toBe(message);
    expect(error.context.position).toBe(position);
    expect(error.selection).toBe(text);
    expect(error.code).toBe('selection_invalid');
  });

  it('shows the selection with a caret under the error', () => {
    expect(parseError('a or (b and ))').message).toBe('unexpected ")" at column 13\n  a or (b and ))\n              ^');
  });

  it('suggests the attribute meant', () => {
    const error = parseError('grp:marts');
    expect(error.message).toBe('unknown attribute "grp" at column 1 (did you mean "group"?)\n  grp:marts\n  ^^^');
    expect(error.suggestions).toEqual(['group']);
  });

  it('suggests the function meant', () => {
    const error = parseError('a or rots(b)');
    expect(error.message.split('\n')[0]).toBe('unknown function "rots" at column 6 (did you mean "roots"?)');
    expect(error.suggestions).toEqual(['roots']);
  });
});
