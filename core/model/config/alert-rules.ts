/**
 * Alert rules: which events (`on`) about which assets (`select`) are sent where (a webhook,
 * Slack, e-mail). Written in strata.json's `"alerts"` (named by their index, `alerts[0]`) or
 * declared in a project's TypeScript modules with {@link alert} (named by their `name`). Frozen,
 * validated data: a rule with an unknown event, a URL that is not http(s), or an SMTP password
 * written into the configuration is a {@link DefinitionError} naming the rule.
 */
import { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import { parseDuration } from '../definitions/duration.ts';
import { formatZodIssues } from '../definitions/asset-spec.ts';

/** What a rule can be told about. */
export const ALERT_KINDS = ['run_failure', 'check_failure', 'check_warning', 'freshness_miss', 'daemon_error', 'backfill_done'] as const;

/** One of {@link ALERT_KINDS}. */
export type AlertKind = (typeof ALERT_KINDS)[number];

/** POSTs a JSON body to `url` (a literal http(s) URL, or `env:NAME` read when sending). */
export interface WebhookTarget {
  readonly type: 'webhook';
  readonly url: string;
}

/** Posts a message to a Slack incoming webhook whose URL is in the environment variable `urlEnv`. */
export interface SlackTarget {
  readonly type: 'slack';
  readonly urlEnv: string;
}

/** Sends an e-mail over SMTP; the password, if any, is in the environment variable `passwordEnv`. */
export interface EmailTarget {
  readonly type: 'email';
  readonly to: readonly string[];
  readonly from: string;
  readonly host: string;
  readonly port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly user?: string;
  readonly passwordEnv?: string;
}

/** Where a rule sends. */
export type AlertTarget = WebhookTarget | SlackTarget | EmailTarget;

/** A validated, frozen alert rule. */
export interface AlertRule {
  /** `alerts[0]` for the first rule of strata.json; the declared name for a TypeScript rule. */
  readonly name: string;
  readonly on: readonly AlertKind[];
  /** Asset selection in the `--select` syntax (absent: every asset, and events about none). */
  readonly select?: string;
  /** Events of one kind and asset within this many ms of the first are sent as one message (default 60 000). */
  readonly windowMs: number;
  readonly targets: readonly AlertTarget[];
  /** Where it was declared: `strata.json` or the project-relative module (set by the loader). */
  readonly file?: string;
}

/** The default grouping window: one minute. */
export const DEFAULT_ALERT_WINDOW_MS = 60_000;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const httpUrl = z.string().refine((value) => (value.startsWith('env:') ? ENV_NAME.test(value.slice(4)) : isHttpUrl(value)), {
  message: 'must be an http(s) URL or env:NAME',
});

const emailSchema = z
  .object({
    to: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    from: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(587),
    secure: z.boolean().optional(),
    user: z.string().min(1).optional(),
    passwordEnv: z.string().regex(ENV_NAME, 'must name an environment variable').optional(),
  })
  .strict();

/** The shape of one rule, in strata.json and in {@link alert}. */
const ruleSchema = z
  .object({
    on: z.array(z.enum(ALERT_KINDS, { error: (issue) => `unknown event ${JSON.stringify(issue.input)} (one of ${ALERT_KINDS.join(', ')})` })).min(1),
    select: z.string().trim().min(1, 'select must not be empty').optional(),
    window: z.union([z.number(), z.string()]).optional(),
    webhook: httpUrl.optional(),
    slack: z
      .string()
      .regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'must be env:NAME, the environment variable holding the incoming-webhook URL')
      .optional(),
    email: emailSchema.optional(),
  })
  .strict();

/** What {@link alert} accepts (and one entry of strata.json's `"alerts"`). */
export type AlertRuleOptions = z.input<typeof ruleSchema>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** How a rule is named in messages: `alerts[1] (on: run_failure, check_failure)`. */
export function describeRule(name: string, raw: unknown): string {
  const on =
    typeof raw === 'object' && raw !== null && Array.isArray((raw as { on?: unknown }).on) ? (raw as { on: unknown[] }).on.map(String).join(', ') : '?';
  return `alert rule ${name} (on: ${on})`;
}

/**
 * Validates one rule named `name` (declared in `file`); throws a {@link DefinitionError} naming
 * it. A `password` anywhere in its e-mail settings is refused: passwords come from the environment.
 */
export function parseAlertRule(raw: unknown, name: string, file?: string): AlertRule {
  const context = file === undefined ? {} : { file };
  const fail = (problem: string) => new DefinitionError('alert_invalid', `${describeRule(name, raw)}: ${problem}`, context);
  const email = (raw as { email?: unknown } | null)?.email;
  if (typeof email === 'object' && email !== null && 'password' in email) {
    throw fail('email.password: an SMTP password must not be written in the configuration; set "passwordEnv" to the environment variable that holds it');
  }
  const parsed = ruleSchema.safeParse(raw);
  if (!parsed.success) throw fail(formatZodIssues(parsed.error));
  const rule = parsed.data;
  const windowMs = rule.window === undefined ? DEFAULT_ALERT_WINDOW_MS : parseDuration(rule.window);
  if (windowMs === undefined) throw fail(`window: ${JSON.stringify(rule.window)} is not a duration (e.g. "5m", "30s")`);
  const targets: AlertTarget[] = [];
  if (rule.webhook !== undefined) targets.push(Object.freeze({ type: 'webhook', url: rule.webhook }));
  if (rule.slack !== undefined) targets.push(Object.freeze({ type: 'slack', urlEnv: rule.slack.slice(4) }));
  if (rule.email !== undefined) {
    const { to, secure, user, passwordEnv, ...rest } = rule.email;
    targets.push(
      Object.freeze({
        type: 'email',
        ...rest,
        to: Object.freeze(typeof to === 'string' ? [to] : [...to]),
        secure: secure ?? rest.port === 465,
        ...(user === undefined ? {} : { user }),
        ...(passwordEnv === undefined ? {} : { passwordEnv }),
      }),
    );
  }
  if (targets.length === 0) throw fail('no target: give "webhook", "slack" or "email"');
  return Object.freeze({
    name,
    on: Object.freeze([...new Set(rule.on)]),
    ...(rule.select === undefined ? {} : { select: rule.select }),
    windowMs,
    targets: Object.freeze(targets),
    ...context,
  });
}

/**
 * The rules of strata.json's `"alerts"` array, each named by its index; every bad rule is
 * collected (a {@link DefinitionError} each, naming `file`).
 */
export function parseConfigAlerts(raw: unknown, file: string): { readonly rules: readonly AlertRule[]; readonly errors: readonly DefinitionError[] } {
  if (raw === undefined) return { rules: [], errors: [] };
  if (!Array.isArray(raw)) return { rules: [], errors: [new DefinitionError('alert_invalid', '"alerts" must be an array of alert rules', { file })] };
  const rules: AlertRule[] = [];
  const errors: DefinitionError[] = [];
  raw.forEach((entry, index) => {
    try {
      rules.push(parseAlertRule(entry, `alerts[${index}]`, file));
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      errors.push(error);
    }
  });
  return { rules, errors };
}

/** Marks rule objects so the loader can find them among a module's exports. */
const ALERT_RULE = Symbol.for('strata.alertRule');

/**
 * Declares an alert rule in TypeScript. Export it from any module of the project.
 *
 * @example
 * export const martsFailures = alert({
 *   name: 'marts_failures',
 *   on: ['run_failure', 'check_failure'],
 *   select: 'marts/*',
 *   slack: 'env:SLACK_ALERTS_URL',
 * });
 */
export function alert(options: AlertRuleOptions & { readonly name: string }): AlertRule {
  const name = typeof options?.name === 'string' ? options.name : '?';
  const { name: _name, ...rest } = options ?? ({} as typeof options);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new DefinitionError('alert_invalid', `alert rule "${name}": alert names use letters, digits, _ . -`);
  return makeAlertRule(parseAlertRule(rest, name));
}

/** Freezes and brands a rule (the loader re-makes it with its file). */
export function makeAlertRule(rule: AlertRule, file?: string): AlertRule {
  const value = { ...rule, ...(file === undefined ? {} : { file }) };
  Object.defineProperty(value, ALERT_RULE, { value: true });
  return Object.freeze(value);
}

/** True for values produced by {@link alert}. */
export function isAlertRule(value: unknown): value is AlertRule {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ALERT_RULE] === true;
}
