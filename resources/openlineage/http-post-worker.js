// The OpenLineage HTTP posting thread (plain JavaScript, so that it runs from source and from
// the build alike; started by PostingThread, posting-thread.ts). It only sends: each message
// `{ id, body }` is POSTed to the endpoint given in workerData over one kept-alive connection,
// and answered `{ id, status }` (the HTTP status) or `{ id, problem }` (no answer: a refused
// connection, a reset, a timeout). What an answer means (sent, retry, drop) is decided by the
// transport on the main thread. The socket writes (on a loopback, the kernel delivers the bytes
// to the receiver inside the write) happen here, not on the thread that runs the steps.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

const { endpoint, apiKey, timeoutMs } = workerData;
const url = new URL(endpoint);
const secure = url.protocol === 'https:';
const send = secure ? httpsRequest : httpRequest;
const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });

parentPort.on('message', ({ id, body }) => {
  let answered = false;
  const answer = (reply) => {
    if (answered) return;
    answered = true;
    parentPort.postMessage({ id, ...reply });
  };
  const request = send(
    url,
    {
      method: 'POST',
      agent,
      timeout: timeoutMs,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
      },
    },
    (response) => {
      response.resume();
      answer({ status: response.statusCode ?? 0 });
    },
  );
  request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  request.on('error', (error) => answer({ problem: error.message || error.code || 'connection failed' }));
  request.end(body);
});
