/**
 * Posts OpenLineage events to `<url>/api/v1/lineage`, one by one in order, in the background:
 * each with a timeout and a few retries with backoff. While the endpoint does not answer
 * (a refused connection, a timeout, HTTP 408, 429 or 5xx) events go to a disk outbox
 * (see {@link EventOutbox}), and are sent again, oldest first, when it answers: on the next send
 * after a growing pause (1 s doubling to 1 min), or when the next process starts. An event the
 * endpoint refuses (another 4xx) is dropped and said once. Nothing here ever throws to a caller.
 */
import { OPENLINEAGE_LINEAGE_PATH } from '../../core/model/config/openlineage-settings.ts';
import type { JsonObject } from '../../core/model/openlineage/openlineage-run-event.ts';
import { EventOutbox } from './event-outbox.ts';
import { HttpPostConnection } from './http-post-connection.ts';
import type { OpenLineageTransport } from './openlineage-transport.ts';

/** How {@link HttpTransport} sends. */
export interface HttpTransportOptions {
  /** The base URL (events go to `<url>/api/v1/lineage`). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  readonly outboxDir: string;
  readonly notice: (message: string) => void;
  /** One request's timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Retries of a failed request before the endpoint counts as down (default 2). */
  readonly retries?: number;
  /** The first retry's delay, tripled for each next one (default 100 ms). */
  readonly retryDelayMs?: number;
}

/** What one delivery attempt gave. */
type Delivery = 'sent' | 'down' | 'refused';

const FIRST_PAUSE_MS = 1_000;
/** While the endpoint is down, how often queued events are written to the outbox. */
const SPILL_EVERY_MS = 200;
const LONGEST_PAUSE_MS = 60_000;

/** The HTTP transport (see the file comment). */
export class HttpTransport implements OpenLineageTransport {
  readonly #o: HttpTransportOptions;
  readonly #endpoint: URL;
  readonly #connection: HttpPostConnection;
  readonly #outbox: EventOutbox;
  #queue: string[] = [];
  #inFlight: string | undefined;
  #pump: Promise<void> | undefined;
  /** Events wait in the outbox: new ones go after them. */
  #onDisk: boolean;
  #downUntil = 0;
  #pauseMs = FIRST_PAUSE_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #spillTimer: NodeJS.Timeout | undefined;
  #lastProblem = '';
  readonly #said = new Set<string>();

  constructor(options: HttpTransportOptions) {
    this.#o = options;
    this.#endpoint = new URL(`${options.url.replace(/\/+$/, '')}${OPENLINEAGE_LINEAGE_PATH}`);
    this.#connection = new HttpPostConnection(this.#endpoint, {
      headers: {
        'Content-Type': 'application/json',
        ...(options.apiKey === undefined ? {} : { Authorization: `Bearer ${options.apiKey}` }),
      },
    });
    this.#outbox = new EventOutbox(options.outboxDir);
    // Events an earlier process kept are sent as this one starts.
    this.#onDisk = this.#outbox.hasEvents();
    if (this.#onDisk) this.#start();
  }

  emit(event: JsonObject): void {
    this.#queue.push(`${JSON.stringify(event)}\n`);
    // While the endpoint is down, events go to disk together every so often, not one write each.
    if (Date.now() < this.#downUntil) this.#spillSoon();
    else this.#start();
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this.#pump) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#pump, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#spillTimer);
    this.#spillTimer = undefined;
    // What could not be sent in time is kept on disk for the next process (at least once).
    const rest = [...(this.#inFlight === undefined ? [] : [this.#inFlight]), ...this.#queue.splice(0)];
    try {
      this.#outbox.appendNow(rest);
    } catch (error) {
      this.#say('write', `OpenLineage: ${rest.length} event(s) could not be kept in ${this.#o.outboxDir}: ${messageOf(error)}`);
    }
  }

  #start(): void {
    this.#pump ??= this.#run()
      .catch((error: unknown) => this.#say('pump', `OpenLineage: events could not be sent or kept: ${messageOf(error)}`))
      .finally(() => {
        this.#pump = undefined;
        if (this.#queue.length > 0) this.#start();
      });
  }

  async #run(): Promise<void> {
    for (;;) {
      const down = Date.now() < this.#downUntil;
      if (this.#queue.length === 0 && !(this.#onDisk && !down)) return;
      if (this.#onDisk || down) {
        const lines = this.#queue.splice(0);
        if (lines.length > 0) {
          await this.#outbox.append(lines);
          this.#onDisk = true;
        }
        if (down) return this.#retryLater();
        if (!(await this.#drain())) this.#markDown();
        continue;
      }
      const line = this.#queue.shift() as string;
      this.#inFlight = line;
      const delivery = await this.#deliver(line);
      this.#inFlight = undefined;
      if (delivery === 'down') {
        this.#queue.unshift(line);
        this.#markDown();
      } else this.#markUp();
    }
  }

  /** Sends the outbox's events in order; false when the endpoint stopped answering. */
  async #drain(): Promise<boolean> {
    const files = this.#outbox.claim();
    for (const file of files) {
      const lines = this.#outbox.lines(file);
      let sent = 0;
      for (const line of lines) {
        if ((await this.#deliver(line)) === 'down') {
          this.#outbox.keep(file, lines.slice(sent));
          return false;
        }
        sent++;
      }
      this.#outbox.keep(file, []);
    }
    // Nothing claimed: what is left (if anything) is another live process's to send.
    this.#onDisk = files.length > 0 && this.#outbox.hasEvents();
    this.#markUp();
    return true;
  }

  /** One event, retried with backoff while the endpoint does not answer. */
  async #deliver(line: string): Promise<Delivery> {
    const retries = this.#o.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      const delivery = await this.#post(line);
      if (delivery !== 'down' || attempt >= retries) return delivery;
      await new Promise((resolve) => setTimeout(resolve, (this.#o.retryDelayMs ?? 100) * 3 ** attempt));
    }
  }

  async #post(body: string): Promise<Delivery> {
    let status: number;
    try {
      status = await this.#connection.post(body, this.#o.timeoutMs ?? 5_000);
    } catch (error) {
      this.#lastProblem = messageOf(error) || (error as NodeJS.ErrnoException).code || 'connection failed';
      return 'down';
    }
    if (status >= 200 && status < 300) return 'sent';
    if (status === 408 || status === 429 || status >= 500) {
      this.#lastProblem = `HTTP ${status}`;
      return 'down';
    }
    this.#say(`refused ${status}`, `OpenLineage: ${this.#endpoint.origin} refused an event with HTTP ${status}; such events are dropped`);
    return 'refused';
  }

  #markDown(): void {
    this.#downUntil = Date.now() + this.#pauseMs;
    this.#pauseMs = Math.min(this.#pauseMs * 2, LONGEST_PAUSE_MS);
    this.#say(
      'down',
      `OpenLineage: ${this.#endpoint.origin} does not answer (${this.#lastProblem}): events are kept in ${this.#o.outboxDir} and sent when it answers again`,
    );
  }

  #markUp(): void {
    this.#downUntil = 0;
    this.#pauseMs = FIRST_PAUSE_MS;
  }

  /** Writes the queued events to the outbox in a moment, with those that come meanwhile (unref'd). */
  #spillSoon(): void {
    this.#spillTimer ??= setTimeout(() => {
      this.#spillTimer = undefined;
      this.#start();
    }, SPILL_EVERY_MS).unref();
  }

  /** Tries the outbox again once the pause is over (unref'd: it never keeps the process alive). */
  #retryLater(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#start(), Math.max(0, this.#downUntil - Date.now())).unref();
  }

  #say(kind: string, message: string): void {
    if (this.#said.has(kind)) return;
    this.#said.add(kind);
    this.#o.notice(message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
