/**
 * The generic tests a dbt file defines: `{% test name(model, column_name, arg=default) %} … {% endtest %}`
 * blocks, and the older form, a macro named `test_<name>`. Pure text work: the blocks, their
 * parameters and bodies, and where they are, for the loader to render each use of a test with
 * the project's Jinja context.
 */

/** A parameter of a generic test, with its default as the Jinja expression written. */
export interface GenericTestParam {
  readonly name: string;
  readonly default?: string;
}

/** One generic test definition of a file. */
export interface GenericTestBlock {
  readonly name: string;
  readonly params: readonly GenericTestParam[];
  /** The Jinja between the opening tag and `{% endtest %}` (or `{% endmacro %}`). */
  readonly body: string;
  /** 1-based line of the file the body starts on. */
  readonly bodyLine: number;
  /** `test` for a `{% test %}` block, `macro` for a `test_<name>` macro. */
  readonly form: 'test' | 'macro';
}

/** What a file's generic tests are, its text without the `{% test %}` blocks (blank lines in their place), and what is wrong. */
export interface GenericTestFile {
  readonly blocks: readonly GenericTestBlock[];
  /** The text with every `{% test %}` block replaced by as many newlines: a macro template, lines kept. */
  readonly withoutTests: string;
  /** Problems, with their 1-based line. */
  readonly problems: readonly { readonly message: string; readonly line: number }[];
}

const OPENING = /\{%-?\s*(test|macro)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The generic tests of one file's text. */
export function genericTestBlocks(text: string): GenericTestFile {
  const blocks: GenericTestBlock[] = [];
  const problems: { message: string; line: number }[] = [];
  const cuts: [number, number][] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  for (const match of text.matchAll(OPENING)) {
    const form = match[1] as 'test' | 'macro';
    const declared = match[2] as string;
    if (form === 'macro' && !declared.startsWith('test_')) continue;
    const start = match.index;
    const name = form === 'macro' ? declared.slice('test_'.length) : declared;
    const close = closingParen(text, start + match[0].length);
    const tagEnd = close === undefined ? undefined : /^\s*-?%\}/.exec(text.slice(close + 1));
    const end = new RegExp(`\\{%-?\\s*end${form}\\s*-?%\\}`, 'g');
    end.lastIndex = start;
    const ending = close === undefined || tagEnd === null || tagEnd === undefined ? null : end.exec(text);
    if (close === undefined || tagEnd === null || tagEnd === undefined || ending === null) {
      problems.push({ message: `generic test ${name}: its {% ${form} %} block is not closed by {% end${form} %}`, line: lineAt(start) });
      continue;
    }
    const params = parseParams(text.slice(start + match[0].length, close));
    if (typeof params === 'string') {
      problems.push({ message: `generic test ${name}: ${params}`, line: lineAt(start) });
      continue;
    }
    const bodyStart = close + 1 + tagEnd[0].length;
    blocks.push({ name, params, body: text.slice(bodyStart, ending.index), bodyLine: lineAt(bodyStart), form });
    if (form === 'test') cuts.push([start, ending.index + ending[0].length]);
  }
  let withoutTests = text;
  for (const [from, to] of cuts.reverse())
    withoutTests = withoutTests.slice(0, from) + '\n'.repeat(text.slice(from, to).split('\n').length - 1) + withoutTests.slice(to);
  return { blocks, withoutTests, problems };
}

/**
 * Walks `text` from `from` outside quoted strings, calling `visit` with each character, its index
 * and the bracket depth after it (`( [ {` open, `) ] }` close; `depth` before the first); stops
 * when `visit` returns true.
 */
function walkBrackets(text: string, from: number, depth: number, visit: (char: string, index: number, depth: number) => boolean): void {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const char = text[i] as string;
    if (quote !== undefined) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') depth--;
    if (visit(char, i, depth)) return;
  }
}

/** The index of the `)` closing the parenthesis opened before `from`, skipping strings and nested brackets. */
function closingParen(text: string, from: number): number | undefined {
  let closing: number | undefined;
  walkBrackets(text, from, 1, (char, index, depth) => {
    if (depth > 0) return false;
    if (char === ')') closing = index;
    return true;
  });
  return closing;
}

/** `model, column_name, values, quote=true` as parameters, or why not. */
function parseParams(signature: string): GenericTestParam[] | string {
  const params: GenericTestParam[] = [];
  for (const part of splitTopLevel(signature)) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    const name = (eq < 0 ? text : text.slice(0, eq)).trim();
    if (!IDENTIFIER.test(name)) return `"${text}" is not a parameter (name or name=default)`;
    params.push(eq < 0 ? { name } : { name, default: text.slice(eq + 1).trim() });
  }
  return params;
}

/** Splits on commas outside strings and brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  walkBrackets(text, 0, 0, (char, index, depth) => {
    if (char === ',' && depth === 0) {
      parts.push(text.slice(from, index));
      from = index + 1;
    }
    return false;
  });
  parts.push(text.slice(from));
  return parts;
}
