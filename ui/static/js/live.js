// Live updates from GET /api/events (server-sent events): `run` (a RunRecord), `run_event`
// (an EventRecord; `?run=ID` limits them to one run) and `asset` ({ key, partition }).
// One connection for the whole page; it reconnects with backoff when the server goes away
// and reports whether it is live, so pages can fall back to polling.

const TYPES = ['run', 'run_event', 'asset'];
const handlers = new Map(TYPES.map((t) => [t, new Set()]));
const connectionHandlers = new Set();
let source = null;
let runFilter = null;
let live = false;
let retryMs = 2000;
let retryTimer = null;

/** Subscribes to one event type; returns the unsubscribe function. */
export function on(type, handler) {
  handlers.get(type).add(handler);
  ensureConnected();
  return () => handlers.get(type).delete(handler);
}

/** Called with `true`/`false` whenever the connection opens or drops (and once now). */
export function onConnection(handler) {
  connectionHandlers.add(handler);
  handler(live);
  return () => connectionHandlers.delete(handler);
}

/** True while the event stream is open. */
export function isLive() {
  return live;
}

/** Limits `run_event`s to one run (or none: `null`); reconnects when it changes. */
export function setRunFilter(runId) {
  if (runFilter === runId) return;
  runFilter = runId;
  if (source) {
    close();
    connect();
  }
}

function ensureConnected() {
  if (!source && !retryTimer) connect();
}

function connect() {
  retryTimer = null;
  const url = runFilter ? `/api/events?run=${encodeURIComponent(runFilter)}` : '/api/events';
  const es = new EventSource(url);
  source = es;
  es.addEventListener('open', () => {
    retryMs = 2000;
    setLive(true);
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error, e.g. no such endpoint): try again later, slower.
      close();
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    }
    setLive(false);
  });
  for (const type of TYPES) {
    es.addEventListener(type, (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      for (const handler of [...handlers.get(type)]) {
        try {
          handler(data);
        } catch (error) {
          console.error(error);
        }
      }
    });
  }
}

function close() {
  source?.close();
  source = null;
  setLive(false);
}

function setLive(value) {
  if (live === value) return;
  live = value;
  for (const handler of [...connectionHandlers]) handler(value);
}
