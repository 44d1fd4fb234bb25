/**
 * Sending one alert message to one target: a webhook (the JSON payload), Slack (an incoming
 * webhook, its URL from the environment) or e-mail (SMTP through nodemailer, the password from
 * the environment). Each send throws an {@link AlertSendError} saying what went wrong, never
 * the URL's secret parts nor the password.
 */
import type { AlertTarget, EmailTarget } from '../../model/config/alert-rules.ts';
import { alertText, type AlertPayload } from '../../model/alerts/alert-message.ts';
import { StrataError } from '../../model/errors.ts';

/** A message that could not be delivered to one target. */
export class AlertSendError extends StrataError {
  constructor(message: string, options?: ErrorOptions) {
    super('alert_send_failed', message, {}, false, options);
  }
}

/** How long one attempt may take. */
const SEND_TIMEOUT_MS = 10_000;

/** What a send reads besides the payload. */
export interface SendEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** Ends the attempt early (the process is exiting). */
  readonly signal?: AbortSignal;
}

/** Sends `payload` to `target`; resolves once the receiver accepted it. */
export async function sendAlert(target: AlertTarget, payload: AlertPayload, env: SendEnvironment): Promise<void> {
  if (target.type === 'webhook') return postJson(resolveUrl(target.url, env.env), payload, env.signal);
  if (target.type === 'slack') {
    const url = env.env[target.urlEnv];
    if (!url) throw new AlertSendError(`Slack: the environment variable ${target.urlEnv} (the incoming-webhook URL) is not set`);
    return postJson(url, { text: alertText(payload, 'slack') }, env.signal);
  }
  return sendEmail(target, payload, env);
}

/** The URL a webhook target names (`env:NAME` read now). */
function resolveUrl(url: string, env: NodeJS.ProcessEnv): string {
  if (!url.startsWith('env:')) return url;
  const value = env[url.slice(4)];
  if (!value) throw new AlertSendError(`webhook: the environment variable ${url.slice(4)} is not set`);
  return value;
}

/** Where a URL points, without its path, query or credentials (for messages). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

async function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<void> {
  const timeout = AbortSignal.timeout(SEND_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'strata-alerts' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new AlertSendError(`POST to ${originOf(url)} failed: ${reason}`, { cause: error });
  }
  await response.body?.cancel();
  if (!response.ok) throw new AlertSendError(`POST to ${originOf(url)} answered HTTP ${response.status}`);
}

async function sendEmail(target: EmailTarget, payload: AlertPayload, env: SendEnvironment): Promise<void> {
  const pass = target.passwordEnv === undefined ? undefined : env.env[target.passwordEnv];
  if (target.passwordEnv !== undefined && !pass)
    throw new AlertSendError(`e-mail: the environment variable ${target.passwordEnv} (the SMTP password) is not set`);
  // Loaded on first e-mail: most processes never send one.
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: target.host,
    port: target.port,
    secure: target.secure,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
    ...(target.user === undefined ? {} : { auth: { user: target.user, ...(pass === undefined ? {} : { pass }) } }),
  });
  try {
    await transport.sendMail({ from: target.from, to: [...target.to], subject: `[Strata] ${payload.summary}`, text: alertText(payload, 'plain') });
  } catch (error) {
    throw new AlertSendError(`e-mail through ${target.host}:${target.port} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    transport.close();
  }
}
