/**
 * Local receivers for alert tests: an HTTP server on 127.0.0.1 recording every POSTed JSON body
 * (answering each with the next status of a script, then 200), and an SMTP server
 * (`smtp-server`) on loopback recording every message it accepts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A POST the HTTP receiver got. */
export interface ReceivedPost {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

/** The HTTP receiver. */
export interface HttpReceiver {
  /** e.g. `http://127.0.0.1:41234` */
  readonly base: string;
  readonly posts: ReceivedPost[];
  close(): Promise<void>;
}

/** Starts an HTTP receiver answering the first POSTs with `statuses` (then 200). */
export async function startHttpReceiver(statuses: readonly number[] = []): Promise<HttpReceiver> {
  const posts: ReceivedPost[] = [];
  const script = [...statuses];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      const status = script.shift() ?? 200;
      posts.push({ path: req.url ?? '/', body: JSON.parse(text) as Record<string, unknown>, status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A message the SMTP receiver accepted. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly raw: string;
}

/** The SMTP receiver. */
export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

/** Starts an SMTP server on 127.0.0.1 (no TLS, any login accepted and recorded). */
export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const logins = new Map<string, { user: string; password: string | undefined }>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, session, callback) {
      logins.set(session.id, { user: auth.username ?? '', password: auth.password ?? undefined });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        raw += chunk;
      });
      stream.on('end', () => {
        const login = logins.get(session.id);
        const from = session.envelope.mailFrom;
        mails.push({
          from: from === false ? '' : from.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: login?.user,
          password: login?.password,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
