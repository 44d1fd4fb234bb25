/**
 * A client of the UI server's JSON API for tests that drive the real HTTP server: the server on
 * a free port, calls with the page's own Origin, an open `/api/events` stream, and a poll with a deadline.
 */
import type { Project } from '../../core/model/project.ts';
import type { Storage } from '../../storage/index.ts';
import { startApiServer, type ApiServer, type ListenOptions } from '../../ui/server.ts';

/** The UI server of `project` over `storage` on a free loopback port, its log and notices silenced; `options` add to or override that. */
export function startQuietServer(project: Project, storage: Storage, options: Partial<ListenOptions> = {}): Promise<ApiServer> {
  return startApiServer({ project, storage: async () => storage }, { port: 0, log: () => undefined, notice: () => undefined, ...options });
}

/** Calls `probe` until it returns something truthy (20 s at most). */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One request to `base` (JSON body, the page's Origin); the answer's status and parsed body. */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', origin: base, ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

/** One Server-Sent Event: its name and parsed data. */
export interface Frame {
  readonly event: string;
  readonly data: any;
}

/** An open /api/events stream, read with fetch and a stream reader. */
export async function openStream(base: string, query = '') {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/events${query}`, { signal: controller.signal });
  const frames: Frame[] = [];
  const comments: string[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) comments.push(block);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) frames.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    response,
    frames,
    comments,
    ended,
    find: (match: (f: Frame) => boolean, what: string) => waitFor(() => frames.find(match), what),
    close: () => controller.abort(),
  };
}
