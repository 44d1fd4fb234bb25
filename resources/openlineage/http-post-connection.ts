/**
 * One kept-alive HTTP/1.1 connection that POSTs bodies to one URL, a request at a time, and
 * resolves each response's status. It does what `node:http` with a keep-alive agent does for
 * this one job with far less work per request: the request goes out in one write, and the
 * response's head is read for its status, length and `Connection` header alone (its body,
 * sized by `Content-Length`, chunks or the end of the connection, is skipped). OpenLineage sends
 * two small events per step, so this is on every step's path.
 *
 * A connection that was used before and fails before any byte of the answer (the server closed
 * it while idle) is opened again and the request sent once more. An idle connection does not
 * keep the process alive.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** How a {@link HttpPostConnection} connects and what it sends with every request. */
export interface HttpPostConnectionOptions {
  /** Headers sent with every request besides `Host`, `Content-Length` and `Connection`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** TLS options for `https:` URLs (for example `ca`), added to the host's name. */
  readonly tls?: ConnectionOptions;
}

/** Where a response being read is. */
type ReadState =
  | { readonly part: 'head' }
  | { readonly part: 'length'; left: number }
  | { readonly part: 'chunks'; left: number; trailers: boolean }
  | { readonly part: 'until-close' };

/** The request in flight. */
interface InFlight {
  readonly resolve: (status: number) => void;
  readonly reject: (error: Error) => void;
  readonly body: string;
  /** The socket had answered a request before this one. */
  readonly reused: boolean;
  /** Bytes of this request's answer have come. */
  answered: boolean;
  status: number;
  close: boolean;
  state: ReadState;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');
/** A response head longer than this is not an HTTP server's answer to a POST. */
const LONGEST_HEAD = 64 * 1024;

/** The kept-alive POST connection (see the file comment). */
export class HttpPostConnection {
  readonly #url: URL;
  readonly #options: HttpPostConnectionOptions;
  /** The request head up to the body's length. */
  readonly #head: string;
  #socket: Socket | undefined;
  #served = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #inFlight: InFlight | undefined;

  constructor(url: URL, options: HttpPostConnectionOptions = {}) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${url.href}`);
    this.#url = url;
    this.#options = options;
    const headers = Object.entries(options.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    this.#head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${headers}Content-Length: `;
  }

  /**
   * Sends `body` and resolves the response's status; rejects when the connection fails or no
   * whole answer comes within `timeoutMs`. One request at a time: a call while one is in flight
   * rejects.
   */
  post(body: string, timeoutMs: number): Promise<number> {
    if (this.#inFlight !== undefined) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done =
        <T>(settle: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          settle(value);
        };
      this.#send(body, done(resolve), done(reject));
      timer = setTimeout(() => this.#fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  /** Closes the connection; a request in flight fails. */
  close(): void {
    this.#fail(new Error('the connection was closed'));
  }

  #send(body: string, resolve: (status: number) => void, reject: (error: Error) => void): void {
    const socket = this.#socket ?? this.#open();
    this.#inFlight = { resolve, reject, body, reused: this.#served > 0, answered: false, status: 0, close: false, state: { part: 'head' } };
    socket.ref();
    socket.write(`${this.#head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  #open(): Socket {
    const port = Number(this.#url.port) || (this.#url.protocol === 'https:' ? 443 : 80);
    // Brackets of an IPv6 literal are not part of the address to connect to.
    const host = this.#url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = this.#url.protocol === 'https:' ? tlsConnect({ ...this.#options.tls, host, port, servername: host }) : netConnect({ host, port });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#served = 0;
    this.#buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#read(chunk);
    });
    socket.on('error', (error) => {
      if (this.#socket === socket) this.#lost(error);
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#lost(new Error('the server closed the connection'));
    });
    return socket;
  }

  /** The socket ended or failed: the request in flight is sent again on a new one when that is safe, else fails. */
  #lost(error: Error): void {
    const request = this.#inFlight;
    if (request?.state.part === 'until-close') {
      this.#finish();
      return;
    }
    this.#drop();
    if (request === undefined) return;
    this.#inFlight = undefined;
    if (request.reused && !request.answered) this.#send(request.body, request.resolve, request.reject);
    else request.reject(error);
  }

  #fail(error: Error): void {
    const request = this.#inFlight;
    this.#inFlight = undefined;
    this.#drop();
    request?.reject(error);
  }

  #drop(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#buffer = Buffer.alloc(0);
  }

  #read(chunk: Buffer): void {
    const request = this.#inFlight;
    if (request === undefined) {
      // Bytes nobody asked for: the connection cannot be trusted for the next request.
      this.#drop();
      return;
    }
    request.answered = true;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      while (this.#inFlight === request && this.#step(request));
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Reads what it can of the buffered answer; false when it needs more bytes. */
  #step(request: InFlight): boolean {
    const { state } = request;
    switch (state.part) {
      case 'head': {
        const end = this.#buffer.indexOf(HEAD_END);
        if (end < 0) {
          if (this.#buffer.length > LONGEST_HEAD) throw new Error(`the answer's head is longer than ${LONGEST_HEAD} bytes`);
          return false;
        }
        const head = this.#buffer.toString('latin1', 0, end);
        this.#buffer = this.#buffer.subarray(end + HEAD_END.length);
        this.#readHead(request, head);
        return true;
      }
      case 'length': {
        const taken = Math.min(state.left, this.#buffer.length);
        state.left -= taken;
        this.#buffer = this.#buffer.subarray(taken);
        if (state.left > 0) return false;
        this.#finish();
        return true;
      }
      case 'chunks':
        return this.#readChunks(state);
      case 'until-close':
        this.#buffer = Buffer.alloc(0);
        return false;
    }
  }

  #readHead(request: InFlight, head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (status === null) throw new Error(`not an HTTP answer: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const code = Number(status[1]);
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (code < 200) return;
    let length: number | undefined;
    let chunked = false;
    request.close = (lines[0] as string).startsWith('HTTP/1.0');
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') request.close = value.split(',').some((v) => v.trim() === 'close');
    }
    request.status = code;
    if (code === 204 || code === 304) request.state = { part: 'length', left: 0 };
    else if (chunked) request.state = { part: 'chunks', left: 0, trailers: false };
    else if (length !== undefined) {
      if (!Number.isSafeInteger(length) || length < 0) throw new Error('the answer has a Content-Length that is not a number');
      request.state = { part: 'length', left: length };
    } else {
      // No length: the body runs to the end of the connection.
      request.close = true;
      request.state = { part: 'until-close' };
    }
  }

  /** Skips chunked body bytes: chunk data, then the next size line, up to the last chunk's trailers. */
  #readChunks(state: { left: number; trailers: boolean }): boolean {
    if (state.left > 0) {
      const taken = Math.min(state.left, this.#buffer.length);
      state.left -= taken;
      this.#buffer = this.#buffer.subarray(taken);
      return state.left === 0;
    }
    const end = this.#buffer.indexOf(LINE_END);
    if (end < 0) {
      if (this.#buffer.length > LONGEST_HEAD) throw new Error('a chunk size line is too long');
      return false;
    }
    const line = this.#buffer.toString('latin1', 0, end);
    this.#buffer = this.#buffer.subarray(end + LINE_END.length);
    if (state.trailers) {
      // An empty line ends the trailers, and the answer.
      if (line === '') this.#finish();
      return true;
    }
    const size = Number.parseInt(line.split(';')[0] as string, 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`a chunk size that is not a number: ${JSON.stringify(line.slice(0, 40))}`);
    if (size === 0) state.trailers = true;
    // The chunk's data and the line end after it.
    else state.left = size + LINE_END.length;
    return true;
  }

  /** The answer is whole: resolves its status, and keeps the connection for the next request unless it is closing. */
  #finish(): void {
    const request = this.#inFlight as InFlight;
    this.#inFlight = undefined;
    this.#served++;
    if (request.close || this.#buffer.length > 0) this.#drop();
    else this.#socket?.unref();
    request.resolve(request.status);
  }
}
