/**
 * Declarative automation: when the daemon should materialize an asset partition on its own.
 * A condition is a small frozen tree, built in TypeScript (`eager()`, `onCron(...)`,
 * `onMissing()`, `any(...)`, `all(...)`, `.or()`, `.and()`) or parsed from a SQL header
 * (`-- automation: on_cron('30 4 * * *', 'Europe/Paris')`), and printed back to that text.
 * Evaluating it against stored state is the daemon's job (core/engine/daemon/automation-evaluation.ts).
 */
import { cronProblem } from './cron-expression.ts';

/** The kinds of condition node. */
export type AutomationConditionType = 'eager' | 'on_missing' | 'on_cron' | 'any' | 'all';

/** Marks condition objects, so `asset()` can tell them from look-alikes. */
const AUTOMATION_CONDITION = Symbol.for('strata.automationCondition');

/**
 * One node of an automation condition. Build with {@link eager}, {@link onCron},
 * {@link onMissing}, {@link any} and {@link all}; combine with `.or()` and `.and()`.
 */
export class AutomationCondition {
  readonly type: AutomationConditionType;
  /** The cron expression of an `on_cron` node. */
  readonly cron?: string;
  /** The IANA time zone of an `on_cron` node. */
  readonly timezone?: string;
  /** The operands of an `any` / `all` node. */
  readonly conditions: readonly AutomationCondition[];

  private constructor(type: AutomationConditionType, conditions: readonly AutomationCondition[] = [], cron?: string, timezone?: string) {
    this.type = type;
    this.conditions = Object.freeze([...conditions]);
    if (cron !== undefined) this.cron = cron;
    if (timezone !== undefined) this.timezone = timezone;
    Object.defineProperty(this, AUTOMATION_CONDITION, { value: true });
    Object.freeze(this);
  }

  /** @internal Builds a node; use the factory functions. */
  static of(type: AutomationConditionType, conditions: readonly AutomationCondition[] = [], cron?: string, timezone?: string): AutomationCondition {
    return new AutomationCondition(type, conditions, cron, timezone);
  }

  /** Requests when this condition or `other` does. */
  or(other: AutomationCondition): AutomationCondition {
    return any(this, other);
  }

  /** Requests only when this condition and `other` both do. */
  and(other: AutomationCondition): AutomationCondition {
    return all(this, other);
  }

  /** Every cron node of the tree (the daemon needs their latest ticks). */
  cronNodes(): AutomationCondition[] {
    return this.type === 'on_cron' ? [this] : this.conditions.flatMap((c) => c.cronNodes());
  }

  /** What is wrong with the tree (bad cron or time zone, empty any/all), one message each. */
  problems(): string[] {
    if (this.type === 'on_cron') {
      const problem = cronProblem(this.cron ?? '', this.timezone ?? 'UTC');
      return problem ? [`on_cron: ${problem}`] : [];
    }
    if ((this.type === 'any' || this.type === 'all') && this.conditions.length === 0) return [`${this.type}() needs at least one condition`];
    return this.conditions.flatMap((c) => c.problems());
  }

  /** The SQL header text of the condition, e.g. `any(eager(), on_cron('0 5 * * *', 'UTC'))`. */
  toString(): string {
    switch (this.type) {
      case 'on_cron':
        return `on_cron(${quote(this.cron ?? '')}, ${quote(this.timezone ?? 'UTC')})`;
      case 'any':
      case 'all':
        return `${this.type}(${this.conditions.map(String).join(', ')})`;
      default:
        return `${this.type}()`;
    }
  }
}

/** True for values built by this module's factories. */
export function isAutomationCondition(value: unknown): value is AutomationCondition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[AUTOMATION_CONDITION] === true;
}

/**
 * Materialize a partition when it is missing, or when an upstream partition it reads was
 * updated since it was built (or will be, in the same tick). Waits while an upstream partition
 * is missing and not requested, or in flight.
 *
 * @example
 * asset({ key: 'features/daily', automation: eager(), ... })
 */
export function eager(): AutomationCondition {
  return AutomationCondition.of('eager');
}

/**
 * After each tick of `cron` (in `timezone`, default UTC), materialize the latest complete
 * partition once every upstream partition it reads has been updated since the tick.
 *
 * @example
 * onCron('30 4 * * *', 'Europe/Paris')
 */
export function onCron(cron: string, timezone = 'UTC'): AutomationCondition {
  return AutomationCondition.of('on_cron', [], cron, timezone);
}

/** Materialize partitions that were never materialized (once their upstream exists). */
export function onMissing(): AutomationCondition {
  return AutomationCondition.of('on_missing');
}

/** Requests when any of `conditions` does. */
export function any(...conditions: AutomationCondition[]): AutomationCondition {
  return AutomationCondition.of('any', conditions);
}

/** Requests only when every one of `conditions` does. */
export function all(...conditions: AutomationCondition[]): AutomationCondition {
  return AutomationCondition.of('all', conditions);
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Parses the text form of a condition, as written in a SQL header: `eager`, `on_missing`,
 * `on_cron('30 4 * * *', 'Europe/Paris')`, `any(a, b)`, `all(a, b)`, and `a or b`, `a and b`
 * (`and` binds tighter), with parentheses. Throws an Error saying what is wrong and where.
 *
 * @example
 * parseAutomation("eager or on_cron('0 5 * * *')").toString(); // "any(eager(), on_cron('0 5 * * *', 'UTC'))"
 */
export function parseAutomation(text: string): AutomationCondition {
  const parser = new ConditionParser(text);
  const condition = parser.expression();
  parser.end();
  const problems = condition.problems();
  if (problems.length > 0) throw new Error(`automation "${text}": ${problems.join('; ')}`);
  return condition;
}

type Token = { kind: 'word' | 'string' | '(' | ')' | ','; text: string; at: number };

class ConditionParser {
  readonly #text: string;
  readonly #tokens: Token[];
  #i = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  expression(): AutomationCondition {
    const terms = [this.#term()];
    while (this.#peekWord('or')) {
      this.#i++;
      terms.push(this.#term());
    }
    return terms.length === 1 ? (terms[0] as AutomationCondition) : any(...terms);
  }

  end(): void {
    const token = this.#tokens[this.#i];
    if (token) throw this.#error(`unexpected "${token.text}"`, token.at);
  }

  #term(): AutomationCondition {
    const factors = [this.#factor()];
    while (this.#peekWord('and')) {
      this.#i++;
      factors.push(this.#factor());
    }
    return factors.length === 1 ? (factors[0] as AutomationCondition) : all(...factors);
  }

  #factor(): AutomationCondition {
    const token = this.#next('a condition (eager, on_missing, on_cron(...), any(...), all(...))');
    if (token.kind === '(') {
      const inner = this.expression();
      this.#expect(')');
      return inner;
    }
    if (token.kind !== 'word') throw this.#error(`expected a condition, found "${token.text}"`, token.at);
    const name = token.text.toLowerCase();
    const call = this.#tokens[this.#i]?.kind === '(';
    if (call) this.#i++;
    switch (name) {
      case 'eager':
      case 'on_missing':
        if (call) this.#expect(')');
        return name === 'eager' ? eager() : onMissing();
      case 'on_cron': {
        if (!call) throw this.#error(`on_cron needs arguments: on_cron('30 4 * * *', 'Europe/Paris')`, token.at);
        const cron = this.#string('a quoted cron expression');
        let timezone = 'UTC';
        if (this.#tokens[this.#i]?.kind === ',') {
          this.#i++;
          timezone = this.#string('a quoted time zone');
        }
        this.#expect(')');
        return onCron(cron, timezone);
      }
      case 'any':
      case 'all': {
        if (!call) throw this.#error(`${name} needs arguments: ${name}(eager, on_missing)`, token.at);
        const items: AutomationCondition[] = [];
        if (this.#tokens[this.#i]?.kind !== ')') {
          items.push(this.expression());
          while (this.#tokens[this.#i]?.kind === ',') {
            this.#i++;
            items.push(this.expression());
          }
        }
        this.#expect(')');
        return name === 'any' ? any(...items) : all(...items);
      }
      default:
        throw this.#error(`unknown condition "${token.text}" (expected eager, on_missing, on_cron(...), any(...) or all(...))`, token.at);
    }
  }

  #peekWord(word: string): boolean {
    const token = this.#tokens[this.#i];
    return token?.kind === 'word' && token.text.toLowerCase() === word;
  }

  #next(what: string): Token {
    const token = this.#tokens[this.#i++];
    if (!token) throw this.#error(`expected ${what} at the end`, this.#text.length);
    return token;
  }

  #expect(kind: ')'): void {
    const token = this.#next(`"${kind}"`);
    if (token.kind !== kind) throw this.#error(`expected "${kind}", found "${token.text}"`, token.at);
  }

  #string(what: string): string {
    const token = this.#next(what);
    if (token.kind !== 'string') throw this.#error(`expected ${what}, found "${token.text}"`, token.at);
    return token.text;
  }

  #error(message: string, at: number): Error {
    return new Error(`automation "${this.#text}": ${message} at column ${at + 1}`);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at: i++ });
    } else if (c === "'" || c === '"') {
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new Error(`automation "${text}": unterminated string at column ${start + 1}`);
        if (text[i] === c && text[i + 1] === c) {
          value += c;
          i += 2;
        } else if (text[i] === c) {
          i++;
          break;
        } else value += text[i++];
      }
      tokens.push({ kind: 'string', text: value, at: start });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    } else {
      throw new Error(`automation "${text}": unexpected "${c}" at column ${i + 1}`);
    }
  }
  return tokens;
}
