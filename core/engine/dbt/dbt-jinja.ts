/**
 * Renders the Jinja of dbt models with nunjucks, the Jinja-compatible template engine of
 * JavaScript. What nunjucks lacks and dbt projects use is filled in: Python's list and dict methods
 * (`.append`, `.items()`, through nunjucks' Jinja compatibility), the `{% do %}` statement, and
 * `dict(...)`. Anything else it does not know — an unknown tag, filter or function
 * (`adapter.dispatch`, `run_query`), an undefined variable printed — is an error with its line,
 * never an empty string: a template Strata cannot render exactly is not rendered at all.
 */
import nunjucks from 'nunjucks';

nunjucks.installJinjaCompat();

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

/** A failure of a dbt context function (`ref`, `var`, …): `needle` is text of the call, to find its line. */
export class DbtContextError extends Error {
  constructor(
    message: string,
    readonly needle: string,
  ) {
    super(message);
  }
}

const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
environment.addExtension('do', new DoExtension());
environment.addGlobal('dict', (...args: unknown[]) => {
  const keywords = args[args.length - 1];
  if (typeof keywords !== 'object' || keywords === null) return {};
  const { __keywords: _, ...rest } = keywords as Record<string, unknown>;
  return rest;
});

/**
 * Renders `model` with `macros` in front of it (so its macros see the model's context, as in
 * dbt), or returns where and why it failed.
 */
export function renderDbtTemplate(model: TemplatePart, macros: readonly TemplatePart[], context: Record<string, unknown>): { text: string } | RenderProblem {
  const parts = [...macros, model];
  // Macro files print nothing but their whitespace, which SQL ignores.
  const source = parts.map((part) => part.text).join('\n');
  clearContextFailure();
  try {
    const rendered = environment.renderString(source, context);
    return { text: rendered };
  } catch (error) {
    return locate(error, parts);
  }
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

const LINE = /\[Line (\d+), Column \d+\]/;
const UNABLE_TO_CALL = /Unable to call `([^`]+)`/;

/** The file and line of a nunjucks error in the joined source, and its message without nunjucks' wrapping. */
function locate(error: unknown, parts: readonly TemplatePart[]): RenderProblem {
  const raw = error instanceof Error ? error.message : String(error);
  const cause = raw
    .replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^Error: /, '')
    .trim();
  const lines = parts.flatMap((part) => part.text.split('\n').map((text, index) => ({ part, index, text })));
  const model = parts[parts.length - 1];
  const needle = contextNeedle(error) ?? callNeedle(cause);
  // The model's own lines are searched first: its calls are the likelier culprits.
  let at = needle === undefined ? undefined : (lines.find((l) => l.part === model && l.text.includes(needle)) ?? lines.find((l) => l.text.includes(needle)));
  const reported = LINE.exec(raw);
  if (at === undefined && reported) at = lines[Math.max(0, Math.min(Number(reported[1]) - 1, lines.length - 1))];
  const message = describe(cause);
  if (at === undefined) return { message, where: model?.file ?? '' };
  return { message, where: `${at.part.file}:${at.index + 1}` };
}

function contextNeedle(error: unknown): string | undefined {
  // nunjucks wraps what a context function throws; the original is not kept, so its text is matched.
  return error instanceof DbtContextError ? error.needle : lastContextError?.needle;
}

/** The last context function failure (nunjucks keeps only its message). */
let lastContextError: DbtContextError | undefined;

/** Records a context function's failure before it is thrown through nunjucks, so its line can be found. */
export function contextFailure(message: string, needle: string): DbtContextError {
  lastContextError = new DbtContextError(message, needle);
  return lastContextError;
}

/** Resets the recorded failure before a rendering. */
export function clearContextFailure(): void {
  lastContextError = undefined;
}

function callNeedle(cause: string): string | undefined {
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
  if (/filter not found: (\w+)/.test(cause)) return `unsupported Jinja: filter ${/filter not found: (\w+)/.exec(cause)?.[1]} is not supported`;
  return cause;
}
