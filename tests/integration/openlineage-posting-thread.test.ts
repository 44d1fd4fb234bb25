/**
 * The posting thread of the OpenLineage HTTP transport: each POST is answered with the status
 * the receiver gave (bodies and headers arrive whole, in order), or with why there was no answer.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostingThread } from '../../resources/openlineage/posting-thread.ts';
import { closedPort } from '../postgres.ts';

const got: { body: string; authorization: string | undefined }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    got.push({ body, authorization: req.headers.authorization });
    res.writeHead(body.includes('bad') ? 400 : 201).end();
  });
});
let url: URL;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/lineage`);
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('PostingThread', () => {
  it('answers each post with the status the receiver gave; bodies and the bearer key arrive whole and in order', async () => {
    const thread = new PostingThread({ endpoint: url, apiKey: 'k1', timeoutMs: 5_000 });
    const big = JSON.stringify({ n: 1, pad: 'é'.repeat(100_000) });
    const answers = [];
    for (const body of [big, '{"n":2}', '{"n":"bad"}']) answers.push(await thread.post(body));
    expect(answers).toEqual([{ status: 201 }, { status: 201 }, { status: 400 }]);
    expect(got.map((g) => g.body)).toEqual([big, '{"n":2}', '{"n":"bad"}']);
    expect(got.every((g) => g.authorization === 'Bearer k1')).toBe(true);
  });

  it('answers a post nobody listens to with the connection problem', async () => {
    const thread = new PostingThread({ endpoint: new URL(`http://127.0.0.1:${await closedPort()}/x`), timeoutMs: 5_000 });
    const answer = await thread.post('{}');
    expect(answer).toEqual({ problem: expect.stringMatching(/ECONNREFUSED/) });
  });
});
