/**
 * A worker thread that POSTs request bodies to one HTTP endpoint (http-post-worker.js), so that
 * a run's thread does not pay for the socket writes of its OpenLineage events. Started on the
 * first post; it keeps the process alive only while a post awaits its answer.
 */
import { Worker } from 'node:worker_threads';

/** What one POST got: the HTTP status, or why there was no answer. */
export type PostAnswer = { readonly status: number } | { readonly problem: string };

/** What {@link PostingThread} sends with. */
export interface PostingOptions {
  readonly endpoint: URL;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  readonly timeoutMs: number;
}

/** A started thread and the posts it has not answered yet. */
interface Started {
  readonly thread: Worker;
  readonly waiting: Map<number, (answer: PostAnswer) => void>;
}

/** The posting thread (see the file comment). */
export class PostingThread {
  readonly #o: PostingOptions;
  #worker: Started | undefined;
  #nextId = 0;

  constructor(options: PostingOptions) {
    this.#o = options;
  }

  /** POSTs `body`; never rejects (a thread that failed answers every post it held with the reason). */
  post(body: string): Promise<PostAnswer> {
    const { thread, waiting } = this.#started();
    const id = this.#nextId++;
    if (waiting.size === 0) thread.ref();
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      thread.postMessage({ id, body });
    });
  }

  #started(): Started {
    if (this.#worker !== undefined) return this.#worker;
    const { endpoint, apiKey, timeoutMs } = this.#o;
    const thread = new Worker(new URL('./http-post-worker.js', import.meta.url), {
      workerData: { endpoint: endpoint.href, apiKey, timeoutMs },
    });
    const worker: Started = { thread, waiting: new Map() };
    const { waiting } = worker;
    thread.unref();
    thread.on('message', ({ id, ...answer }: { id: number } & PostAnswer) => {
      const resolve = waiting.get(id);
      waiting.delete(id);
      if (waiting.size === 0) thread.unref();
      resolve?.(answer);
    });
    // A thread that failed answers what it held; the next post starts another.
    const gone = (problem: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      const held = [...waiting.values()];
      waiting.clear();
      for (const resolve of held) resolve({ problem });
    };
    thread.on('error', (error) => gone(`the posting thread failed: ${error.message}`));
    thread.on('exit', (code) => gone(`the posting thread exited (code ${code})`));
    this.#worker = worker;
    return worker;
  }
}
