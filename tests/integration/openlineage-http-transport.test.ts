/**
 * The HTTP transport against a local receiver on 127.0.0.1: events sent in order; while the
 * receiver is down they go to the disk outbox and, in the same process, are sent first once it
 * answers again; a refused event (HTTP 400) is dropped and said once, a 503 keeps it; a receiver
 * that never answers cannot hold `flush` past its timeout, and what was not sent is kept; a dead
 * process's claimed outbox file is sent by the next one.
 */
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpTransport } from '../../resources/openlineage/http-transport.ts';
import { closedPort } from '../postgres.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ol-http-'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A receiver answering `status(n)` to the n-th request (0-based), keeping the events it accepted. */
async function receiver(port: number, status: (n: number) => number | 'hang' = () => 200): Promise<{ server: Server; got: number[] }> {
  const got: number[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = status(n++);
      if (answer === 'hang') return;
      if (answer < 300) got.push((JSON.parse(body) as { n: number }).n);
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, got };
}

const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
};

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const outboxLines = () =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
        .filter((l) => l !== '')
    : [];

describe('the OpenLineage HTTP transport', () => {
  it('keeps events on disk while the receiver is down and sends them first, in order, once it answers, in the same process', async () => {
    const port = await closedPort();
    const notices: string[] = [];
    const transport = new HttpTransport({ url: `http://127.0.0.1:${port}`, outboxDir: dir, notice: (m) => notices.push(m), retries: 1, retryDelayMs: 10 });
    transport.emit({ n: 1 });
    transport.emit({ n: 2 });
    await until(() => outboxLines().length === 2);
    expect(notices).toEqual([
      `OpenLineage: http://127.0.0.1:${port} does not answer (connect ECONNREFUSED 127.0.0.1:${port}): events are kept in ${dir} and sent when it answers again`,
    ]);
    const { server, got } = await receiver(port);
    try {
      transport.emit({ n: 3 });
      // The receiver has an event before the transport reads its answer and empties the outbox.
      await until(() => got.length === 3 && outboxLines().length === 0);
      expect(got).toEqual([1, 2, 3]);
      transport.emit({ n: 4 });
      await transport.flush(5_000);
      expect(got).toEqual([1, 2, 3, 4]);
    } finally {
      await close(server);
    }
  });

  it('sends what is on disk when the retry timer fires a moment before the pause ends by the wall clock', async () => {
    const port = await closedPort();
    const transport = new HttpTransport({ url: `http://127.0.0.1:${port}`, outboxDir: dir, notice: () => undefined, retries: 0 });
    transport.emit({ n: 1 });
    await until(() => outboxLines().length === 1);
    const { server, got } = await receiver(port);
    // Timers and Date.now() run on different clocks: the wall clock now reads 5 ms behind the timer's.
    const realNow = Date.now.bind(Date);
    const behind = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 5);
    try {
      await until(() => got.length === 1 && outboxLines().length === 0, 5_000);
      expect(got).toEqual([1]);
    } finally {
      behind.mockRestore();
      await transport.flush(1_000);
      await close(server);
    }
  });

  it('drops an event the receiver refuses (said once), keeps one it cannot take now (503)', async () => {
    const port = await closedPort();
    const { server, got } = await receiver(port, (n) => (n === 0 ? 400 : n === 1 ? 503 : 200));
    const notices: string[] = [];
    try {
      const transport = new HttpTransport({ url: `http://127.0.0.1:${port}/`, outboxDir: dir, notice: (m) => notices.push(m), retries: 0 });
      transport.emit({ n: 1 });
      transport.emit({ n: 2 });
      await transport.flush(5_000);
      expect(got).toEqual([]);
      expect(notices[0]).toBe(`OpenLineage: http://127.0.0.1:${port} refused an event with HTTP 400; such events are dropped`);
      expect(outboxLines().map((l) => JSON.parse(l))).toEqual([{ n: 2 }]);
      // The next process sends what was kept.
      const next = new HttpTransport({ url: `http://127.0.0.1:${port}`, outboxDir: dir, notice: () => undefined });
      await until(() => got.length === 1);
      await next.flush(5_000);
      expect(got).toEqual([2]);
      expect(outboxLines()).toEqual([]);
    } finally {
      await close(server);
    }
  });

  it('cannot hold flush past its timeout when the receiver never answers; what was not sent is kept', async () => {
    const port = await closedPort();
    const { server } = await receiver(port, () => 'hang');
    try {
      const transport = new HttpTransport({ url: `http://127.0.0.1:${port}`, outboxDir: dir, notice: () => undefined, timeoutMs: 30_000 });
      transport.emit({ n: 1 });
      transport.emit({ n: 2 });
      const started = Date.now();
      await transport.flush(300);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(outboxLines().map((l) => JSON.parse(l))).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await close(server);
    }
  });

  it('sends the outbox file a dead process had claimed, and leaves one a live process is sending', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const dead = 2 ** 22 + 12_345;
    fs.writeFileSync(path.join(dir, `sending-0000000000000000001-${dead}.jsonl`), '{"n":1}\n');
    fs.writeFileSync(path.join(dir, `sending-0000000000000000002-${process.ppid}.jsonl`), '{"n":9}\n');
    fs.writeFileSync(path.join(dir, 'outbox.jsonl'), '{"n":2}\n');
    const port = await closedPort();
    const { server, got } = await receiver(port);
    try {
      const transport = new HttpTransport({ url: `http://127.0.0.1:${port}`, outboxDir: dir, notice: () => undefined });
      await until(() => got.length === 2);
      await transport.flush(5_000);
      expect(got).toEqual([1, 2]);
      expect(fs.readdirSync(dir)).toEqual([`sending-0000000000000000002-${process.ppid}.jsonl`]);
    } finally {
      await close(server);
    }
  });
});
