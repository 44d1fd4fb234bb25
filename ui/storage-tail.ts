import { runEnded, type EventRecord, type RunRecord, type RunStatus, type Storage } from '../storage/storage.ts';

/** Where a {@link StorageTail} sends what changed. */
export interface TailSink {
  run(run: RunRecord): void;
  runEvent(event: EventRecord): void;
  /** A step of this asset (partition) ended or its checks were recorded. */
  asset(key: string, partition: string | null): void;
}

const ASSET_EVENTS = new Set<EventRecord['type']>(['step_success', 'step_failure', 'step_skipped', 'check_result']);
/** Newest runs looked at on every poll, besides every running one. */
const RECENT_RUNS = 20;

/**
 * Follows runs and their event logs in storage, whichever process writes them: after a
 * baseline (what exists is not news), every {@link poll} reports runs that appeared or changed
 * status and events appended since. {@link touch} looks at one run soon (the UI's own runs
 * call it on every event, so they are reported at once). Work is serialized, so nothing is
 * reported twice.
 */
export class StorageTail {
  readonly #storage: () => Promise<Storage>;
  readonly #sink: TailSink;
  readonly #onError: (error: unknown) => void;
  /** Status and last reported event id of every run followed. */
  readonly #known = new Map<string, { status: RunStatus; lastEventId: number }>();
  readonly #touched = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #generation = 0;
  #active = false;
  #flushScheduled = false;

  constructor(storage: () => Promise<Storage>, sink: TailSink, onError: (error: unknown) => void) {
    this.#storage = storage;
    this.#sink = sink;
    this.#onError = onError;
  }

  /** Starts following: what storage holds now is the baseline. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    const generation = ++this.#generation;
    this.#enqueue(generation, async (storage) => {
      for (const run of await this.#candidates(storage)) {
        const events = runEnded(run.status) ? [] : await storage.listEvents(run.id);
        this.#known.set(run.id, { status: run.status, lastEventId: events.at(-1)?.id ?? 0 });
      }
    });
  }

  /** Stops following and forgets everything (a later start takes a new baseline). */
  stop(): void {
    this.#active = false;
    this.#generation += 1;
    this.#known.clear();
    this.#touched.clear();
  }

  /** Looks at every recent or running run. */
  poll(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    return this.#enqueue(this.#generation, async (storage) => {
      const runs = await this.#candidates(storage);
      const seen = new Set(runs.map((r) => r.id));
      for (const [id, known] of this.#known) {
        if (seen.has(id)) continue;
        const run = runEnded(known.status) ? undefined : await storage.getRun(id);
        if (run) runs.push(run);
        else this.#known.delete(id);
      }
      for (const run of runs.sort((a, b) => a.createdAt - b.createdAt)) await this.#update(storage, run);
    });
  }

  /** Looks at this run soon (coalescing bursts of events into one read). */
  touch(runId: string): void {
    if (!this.#active) return;
    this.#touched.add(runId);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const ids = [...this.#touched];
      this.#touched.clear();
      void this.#enqueue(this.#generation, async (storage) => {
        for (const id of ids) {
          const run = await storage.getRun(id);
          if (run) await this.#update(storage, run);
        }
      });
    });
  }

  /** Resolves when the work queued so far is done. */
  settled(): Promise<void> {
    return this.#chain;
  }

  async #candidates(storage: Storage): Promise<RunRecord[]> {
    const [recent, running] = await Promise.all([storage.listRuns({ limit: RECENT_RUNS }), storage.listRuns({ status: 'running' })]);
    return [...new Map([...recent, ...running].map((r) => [r.id, r])).values()];
  }

  async #update(storage: Storage, run: RunRecord): Promise<void> {
    const known = this.#known.get(run.id);
    if (known && known.status === run.status && runEnded(run.status)) return;
    if (!known) this.#sink.run(run);
    const events = await storage.listEvents(run.id, known && known.lastEventId > 0 ? { afterId: known.lastEventId } : {});
    const assets = new Map<string, EventRecord>();
    for (const event of events) {
      this.#sink.runEvent(event);
      if (event.assetKey !== null && ASSET_EVENTS.has(event.type)) assets.set(`${event.assetKey}\u0000${event.partition ?? ''}`, event);
    }
    for (const event of assets.values()) this.#sink.asset(event.assetKey as string, event.partition);
    const lastEventId = events.at(-1)?.id ?? known?.lastEventId ?? 0;
    if (known && known.status !== run.status) this.#sink.run(run);
    this.#known.set(run.id, { status: run.status, lastEventId });
  }

  #enqueue(generation: number, work: (storage: Storage) => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      if (generation !== this.#generation) return;
      try {
        await work(await this.#storage());
      } catch (error) {
        this.#onError(error);
      }
    });
    return this.#chain;
  }
}
