/**
 * Posts OpenLineage events to `<url>/api/v1/lineage` in the background, in order, one event per
 * request as the API takes them, pipelined on one kept-alive connection: what is queued goes out
 * together, at most one batch every {@link LINGER_MS} while events keep coming, so a run's events
 * cost a wake-up per batch rather than per event. Each request has a timeout and a few retries
 * with backoff. While the endpoint does not answer (a refused connection, a timeout, HTTP 408, 429
 * or 5xx) events go to a disk outbox (see {@link EventOutbox}), and are sent again, oldest first,
 * when it answers: on the next send after a growing pause (1 s doubling to 1 min), or when the
 * next process starts. An event the endpoint refuses (another 4xx) is dropped and said once.
 * Nothing here ever throws to a caller.
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
/** While events keep coming, a batch goes out at most this often (a flush sends at once). */
const LINGER_MS = 50;
/** Events in one pipelined batch at most. */
const BATCH_SIZE = 100;
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
  /** The batch being sent. */
  #inFlight: string[] = [];
  #lastBatchAt = 0;
  /** Ends the wait before the next batch (a flush). */
  #stopLinger: (() => void) | undefined;
  #flushing = false;
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
    this.#flushing = true;
    this.#stopLinger?.();
    if (this.#pump) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#pump, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#spillTimer);
    this.#spillTimer = undefined;
    // What could not be sent in time is kept on disk for the next process (at least once).
    const rest = [...this.#inFlight, ...this.#queue.splice(0)];
    this.#flushing = false;
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
      if (this.#queue.length === 0 && !this.#onDisk) return;
      // Events on disk wait for the pause to end even when the retry timer fired a moment early.
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
      await this.#linger();
      const lines = this.#queue.splice(0, BATCH_SIZE);
      this.#inFlight = lines;
      this.#lastBatchAt = Date.now();
      const deliveries = await this.#deliver(lines);
      this.#inFlight = [];
      const unsent = lines.filter((_, i) => deliveries[i] === 'down');
      if (unsent.length > 0) {
        this.#queue.unshift(...unsent);
        this.#markDown();
      } else this.#markUp();
    }
  }

  /** Waits until {@link LINGER_MS} after the last batch, for more events to join the next one (not while flushing, nor with a full batch queued). */
  async #linger(): Promise<void> {
    const wait = this.#lastBatchAt + LINGER_MS - Date.now();
    if (wait <= 0 || this.#flushing || this.#queue.length >= BATCH_SIZE) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.#stopLinger = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#stopLinger = undefined;
  }

  /** Sends the outbox's events in order; false when the endpoint stopped answering. */
  async #drain(): Promise<boolean> {
    const files = this.#outbox.claim();
    for (const file of files) {
      const lines = this.#outbox.lines(file);
      for (let sent = 0; sent < lines.length; sent += BATCH_SIZE) {
        const batch = lines.slice(sent, sent + BATCH_SIZE);
        const deliveries = await this.#deliver(batch);
        if (deliveries.includes('down')) {
          this.#outbox.keep(file, [...batch.filter((_, i) => deliveries[i] === 'down'), ...lines.slice(sent + BATCH_SIZE)]);
          return false;
        }
      }
      this.#outbox.keep(file, []);
    }
    // Nothing claimed: what is left (if anything) is another live process's to send.
    this.#onDisk = files.length > 0 && this.#outbox.hasEvents();
    this.#markUp();
    return true;
  }

  /** Events sent together; those the endpoint did not take for want of an answer are retried with backoff. */
  async #deliver(lines: readonly string[]): Promise<Delivery[]> {
    const retries = this.#o.retries ?? 2;
    const deliveries: Delivery[] = new Array(lines.length).fill('down');
    let pending = lines.map((_, i) => i);
    for (let attempt = 0; ; attempt++) {
      const results = await this.#connection.postAll(
        pending.map((i) => lines[i] as string),
        this.#o.timeoutMs ?? 5_000,
      );
      pending.forEach((i, j) => {
        deliveries[i] = this.#deliveryOf(results[j] as number | Error);
      });
      pending = pending.filter((i) => deliveries[i] === 'down');
      if (pending.length === 0 || attempt >= retries) return deliveries;
      await new Promise((resolve) => setTimeout(resolve, (this.#o.retryDelayMs ?? 100) * 3 ** attempt));
    }
  }

  /** What one answer (or the error in its place) means for its event. */
  #deliveryOf(result: number | Error): Delivery {
    if (result instanceof Error) {
      this.#lastProblem = messageOf(result) || (result as NodeJS.ErrnoException).code || 'connection failed';
      return 'down';
    }
    if (result >= 200 && result < 300) return 'sent';
    if (result === 408 || result === 429 || result >= 500) {
      this.#lastProblem = `HTTP ${result}`;
      return 'down';
    }
    this.#say(`refused ${result}`, `OpenLineage: ${this.#endpoint.origin} refused an event with HTTP ${result}; such events are dropped`);
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
