/**
 * One kept-alive HTTP/1.1 connection that POSTs bodies to one URL and resolves each response's
 * status. Several bodies go out pipelined (RFC 9112 §9.3.2): every request in one write, the
 * answers read back in order, so a batch of events costs one wake-up of each side instead of one
 * per event. It does what `node:http` with a keep-alive agent does for this one job with far less
 * work per request: the response's head is read for its status, length and `Connection` header
 * alone, and its body (sized by `Content-Length`, chunks or the end of the connection) skipped.
 *
 * Requests left unanswered when a connection ends are sent again on a new one: after an answer
 * that said `Connection: close` (the server then reads no further request), and when a connection
 * that had answered before drops (the server closed it while idle, or stopped part way). Each new
 * connection must answer at least one request for the rest to go on: one that drops before any
 * answer fails its requests. A connection dropped part way through a batch, without
 * `Connection: close`, is the mark of a server or proxy that does not take pipelined requests:
 * from then on requests go one at a time, each after the answer to the one before. An idle
 * connection does not keep the process alive.
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

/** Where the answer being read is. */
type ReadState =
  | { readonly part: 'head' }
  | { readonly part: 'length'; left: number }
  | { readonly part: 'chunks'; left: number; trailers: boolean }
  | { readonly part: 'until-close' };

/** One request of the batch in flight. */
interface Request {
  readonly body: string;
  /** Its place in the batch's results. */
  readonly index: number;
}

/** The batch in flight: its requests not answered yet, oldest first, and how the first one's answer reads. */
interface Batch {
  readonly waiting: Request[];
  readonly results: (number | Error)[];
  readonly done: () => void;
  /** Bytes of the first waiting request's answer have come. */
  answering: boolean;
  /** Answers of this batch read on the current connection. */
  answers: number;
  status: number;
  close: boolean;
  state: ReadState;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');
/** A response head longer than this is not an HTTP server's answer to a POST. */
const LONGEST_HEAD = 64 * 1024;

/** The kept-alive, pipelining POST connection (see the file comment). */
export class HttpPostConnection {
  readonly #url: URL;
  readonly #options: HttpPostConnectionOptions;
  /** The request head up to the body's length. */
  readonly #head: string;
  #socket: Socket | undefined;
  /** Answers the current socket has given. */
  #served = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #batch: Batch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timeoutMs = 0;
  /** Whether requests go out pipelined; false once a connection dropped part way through a batch. */
  #pipelining = true;

  constructor(url: URL, options: HttpPostConnectionOptions = {}) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${url.href}`);
    this.#url = url;
    this.#options = options;
    const headers = Object.entries(options.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    this.#head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${headers}Content-Length: `;
  }

  /** Sends `body` and resolves the response's status; rejects as {@link postAll} fails a request. */
  async post(body: string, timeoutMs: number): Promise<number> {
    const [result] = await this.postAll([body], timeoutMs);
    if (result instanceof Error) throw result;
    return result as number;
  }

  /**
   * Sends every body, pipelined, and resolves, in their order, each response's status or why it
   * has none: the connection failed, or no answer came within `timeoutMs` of the last one (or of
   * the write). Never rejects. One batch at a time: a call while one is in flight gets errors.
   */
  postAll(bodies: readonly string[], timeoutMs: number): Promise<(number | Error)[]> {
    if (this.#batch !== undefined) return Promise.resolve(bodies.map(() => new Error('a batch is already in flight on this connection')));
    if (bodies.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const results: (number | Error)[] = new Array(bodies.length);
      const batch: Batch = {
        waiting: bodies.map((body, index) => ({ body, index })),
        results,
        done: () => resolve(results),
        answering: false,
        answers: 0,
        status: 0,
        close: false,
        state: { part: 'head' },
      };
      this.#batch = batch;
      this.#timeoutMs = timeoutMs;
      this.#write(batch.waiting);
    });
  }

  /** Closes the connection; the requests in flight fail. */
  close(): void {
    this.#failAll(new Error('the connection was closed'));
  }

  /** Writes the requests on the connection (opening one if needed): all of them pipelined, else the first. */
  #write(requests: readonly Request[]): void {
    const socket = this.#socket ?? this.#open();
    socket.ref();
    this.#restartTimer();
    let text = '';
    for (const { body } of this.#pipelining ? requests : requests.slice(0, 1)) text += `${this.#head}${Buffer.byteLength(body)}\r\n\r\n${body}`;
    socket.write(text);
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

  #restartTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#failAll(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
  }

  /**
   * The socket ended or failed. An answer that runs to the end of the connection is whole; the
   * first waiting request fails if its answer had begun; the others are sent again on a new
   * connection when this one had answered (see the file comment), else fail.
   */
  #lost(error: Error): void {
    const batch = this.#batch;
    if (batch?.state.part === 'until-close') {
      this.#answered(batch);
      return;
    }
    const answered = this.#served > 0;
    this.#drop();
    if (batch === undefined) return;
    if (batch.answering) this.#settle(batch, batch.waiting.shift() as Request, error);
    if (!answered) {
      for (const request of batch.waiting.splice(0)) this.#settle(batch, request, error);
      this.#end(batch);
      return;
    }
    if (batch.answers > 0 && batch.waiting.length > 0) this.#pipelining = false;
    this.#resend(batch);
  }

  /** Sends the batch's waiting requests on a new connection, or ends the batch. */
  #resend(batch: Batch): void {
    batch.answering = false;
    batch.answers = 0;
    batch.state = { part: 'head' };
    if (batch.waiting.length === 0) {
      this.#end(batch);
      return;
    }
    this.#write(batch.waiting);
  }

  #settle(batch: Batch, request: Request, result: number | Error): void {
    batch.results[request.index] = result;
  }

  #end(batch: Batch): void {
    clearTimeout(this.#timer);
    this.#batch = undefined;
    this.#socket?.unref();
    batch.done();
  }

  #failAll(error: Error): void {
    const batch = this.#batch;
    this.#drop();
    if (batch === undefined) return;
    for (const request of batch.waiting.splice(0)) this.#settle(batch, request, error);
    this.#end(batch);
  }

  #drop(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#buffer = Buffer.alloc(0);
  }

  #read(chunk: Buffer): void {
    const batch = this.#batch;
    if (batch === undefined) {
      // Bytes nobody asked for: the connection cannot be trusted for the next request.
      this.#drop();
      return;
    }
    batch.answering = true;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      while (this.#batch === batch && this.#step(batch));
    } catch (error) {
      this.#failAll(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Reads what it can of the buffered answer; false when it needs more bytes. */
  #step(batch: Batch): boolean {
    const { state } = batch;
    switch (state.part) {
      case 'head': {
        if (this.#buffer.length === 0) return false;
        const end = this.#buffer.indexOf(HEAD_END);
        if (end < 0) {
          if (this.#buffer.length > LONGEST_HEAD) throw new Error(`the answer's head is longer than ${LONGEST_HEAD} bytes`);
          return false;
        }
        const head = this.#buffer.toString('latin1', 0, end);
        this.#buffer = this.#buffer.subarray(end + HEAD_END.length);
        this.#readHead(batch, head);
        return true;
      }
      case 'length':
        if (!this.#skip(state)) return false;
        this.#answered(batch);
        return true;
      case 'chunks':
        return this.#readChunks(batch, state);
      case 'until-close':
        this.#buffer = Buffer.alloc(0);
        return false;
    }
  }

  /** Drops up to `state.left` buffered body bytes, counting them off; true once none are left to skip. */
  #skip(state: { left: number }): boolean {
    const taken = Math.min(state.left, this.#buffer.length);
    state.left -= taken;
    this.#buffer = this.#buffer.subarray(taken);
    return state.left === 0;
  }

  #readHead(batch: Batch, head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (status === null) throw new Error(`not an HTTP answer: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const code = Number(status[1]);
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (code < 200) return;
    let length: number | undefined;
    let chunked = false;
    batch.close = (lines[0] as string).startsWith('HTTP/1.0');
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') batch.close = value.split(',').some((v) => v.trim() === 'close');
    }
    batch.status = code;
    if (code === 204 || code === 304) batch.state = { part: 'length', left: 0 };
    else if (chunked) batch.state = { part: 'chunks', left: 0, trailers: false };
    else if (length !== undefined) {
      if (!Number.isSafeInteger(length) || length < 0) throw new Error('the answer has a Content-Length that is not a number');
      batch.state = { part: 'length', left: length };
    } else {
      // No length: the body runs to the end of the connection.
      batch.close = true;
      batch.state = { part: 'until-close' };
    }
  }

  /** Skips chunked body bytes: chunk data, then the next size line, up to the last chunk's trailers. */
  #readChunks(batch: Batch, state: { left: number; trailers: boolean }): boolean {
    if (state.left > 0) return this.#skip(state);
    const end = this.#buffer.indexOf(LINE_END);
    if (end < 0) {
      if (this.#buffer.length > LONGEST_HEAD) throw new Error('a chunk size line is too long');
      return false;
    }
    const line = this.#buffer.toString('latin1', 0, end);
    this.#buffer = this.#buffer.subarray(end + LINE_END.length);
    if (state.trailers) {
      // An empty line ends the trailers, and the answer.
      if (line === '') this.#answered(batch);
      return true;
    }
    const size = Number.parseInt(line.split(';')[0] as string, 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`a chunk size that is not a number: ${JSON.stringify(line.slice(0, 40))}`);
    if (size === 0) state.trailers = true;
    // The chunk's data and the line end after it.
    else state.left = size + LINE_END.length;
    return true;
  }

  /**
   * The first waiting request's answer is whole: its status is its result. The next answer is
   * read from what is buffered; when the server is closing, the requests still waiting go on a
   * new connection.
   */
  #answered(batch: Batch): void {
    this.#settle(batch, batch.waiting.shift() as Request, batch.status);
    this.#served++;
    batch.answers++;
    batch.answering = this.#buffer.length > 0;
    batch.state = { part: 'head' };
    if (batch.close) {
      batch.close = false;
      this.#drop();
      this.#resend(batch);
      return;
    }
    if (batch.waiting.length === 0) {
      // Bytes after the last answer were not asked for.
      if (this.#buffer.length > 0) this.#drop();
      this.#end(batch);
      return;
    }
    // One at a time: the next request goes now; pipelined, it is on its way already.
    if (this.#pipelining) this.#restartTimer();
    else this.#write(batch.waiting);
  }
}
