// Fetch helpers for the JSON API: errors become ApiError with the server's message and the
// parameter it names; POSTs send JSON and ask for a token on 401 (kept in sessionStorage).

const TOKEN_KEY = 'strata.token';

/** An API answer other than 2xx (or a network failure: status 0). */
export class ApiError extends Error {
  constructor(status, code, message, parameter = null, body = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.parameter = parameter;
    this.body = body;
  }
}

/** The URL path of an asset key under an API prefix: `/api/assets/marts/fct_sales`. */
export function keyPath(prefix, key) {
  return `${prefix}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** A query string from an object, skipping null/undefined/'' values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** GETs JSON; rejects with {@link ApiError}. `signal` aborts it. */
export async function getJson(path, { signal } = {}) {
  return request(path, { method: 'GET', headers: { Accept: 'application/json' }, signal });
}

/**
 * POSTs `body` as JSON and returns `{ status, body }`. On 401 it asks for a token once (kept
 * in sessionStorage for this tab) and retries with `Authorization: Bearer`.
 */
export async function postJson(path, body) {
  for (let attempt = 0; ; attempt++) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await request(path, { method: 'POST', headers, body: JSON.stringify(body) }, true);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || attempt > 1) throw error;
      const entered = window.prompt(token ? 'The token was refused. API token:' : 'This server needs an API token to start work. Token:');
      if (!entered) throw error;
      sessionStorage.setItem(TOKEN_KEY, entered.trim());
    }
  }
}

async function request(path, init, withStatus = false) {
  let response;
  try {
    response = await fetch(path, { ...init, credentials: 'same-origin', cache: 'no-store' });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'cannot reach the Strata server (is `assets ui` still running?)');
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body?.error;
    const message = error?.message ?? (response.status === 404 ? `not found: ${path}` : `HTTP ${response.status}`);
    throw new ApiError(response.status, error?.code ?? 'http', message, error?.parameter ?? null, body);
  }
  return withStatus ? { status: response.status, body } : body;
}

/** A message for any error, for display. */
export function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
