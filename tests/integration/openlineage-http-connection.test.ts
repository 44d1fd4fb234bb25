/**
 * The kept-alive POST connection the OpenLineage HTTP transport sends through, against real
 * servers on loopback: node's HTTP server, and raw TCP servers that answer as the test scripts
 * (chunked bodies, bodies to the end of the connection, 100 Continue, a server that drops a
 * kept-alive connection, one that never answers, one that does not speak HTTP), and HTTPS with a
 * self-signed certificate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPostConnection } from '../../resources/openlineage/http-post-connection.ts';

const servers: (Server | HttpServer)[] = [];
const connections: HttpPostConnection[] = [];

afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server | HttpServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function connection(url: string, options?: ConstructorParameters<typeof HttpPostConnection>[1]): HttpPostConnection {
  const made = new HttpPostConnection(new URL(url), options);
  connections.push(made);
  return made;
}

/**
 * A TCP server that reads each request (head and Content-Length body) and answers what
 * `answer(index, body)` returns, index counting requests on that connection from 0: a text, or a
 * text then the end of the connection (`{ end }`, requests after it unread); `null` destroys the
 * connection unanswered, `undefined` never answers.
 */
async function rawServer(
  answer: (index: number, body: string) => string | { end: string } | null | undefined,
): Promise<{ port: number; connections: () => number }> {
  let opened = 0;
  const server = createNetServer((socket: Socket) => {
    opened++;
    let buffer = '';
    let index = 0;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.slice(end + 4, end + 4 + length);
        buffer = buffer.slice(end + 4 + length);
        const reply = answer(index++, body);
        if (reply === null) return void socket.destroy();
        if (typeof reply === 'object') return void socket.end(reply.end);
        if (reply !== undefined) socket.write(reply);
      }
    });
  });
  return { port: await listen(server), connections: () => opened };
}

describe('HttpPostConnection', () => {
  it('sends every request on one kept-alive connection to node:http, with the headers, body and status each', async () => {
    const seen: { url?: string; auth?: string; type?: string; body: string }[] = [];
    let opened = 0;
    const server = createHttpServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({
          ...(req.url === undefined ? {} : { url: req.url }),
          ...(req.headers.authorization === undefined ? {} : { auth: req.headers.authorization }),
          ...(req.headers['content-type'] === undefined ? {} : { type: req.headers['content-type'] }),
          body,
        });
        const status = body.includes('refuse') ? 400 : 201;
        // Every second answer has a body, to be skipped.
        res.writeHead(status).end(seen.length % 2 === 0 ? JSON.stringify({ ok: true, n: seen.length }) : undefined);
      });
    });
    server.on('connection', () => opened++);
    const port = await listen(server);
    const post = connection(`http://127.0.0.1:${port}/api/v1/lineage?x=1`, { headers: { Authorization: 'Bearer k', 'Content-Type': 'application/json' } });
    const statuses = [];
    for (const body of ['{"n":1}', '{"n":"é ü"}', '{"refuse":true}', '{"n":4}']) statuses.push(await post.post(body, 5_000));
    expect(statuses).toEqual([201, 201, 400, 201]);
    expect(seen.map((s) => s.body)).toEqual(['{"n":1}', '{"n":"é ü"}', '{"refuse":true}', '{"n":4}']);
    expect(seen.every((s) => s.url === '/api/v1/lineage?x=1' && s.auth === 'Bearer k' && s.type === 'application/json')).toBe(true);
    expect(opened).toBe(1);
  });

  it('pipelines a batch: every request in one connection, the statuses in order', async () => {
    const seen: string[] = [];
    let opened = 0;
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push(body);
        res.writeHead(Number(JSON.parse(body).status)).end('x'.repeat(Number(JSON.parse(body).n) * 1000));
      });
    });
    server.on('connection', () => opened++);
    const port = await listen(server);
    const post = connection(`http://127.0.0.1:${port}`);
    const bodies = [201, 200, 400, 503, 201, 202].map((status, n) => JSON.stringify({ n, status }));
    expect(await post.postAll(bodies, 5_000)).toEqual([201, 200, 400, 503, 201, 202]);
    expect(seen).toEqual(bodies);
    expect(await post.postAll(bodies.slice(0, 2), 5_000)).toEqual([201, 200]);
    expect(opened).toBe(1);
  });

  it('sends what a server closing with Connection: close left unread on new connections, however often it closes', async () => {
    const seen: number[] = [];
    // Each connection answers two requests, the second with Connection: close, and reads no more.
    const server = await rawServer((index, body) => {
      seen.push(JSON.parse(body).n);
      const reply = `HTTP/1.1 201 Created\r\nContent-Length: 0\r\n${index === 1 ? 'Connection: close\r\n' : ''}\r\n`;
      return index === 1 ? { end: reply } : reply;
    });
    const bodies = [0, 1, 2, 3, 4, 5, 6].map((n) => JSON.stringify({ n }));
    expect(await connection(`http://127.0.0.1:${server.port}`).postAll(bodies, 5_000)).toEqual([201, 201, 201, 201, 201, 201, 201]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(server.connections()).toBe(4);
  });

  it('sends what a dropped connection left unanswered on a new one, as long as each connection answers one', async () => {
    // Each connection answers one request, then drops without a word.
    const seen: number[] = [];
    const server = await rawServer((index, body) => {
      if (index > 0) return null;
      seen.push(JSON.parse(body).n);
      return 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n';
    });
    expect(await connection(`http://127.0.0.1:${server.port}`).postAll(['{"n":0}', '{"n":1}', '{"n":2}'], 5_000)).toEqual([201, 201, 201]);
    expect(seen).toEqual([0, 1, 2]);
    expect(server.connections()).toBe(3);
    // A connection that drops before any answer fails what it carried.
    const dropping = await rawServer(() => null);
    const results = await connection(`http://127.0.0.1:${dropping.port}`).postAll(['{}', '{}'], 5_000);
    expect(results.map((r) => r instanceof Error)).toEqual([true, true]);
    expect(dropping.connections()).toBe(1);
  });

  it('goes one request at a time after a server drops pipelined requests, on the connections that follow', async () => {
    // Like a proxy that takes one request at a time: requests that came with the one it answers are dropped with the connection.
    const seen: number[] = [];
    let opened = 0;
    const server = createNetServer((socket) => {
      opened++;
      let buffer = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        const end = buffer.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (end < 0 || buffer.length < end + 4 + length) return;
        seen.push(JSON.parse(buffer.slice(end + 4, end + 4 + length)).n);
        const more = buffer.length > end + 4 + length;
        buffer = '';
        socket.write('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
        if (more) socket.destroy();
      });
    });
    const port = await listen(server);
    const post = connection(`http://127.0.0.1:${port}`);
    const bodies = (from: number) => [0, 1, 2, 3].map((i) => JSON.stringify({ n: from + i }));
    expect(await post.postAll(bodies(0), 5_000)).toEqual([201, 201, 201, 201]);
    expect(await post.postAll(bodies(4), 5_000)).toEqual([201, 201, 201, 201]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The first connection answered one pipelined request; the second took the other seven one at a time.
    expect(opened).toBe(2);
  });

  it('fails what has no answer within the timeout after the last answer, keeping the statuses that came', async () => {
    const server = await rawServer((index) => (index < 2 ? 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' : undefined));
    const results = await connection(`http://127.0.0.1:${server.port}`).postAll(['{}', '{}', '{}', '{}'], 300);
    expect(results.slice(0, 2)).toEqual([201, 201]);
    expect(results.slice(2).map((r) => (r as Error).message)).toEqual(['no answer within 300 ms', 'no answer within 300 ms']);
  });

  it('skips chunked bodies with trailers and 100 Continue, and keeps the connection', async () => {
    const server = await rawServer((index) =>
      index === 0
        ? 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\n!!!\r\n0\r\nX-Trailer: 1\r\n\r\n'
        : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const post = connection(`http://127.0.0.1:${server.port}`);
    expect(await post.post('{}', 5_000)).toBe(202);
    expect(await post.post('{}', 5_000)).toBe(200);
    expect(server.connections()).toBe(1);
  });

  it('opens a new connection after an answer with Connection: close; waits for the end of a body without length', async () => {
    const server = await rawServer(() => 'HTTP/1.1 201 Created\r\n\r\nno length here');
    // The server closes after each such answer, as HTTP requires when the body has no length.
    const closing = await rawServer(() => 'HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    const endless = connection(`http://127.0.0.1:${server.port}`);
    const closed = connection(`http://127.0.0.1:${closing.port}`);
    // A body without length ends when the server closes: the test's server never does, so the answer times out.
    await expect(endless.post('{}', 300)).rejects.toThrow('no answer within 300 ms');
    expect(await closed.post('{}', 5_000)).toBe(201);
    expect(await closed.post('{}', 5_000)).toBe(201);
    expect(closing.connections()).toBe(2);
  });

  it('ends a body without length when the server closes the connection', async () => {
    let sockets = 0;
    const server = createNetServer((socket) => {
      sockets++;
      socket.once('data', () => socket.end('HTTP/1.1 201 Created\r\n\r\nbody to the end'));
    });
    const port = await listen(server);
    const post = connection(`http://127.0.0.1:${port}`);
    expect(await post.post('{}', 5_000)).toBe(201);
    expect(await post.post('{}', 5_000)).toBe(201);
    expect(sockets).toBe(2);
  });

  it('sends a request again on a new connection when the kept-alive one is dropped unanswered, but not a first request', async () => {
    // The second request on each connection is dropped: the connection was kept alive, then closed by the server.
    const server = await rawServer((index) => (index === 0 ? 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' : null));
    const post = connection(`http://127.0.0.1:${server.port}`);
    expect(await post.post('{"n":1}', 5_000)).toBe(201);
    expect(await post.post('{"n":2}', 5_000)).toBe(201);
    expect(server.connections()).toBe(2);
    const dropping = await rawServer(() => null);
    await expect(connection(`http://127.0.0.1:${dropping.port}`).post('{}', 5_000)).rejects.toThrow();
    expect(dropping.connections()).toBe(1);
  });

  it('opens a new connection after the server closed an idle one', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    });
    server.keepAliveTimeout = 50;
    let opened = 0;
    let closed: Promise<unknown> = Promise.resolve();
    server.on('connection', (socket: Socket) => {
      opened++;
      closed = new Promise((resolve) => socket.on('close', resolve));
    });
    const port = await listen(server);
    const post = connection(`http://127.0.0.1:${port}`);
    expect(await post.post('{}', 5_000)).toBe(201);
    await closed;
    expect(await post.post('{}', 5_000)).toBe(201);
    expect(opened).toBe(2);
  });

  it('fails a request that gets no answer in time, or an answer that is not HTTP, and then works on a new connection', async () => {
    let silent = true;
    const server = await rawServer(() => (silent ? undefined : 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'));
    const post = connection(`http://127.0.0.1:${server.port}`);
    const started = Date.now();
    await expect(post.post('{}', 200)).rejects.toThrow('no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    silent = false;
    expect(await post.post('{}', 5_000)).toBe(201);
    expect(server.connections()).toBe(2);
    const garbage = await rawServer(() => 'SSH-2.0-OpenSSH\r\n\r\n');
    await expect(connection(`http://127.0.0.1:${garbage.port}`).post('{}', 5_000)).rejects.toThrow('not an HTTP answer: "SSH-2.0-OpenSSH"');
  });

  it('rejects a refused connection with its error', async () => {
    const server = createNetServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    servers.splice(servers.indexOf(server), 1);
    await expect(connection(`http://127.0.0.1:${port}`).post('{}', 5_000)).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('posts over HTTPS, checking the certificate against the CA given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-https-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const bodies: string[] = [];
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          bodies.push(body);
          res.writeHead(201).end();
        });
      });
      const port = await listen(server);
      expect(await connection(`https://localhost:${port}`, { tls: { ca: cert } }).post('{"tls":true}', 5_000)).toBe(201);
      expect(bodies).toEqual(['{"tls":true}']);
      // Without the CA the self-signed certificate is refused.
      await expect(connection(`https://localhost:${port}`).post('{}', 5_000)).rejects.toThrow(/self[- ]signed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep a process alive once its answer came', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    });
    server.keepAliveTimeout = 60_000;
    const port = await listen(server);
    const module = new URL('../../resources/openlineage/http-post-connection.ts', import.meta.url).pathname;
    const code = `import { HttpPostConnection } from ${JSON.stringify(module)};
      const status = await new HttpPostConnection(new URL('http://127.0.0.1:${port}')).post('{}', 5000);
      console.log(status);`;
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ exit, out: out.trim() }).toEqual({ exit: 0, out: '201' });
    // The server would hold the connection for a minute.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
