/**
 * Renders the Jinja of dbt models with nunjucks, the Jinja-compatible template engine of
 * JavaScript. What nunjucks lacks and dbt projects use is filled in: Python's list and dict methods
 * (`.append`, `.items()`, through nunjucks' Jinja compatibility), Python's string methods
 * (`.upper()`, `.strip()`, `.split()`, `.replace()` of every occurrence, `', '.join(list)`…), the
 * `{% do %}` statement, `dict(...)`, and booleans printed as Python prints them (`True`).
 * `return()` in macros is filled in too (see dbt-macro-return.ts).
 * Where nunjucks would silently print something else than Jinja — a list, a mapping or a macro
 * not called (Jinja prints Python's repr), `NaN` from Python's `'%s' % x` string formatting (a
 * modulo in JavaScript) — and anything it does not know — an unknown tag, filter, method or
 * function, an undefined variable printed — rendering fails with the
 * line, never prints something else: a template Strata cannot render exactly is not rendered at all.
 *
 * The string methods and printing rules are installed on nunjucks' runtime (process-wide: dbt
 * models are nunjucks' only use in Strata), when nunjucks is first needed: a model without Jinja,
 * or a load whose renderings all come from the cache, does not load it.
 */
import { createRequire } from 'node:module';
import type nunjucks from 'nunjucks';
import { clearMacroFailure, installMacroReturn, lastMacroFailureLine, macroReturn, RETURN_OUTSIDE_MACRO } from './dbt-macro-return.ts';

/** The parts of nunjucks' runtime (untyped by @types/nunjucks) that printing and member lookup go through. */
interface NunjucksRuntime {
  memberLookup(this: unknown, obj: unknown, name: unknown, ...rest: unknown[]): unknown;
  suppressValue(value: unknown, autoescape: boolean): unknown;
  SafeString: new (text: string) => object;
}

/** Python's string methods, as Jinja templates call them. */
const STRING_METHODS: Readonly<Record<string, (text: string, ...args: unknown[]) => unknown>> = {
  upper: (text) => text.toUpperCase(),
  lower: (text) => text.toLowerCase(),
  strip: (text, chars) => stripChars(stripChars(text, chars, 'start'), chars, 'end'),
  lstrip: (text, chars) => stripChars(text, chars, 'start'),
  rstrip: (text, chars) => stripChars(text, chars, 'end'),
  split: (text, separator) =>
    separator === undefined || separator === null
      ? text
          .trim()
          .split(/\s+/)
          .filter((s) => s !== '')
      : text.split(String(separator)),
  replace: (text, old, replacement) => text.split(String(old)).join(String(replacement)),
  startswith: (text, prefix) => text.startsWith(String(prefix)),
  endswith: (text, suffix) => text.endsWith(String(suffix)),
  join: (text, items) => (Array.isArray(items) ? items.map(String).join(text) : String(items)),
  title: (text) => text.replace(/\w\S*/g, (word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()),
  capitalize: (text) => text.charAt(0).toUpperCase() + text.slice(1).toLowerCase(),
};

function stripChars(text: string, chars: unknown, side: 'start' | 'end'): string {
  if (chars === undefined || chars === null) return side === 'start' ? text.trimStart() : text.trimEnd();
  const set = String(chars);
  let start = 0;
  let end = text.length;
  if (side === 'start') while (start < end && set.includes(text[start] as string)) start++;
  else while (end > start && set.includes(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

let loaded: typeof nunjucks | undefined;

/** nunjucks with Jinja compatibility and Strata's fills installed on its runtime (once per process). */
function loadNunjucks(): typeof nunjucks {
  if (loaded !== undefined) return loaded;
  const engine = createRequire(import.meta.url)('nunjucks') as typeof nunjucks;
  engine.installJinjaCompat();
  const runtime = (engine as unknown as { runtime: NunjucksRuntime }).runtime;
  const compatLookup = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(this: unknown, obj: unknown, name: unknown, ...rest: unknown[]): unknown {
    // Four arguments: a slice (`text[1:]`), which Jinja compatibility handles.
    if (typeof obj === 'string' && rest.length < 2) {
      const method = STRING_METHODS[String(name)];
      return method === undefined ? undefined : (...args: unknown[]) => method(obj, ...args);
    }
    return compatLookup.call(this, obj, name, ...rest);
  };
  const compatSuppress = runtime.suppressValue;
  runtime.suppressValue = (value: unknown, autoescape: boolean): unknown => {
    if (typeof value === 'boolean') return value ? 'True' : 'False';
    if (typeof value === 'function') throw new Error('prints a macro or function without calling it, which Jinja prints as its repr: call it');
    if (typeof value === 'number' && Number.isNaN(value))
      throw new Error("prints NaN: Python's '...' % value string formatting is not supported (use ~ to join strings)");
    if (typeof value === 'object' && value !== null && !(value instanceof runtime.SafeString))
      throw new Error(`prints a ${Array.isArray(value) ? 'list' : 'mapping'}, which Jinja prints as Python's repr: print its items (| join(', '))`);
    return compatSuppress(value, autoescape);
  };
  installMacroReturn(engine, runtime, MACROS_TEMPLATE);
  loaded = engine;
  return engine;
}

/**
 * `text` as a value templates print as it is (nunjucks' safe string), with `fields` as its
 * attributes: a relation prints its name and has `.schema`, `.identifier`….
 */
export function safeText(text: string, fields: Readonly<Record<string, unknown>>): object {
  const runtime = (loadNunjucks() as unknown as { runtime: NunjucksRuntime }).runtime;
  return Object.assign(new runtime.SafeString(text), fields);
}

/** What the `{% do %}` extension uses of nunjucks' parser (it is not typed by @types/nunjucks). */
interface NunjucksParser {
  nextToken(): { value: string };
  parseSignature(tolerant: null, noParens: boolean): unknown;
  advanceAfterBlockEnd(name: string): void;
}

/** What the `{% do %}` extension uses of nunjucks' node classes. */
interface NunjucksNodes {
  CallExtension: new (extension: object, method: string, args: unknown) => unknown;
}

/** `{% do expression %}`: evaluates the expression (for its side effect) and prints nothing. */
class DoExtension implements nunjucks.Extension {
  readonly tags = ['do'];

  parse(parser: NunjucksParser, nodes: NunjucksNodes): unknown {
    const token = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(token.value);
    return new nodes.CallExtension(this, 'run', args);
  }

  run(): string {
    return '';
  }
}

/** One template source (the model, or a macro file put in front of it) and the lines it spans. */
export interface TemplatePart {
  /** The file as messages name it. */
  readonly file: string;
  readonly text: string;
}

/** Where a rendering failed and why. */
export interface RenderProblem {
  readonly message: string;
  /** `file:line` when the line is known, else the file. */
  readonly where: string;
}

/**
 * A failure of a dbt context function (`ref`, `var`, …): `needle` is text of the call, to find
 * its line (alternatives, most precise first: the first line holding one of them is named).
 */
export class DbtContextError extends Error {
  constructor(
    message: string,
    readonly needle: string | readonly string[],
  ) {
    super(message);
  }
}

/** The name the project's macro files are served under, as one template. */
const MACROS_TEMPLATE = '__dbt_macros__';

const JINJA_MARK = /\{[{%#]/;

const MACRO_NAME = /\{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;

/** A nunjucks environment serving one project's macros, the names they define, and the model templates compiled in it. */
interface MacroEnvironment {
  readonly environment: nunjucks.Environment;
  readonly names: readonly string[];
  /** Compiled model templates by their text: a project loaded again (the daemon, the UI) compiles only what changed. */
  readonly templates: Map<string, nunjucks.Template>;
}

/** One environment per set of macros (by their text): the macros are compiled once, not once per model. */
const environments = new Map<string, MacroEnvironment>();

/** Bounds of the caches, so a long-lived process whose models keep changing does not grow without end. */
const MAX_ENVIRONMENTS = 8;
const MAX_TEMPLATES = 20_000;

function environmentFor(macros: readonly TemplatePart[]): MacroEnvironment {
  // Macro files print nothing but their whitespace, which nobody sees: they are only imported.
  const source = macros.map((part) => part.text).join('\n');
  const known = environments.get(source);
  if (known !== undefined) return known;
  if (environments.size >= MAX_ENVIRONMENTS) environments.clear();
  const loader = { getSource: (name: string) => (name === MACROS_TEMPLATE ? { src: source, path: MACROS_TEMPLATE, noCache: false } : null) };
  const environment = new (loadNunjucks().Environment)(loader as unknown as nunjucks.ILoader, { autoescape: false, throwOnUndefined: true });
  environment.addExtension('do', new DoExtension());
  environment.addGlobal('dict', (...args: unknown[]) => splitKeywords(args).keywords);
  environment.addGlobal('return', macroReturn);
  const made = {
    environment,
    names: [...new Set([...source.matchAll(MACRO_NAME)].map((m) => m[1] as string))],
    templates: new Map<string, nunjucks.Template>(),
  };
  environments.set(source, made);
  return made;
}

/** The project's macros as one rendering sees them (with its context), for `adapter.dispatch`. */
export interface ProjectMacros {
  /** The project's macro `name`, callable from JavaScript (nunjucks' keyword object last), or `undefined`. */
  get(name: string): ((...args: unknown[]) => unknown) | undefined;
}

/** A rendering's context, or a function making it from the project's macros (which see that context). */
export type RenderContext = Record<string, unknown> | ((macros: ProjectMacros) => Record<string, unknown>);

/**
 * Renders `model` with the project's `macros` imported into it with its context (so they see
 * the model's `ref`, `this`, `var`…, as in dbt), or returns where and why it failed. The macros,
 * and each model's template, are compiled once per process.
 */
export function renderDbtTemplate(model: TemplatePart, macros: readonly TemplatePart[], context: RenderContext): { text: string } | RenderProblem {
  // Text without a Jinja tag, expression or comment renders as itself.
  if (!JINJA_MARK.test(model.text)) return { text: model.text };
  const { environment, names, templates } = environmentFor(macros);
  // On the model's first line, so the model's line numbers stay its own.
  const imports = names.length === 0 ? '' : `{% from "${MACROS_TEMPLATE}" import ${names.join(', ')} with context %}`;
  clearContextFailure();
  try {
    let template = templates.get(model.text);
    if (template === undefined) {
      template = new (loadNunjucks().Template)(imports + model.text, environment, undefined, true);
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      templates.set(model.text, template);
    }
    return { text: template.render(typeof context === 'function' ? withProjectMacros(context, environment, names) : context) };
  } catch (error) {
    return locate(error, model, macros);
  }
}

/** What nunjucks' templates offer (untyped by @types/nunjucks) to read a template's macros. */
interface ExportingTemplate {
  getExported(context: Record<string, unknown>, callback: (error: unknown, exported: Record<string, unknown>) => void): void;
}

/**
 * The context `make` builds, its project macros read (once, on first use) from the macros
 * template run with that same context, as the model's own import of them is.
 */
function withProjectMacros(
  make: (macros: ProjectMacros) => Record<string, unknown>,
  environment: nunjucks.Environment,
  names: readonly string[],
): Record<string, unknown> {
  const known = new Set(names);
  let exported: Record<string, unknown> | undefined;
  const context = make({
    get(name) {
      if (!known.has(name)) return undefined;
      if (exported === undefined) {
        const template = environment.getTemplate(MACROS_TEMPLATE) as unknown as ExportingTemplate;
        template.getExported(context, (error, value) => {
          if (error) throw error;
          exported = value;
        });
      }
      const macro = exported?.[name];
      return typeof macro === 'function' ? (macro as (...args: unknown[]) => unknown) : undefined;
    },
  });
  return context;
}

/** The arguments of a nunjucks call without its trailing keywords object, and the keywords. */
export function splitKeywords(args: readonly unknown[]): { positional: unknown[]; keywords: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (typeof last === 'object' && last !== null && (last as Record<string, unknown>).__keywords === true) {
    const { __keywords: _, ...keywords } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), keywords };
  }
  return { positional: [...args], keywords: {} };
}

/** A template and line nunjucks names in an error: `(path) [Line n, Column m]`. */
const LINE = /\(([^)]*)\) \[Line (\d+), Column \d+\]/g;
const UNABLE_TO_CALL = /Unable to call `([^`]+)`/;

/**
 * The file and line of a nunjucks error (in the model, or in the macros template, whose lines are
 * those of the macro files one after the other), and its message without nunjucks' wrapping.
 */
function locate(error: unknown, model: TemplatePart, macros: readonly TemplatePart[]): RenderProblem {
  const raw = error instanceof Error ? error.message : String(error);
  // An error in an imported macro is wrapped once more: every wrapping is taken off.
  let cause = raw.trim();
  for (let previous = ''; previous !== cause; ) {
    previous = cause;
    cause = cause
      .replace(/^Template render error:\s*/, '')
      .replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
      .replace(/^Error: /, '')
      .trim();
  }
  const linesOf = (parts: readonly TemplatePart[]) => parts.flatMap((part) => part.text.split('\n').map((text, index) => ({ part, index, text })));
  const modelLines = linesOf([model]);
  const macroLines = linesOf(macros);
  const needle = contextNeedle(error) ?? callNeedle(cause);
  // The model's own lines are searched first: its calls are the likelier culprits.
  let at: (typeof modelLines)[number] | undefined;
  for (const text of needle === undefined ? [] : typeof needle === 'string' ? [needle] : needle) {
    at = modelLines.find((l) => l.text.includes(text)) ?? macroLines.find((l) => l.text.includes(text));
    if (at !== undefined) break;
  }
  // An error wrapped again on its way out (after a macro import, the model runs inside the macros'
  // callback) names the line it was thrown at innermost, the caller's line outside.
  const macroLine = lastMacroFailureLine();
  if (at === undefined && macroLine !== undefined) at = macroLines[Math.max(0, Math.min(macroLine - 1, macroLines.length - 1))];
  const reported = [...raw.matchAll(LINE)].pop();
  if (at === undefined && reported) {
    const lines = reported[1] === MACROS_TEMPLATE ? macroLines : modelLines;
    at = lines[Math.max(0, Math.min(Number(reported[2]) - 1, lines.length - 1))];
  }
  const message = describe(cause);
  if (at === undefined) return { message, where: model.file };
  return { message, where: `${at.part.file}:${at.index + 1}` };
}

function contextNeedle(error: unknown): string | readonly string[] | undefined {
  // nunjucks wraps what a context function throws; the original is not kept, so its text is matched.
  return error instanceof DbtContextError ? error.needle : lastContextError?.needle;
}

/** The last context function failure (nunjucks keeps only its message). */
let lastContextError: DbtContextError | undefined;

/** Records a context function's failure before it is thrown through nunjucks, so its line can be found. */
export function contextFailure(message: string, needle: string | readonly string[]): DbtContextError {
  lastContextError = new DbtContextError(message, needle);
  return lastContextError;
}

/** Resets the recorded failure before a rendering. */
export function clearContextFailure(): void {
  lastContextError = undefined;
  clearMacroFailure();
}

function callNeedle(cause: string): string | undefined {
  if (cause === RETURN_OUTSIDE_MACRO) return 'return(';
  const filter = /filter not found: (\w+)/.exec(cause)?.[1];
  if (filter !== undefined) return filter;
  const call = UNABLE_TO_CALL.exec(cause)?.[1];
  if (call === undefined) return undefined;
  // `adapter["dispatch"]` is written `adapter.dispatch`.
  return call.replace(/\["([^"]+)"\]/g, '.$1');
}

/** A nunjucks message as a dbt user reads it. */
function describe(cause: string): string {
  const call = UNABLE_TO_CALL.exec(cause)?.[1];
  if (call !== undefined) return `unsupported Jinja: ${callNeedle(cause)}() is not available in Strata's dbt context`;
  if (/attempted to output null or undefined value/.test(cause)) return 'unsupported Jinja: prints an undefined variable or attribute';
  if (/unknown block tag: (\w+)/.test(cause)) return `unsupported Jinja: {% ${/unknown block tag: (\w+)/.exec(cause)?.[1]} %} is not supported`;
  if (/^prints /.test(cause)) return `unsupported Jinja: ${cause}`;
  if (/filter not found: (\w+)/.test(cause)) return `unsupported Jinja: filter ${/filter not found: (\w+)/.exec(cause)?.[1]} is not supported`;
  return cause;
}
