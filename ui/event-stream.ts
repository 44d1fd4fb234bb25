import type { Request, Response } from 'express';
import type { EventRecord, RunRecord, Storage } from '../storage/storage.ts';
import type { LaunchListener } from '../core/engine/runs/run-launcher.ts';
import { StorageTail } from './storage-tail.ts';

/** Timing of an {@link EventStream} (tests shorten it). */
export interface EventStreamOptions {
  readonly storage: () => Promise<Storage>;
  /** Applied to every payload (the API's path redaction). */
  readonly redact: <T>(value: T) => T;
  readonly onError: (error: unknown) => void;
  /** How often storage is read for runs of other processes while a client listens (default 500 ms). */
  readonly pollMs?: number;
  /** How often a `: ping` comment keeps connections open (default 15 s). */
  readonly pingMs?: number;
}

interface Client {
  readonly res: Response;
  /** Only this run's `run_event`s. */
  readonly run: string | undefined;
}

/**
 * `GET /api/events`: Server-Sent Events about runs. `event: run` carries a RunRecord when a
 * run appears or changes status, `event: run_event` each EventRecord appended, `event: asset`
 * `{ key, partition }` when a step of an asset ended or its checks were recorded. Runs this
 * server launched are reported as their events are recorded; runs of other processes (CLI,
 * daemon) are found by reading storage every `pollMs`, only while a client is connected. The
 * running steps' `step_progress` events (never stored) come as `run_event`s too, for runs this
 * server launched only.
 *
 * @example
 * const stream = new EventStream({ storage, redact, onError });
 * app.get('/api/events', (req, res) => stream.connect(req, res, undefined));
 */
export class EventStream implements LaunchListener {
  readonly #o: EventStreamOptions;
  readonly #clients = new Set<Client>();
  readonly #tail: StorageTail;
  #pollTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #loop: object | undefined;
  #closed = false;

  constructor(options: EventStreamOptions) {
    this.#o = options;
    this.#tail = new StorageTail(
      options.storage,
      {
        run: (run) => this.#broadcast('run', run),
        runEvent: (event) => this.#broadcast('run_event', event, event.runId),
        asset: (key, partition) => this.#broadcast('asset', { key, partition }),
      },
      options.onError,
    );
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Answers `req` with an event stream; `run` limits its `run_event`s to one run. */
  connect(req: Request, res: Response, run: string | undefined): void {
    res
      .status(200)
      .set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(': connected\n\n');
    if (this.#closed) {
      res.end();
      return;
    }
    const client: Client = { res, run };
    this.#clients.add(client);
    if (this.#clients.size === 1) this.#start();
    req.on('close', () => this.#remove(client));
  }

  runQueued(run: RunRecord): void {
    this.#broadcast('run', run);
  }

  runActivity(runId: string): void {
    this.#tail.touch(runId);
  }

  liveEvent(event: EventRecord): void {
    this.#broadcast('run_event', event, event.runId);
  }

  /** Resolves once the storage reads queued so far are done (tests). */
  settled(): Promise<void> {
    return this.#tail.settled();
  }

  /** Ends every stream and stops reading storage. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail.settled();
    for (const client of [...this.#clients]) {
      client.res.end();
      this.#remove(client);
    }
    this.#stop();
  }

  #start(): void {
    this.#tail.start();
    // Each start has its own loop: a poll still running when the last client left ends it.
    const loop = {};
    this.#loop = loop;
    const poll = () => {
      void this.#tail.poll().finally(() => {
        if (this.#loop === loop) this.#pollTimer = setTimeout(poll, this.#o.pollMs ?? 500);
      });
    };
    this.#pollTimer = setTimeout(poll, this.#o.pollMs ?? 500);
    this.#pingTimer = setInterval(() => {
      for (const client of this.#clients) client.res.write(': ping\n\n');
    }, this.#o.pingMs ?? 15_000);
  }

  #stop(): void {
    clearTimeout(this.#pollTimer);
    clearInterval(this.#pingTimer);
    this.#loop = undefined;
    this.#pingTimer = undefined;
    this.#tail.stop();
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0) this.#stop();
  }

  #broadcast(name: 'run' | 'run_event' | 'asset', data: RunRecord | EventRecord | { key: string; partition: string | null }, runId?: string): void {
    if (this.#clients.size === 0) return;
    const frame = `event: ${name}\ndata: ${JSON.stringify(this.#o.redact(data))}\n\n`;
    for (const client of this.#clients) {
      if (runId !== undefined && client.run !== undefined && client.run !== runId) continue;
      client.res.write(frame);
    }
  }
}
