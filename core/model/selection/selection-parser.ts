/**
 * Reads the asset selection grammar into a {@link SelectionNode} tree.
 *
 * ```text
 * selection  := or (',' or)*                  legacy comma list means "or"
 * or         := and ('or' and)*
 * and        := not ('and' not)*
 * not        := 'not' not | traversal
 * traversal  := (DIGITS? '+')? primary ('+' DIGITS?)?
 * primary    := '(' or ')' | ('roots' | 'sinks') '(' or ')' | NAME ':' value ('=' value)? | value
 *               (NAME: key, group, tag, owner, kind, path)
 * value      := WORD | "quoted string"
 * ```
 *
 * Keywords and attribute names are case-insensitive; whitespace is insignificant.
 */
import { closestKeys } from '../collections/key-compare.ts';
import { SelectionError } from '../errors.ts';
import { AndNode, AttributeNode, FunctionNode, KeyNode, NotNode, OrNode, TagNode, TraversalNode } from './selection-node.ts';
import type { AttributeName, FunctionName, SelectionNode, Span } from './selection-node.ts';
import { selectionError } from './selection-error.ts';
import { normalizeDbtPath } from './dbt-path.ts';

/** Attribute names accepted before `:`. */
export const SELECTION_ATTRIBUTES: readonly string[] = Object.freeze(['key', 'group', 'tag', 'owner', 'kind', 'path']);

/** Function names accepted before `(`. */
export const SELECTION_FUNCTIONS: readonly FunctionName[] = Object.freeze(['roots', 'sinks']);

type TokenType = 'word' | 'string' | '(' | ')' | '+' | ',' | ':' | '=' | 'end';

interface Token extends Span {
  readonly type: TokenType;
  /** The token's value: a word's text, a string's unescaped contents, a symbol itself. */
  readonly value: string;
}

const WORD_CHAR = /[A-Za-z0-9_/*.\-@]/;
const SYMBOLS = new Set(['(', ')', '+', ',', ':', '=']);
const DIGITS = /^\d+$/;

/**
 * Parses a selection string; throws a {@link SelectionError} with column and caret on bad syntax
 * or an unknown attribute or function.
 *
 * @example
 * parseSelection('+marts/fct_sales and not group:raw').toString(); // same text back
 */
export function parseSelection(text: string): SelectionNode {
  if (text.trim() === '') throw new SelectionError('the selection is empty (use "*" for every asset)', text, 0);
  return new SelectionParser(text).parse();
}

class SelectionParser {
  readonly #text: string;
  readonly #tokens: readonly Token[];
  #index = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  parse(): SelectionNode {
    const operands = [this.#parseOr()];
    while (this.#accept(',')) operands.push(this.#parseOr());
    const end = this.#peek();
    if (end.type !== 'end') throw this.#unexpected(end);
    return operands.length === 1 ? (operands[0] as SelectionNode) : new OrNode(operands);
  }

  #parseOr(): SelectionNode {
    const operands = [this.#parseAnd()];
    while (this.#acceptKeyword('or')) operands.push(this.#parseAnd());
    return operands.length === 1 ? (operands[0] as SelectionNode) : new OrNode(operands);
  }

  #parseAnd(): SelectionNode {
    const operands = [this.#parseNot()];
    while (this.#acceptKeyword('and')) operands.push(this.#parseNot());
    return operands.length === 1 ? (operands[0] as SelectionNode) : new AndNode(operands);
  }

  #parseNot(): SelectionNode {
    return this.#acceptKeyword('not') ? new NotNode(this.#parseNot()) : this.#parseTraversal();
  }

  #parseTraversal(): SelectionNode {
    let up: number | undefined;
    if (this.#peek().type === 'word' && DIGITS.test(this.#peek().value) && this.#peek(1).type === '+') {
      up = Number(this.#next().value);
      this.#next();
    } else if (this.#accept('+')) {
      up = Infinity;
    }
    const operand = this.#parsePrimary();
    let down: number | undefined;
    if (this.#accept('+')) {
      down = this.#peek().type === 'word' && DIGITS.test(this.#peek().value) ? Number(this.#next().value) : Infinity;
    }
    return up === undefined && down === undefined ? operand : new TraversalNode(operand, up, down);
  }

  #parsePrimary(): SelectionNode {
    const token = this.#peek();
    if (this.#accept('(')) {
      const inner = this.#parseOr();
      this.#expect(')');
      return inner;
    }
    if (token.type === 'string') return new KeyNode(this.#next().value, spanOf(token));
    if (token.type !== 'word' || isKeyword(token)) throw this.#unexpected(token);
    const following = this.#peek(1).type;
    if (following === '(') return this.#parseFunction();
    if (following === ':') return this.#parseAttribute();
    this.#next();
    return new KeyNode(token.value, spanOf(token));
  }

  #parseFunction(): SelectionNode {
    const token = this.#next();
    const name = token.value.toLowerCase();
    if (!(SELECTION_FUNCTIONS as readonly string[]).includes(name)) {
      throw selectionError(this.#text, token, `unknown function "${token.value}"`, closestKeys(name, SELECTION_FUNCTIONS));
    }
    this.#expect('(');
    const operand = this.#parseOr();
    this.#expect(')');
    return new FunctionNode(name as FunctionName, operand);
  }

  #parseAttribute(): SelectionNode {
    const token = this.#next();
    const attribute = token.value.toLowerCase();
    if (!SELECTION_ATTRIBUTES.includes(attribute)) {
      throw selectionError(this.#text, token, `unknown attribute "${token.value}"`, closestKeys(attribute, SELECTION_ATTRIBUTES));
    }
    this.#expect(':');
    const value = this.#value();
    const tagValue = attribute === 'tag' && this.#accept('=') ? this.#value() : undefined;
    const span = { start: token.start, end: this.#previous().end };
    if (attribute === 'key') return new KeyNode(value, span);
    if (attribute === 'tag') return new TagNode(value, tagValue, span);
    if (attribute === 'path') return new AttributeNode('path', normalizeDbtPath(value), span);
    return new AttributeNode(attribute as AttributeName, value, span);
  }

  #value(): string {
    const token = this.#peek();
    if (token.type !== 'word' && token.type !== 'string') throw this.#unexpected(token, 'a value');
    return this.#next().value;
  }

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#index + ahead, this.#tokens.length - 1)] as Token;
  }

  #previous(): Token {
    return this.#tokens[this.#index - 1] as Token;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.type !== 'end') this.#index++;
    return token;
  }

  #accept(type: TokenType): boolean {
    if (this.#peek().type !== type) return false;
    this.#next();
    return true;
  }

  #acceptKeyword(keyword: string): boolean {
    const token = this.#peek();
    if (token.type !== 'word' || token.value.toLowerCase() !== keyword) return false;
    this.#next();
    return true;
  }

  #expect(type: TokenType): void {
    if (!this.#accept(type)) throw this.#unexpected(this.#peek(), `"${type}"`);
  }

  #unexpected(token: Token, expected?: string): SelectionError {
    const found = token.type === 'end' ? 'end of selection' : `"${this.#text.slice(token.start, token.end)}"`;
    return selectionError(this.#text, token, expected ? `expected ${expected} but found ${found}` : `unexpected ${found}`);
  }
}

function spanOf(token: Token): Span {
  return { start: token.start, end: token.end };
}

function isKeyword(token: Token): boolean {
  return token.type === 'word' && ['and', 'or', 'not'].includes(token.value.toLowerCase());
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    const start = i;
    if (/\s/.test(char)) {
      i++;
    } else if (SYMBOLS.has(char)) {
      tokens.push({ type: char as TokenType, value: char, start, end: ++i });
    } else if (char === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) value += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
      if (i >= text.length) throw selectionError(text, { start, end: text.length }, 'unterminated string');
      tokens.push({ type: 'string', value, start, end: ++i });
    } else if (WORD_CHAR.test(char)) {
      while (i < text.length && WORD_CHAR.test(text[i] as string)) i++;
      tokens.push({ type: 'word', value: text.slice(start, i), start, end: i });
    } else {
      throw selectionError(text, { start, end: start + 1 }, `unexpected character "${char}"`);
    }
  }
  tokens.push({ type: 'end', value: '', start: text.length, end: text.length });
  return tokens;
}
