import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** An app listening on a free loopback port, with its base URL. */
export interface LoopbackServer {
  readonly server: Server;
  /** e.g. `http://127.0.0.1:41234` */
  readonly base: string;
  close(): Promise<void>;
}

/** Starts `app` on 127.0.0.1 at a free port (tests drive the real HTTP server). */
export async function listenOnLoopback(app: Express): Promise<LoopbackServer> {
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
