import { isLoopbackAddress } from './host-check.ts';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StrataError } from '../core/model/errors.ts';
import { createApi, type ApiAppOptions, type ApiWorkspace } from './api-app.ts';

/** A running API server. */
export interface ApiServer {
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly port: number;
  /** True when it listens on this machine only (see {@link isLoopbackAddress}): same-origin pages may launch runs. */
  readonly loopback: boolean;
  /**
   * Stops accepting connections, cancels the runs this server launched and waits for them, ends
   * event streams, drops open connections, and resolves once the server is closed.
   */
  close(): Promise<void>;
}

/** Where {@link startApiServer} listens. */
export interface ListenOptions extends ApiAppOptions {
  /** `0` picks a free port. */
  readonly port: number;
  /** Default `127.0.0.1`: only this machine can connect. */
  readonly host?: string;
}

/**
 * Starts the JSON API (see {@link createApi}) on `host:port`. Only a server bound to loopback
 * accepts same-origin requests that launch runs without a token. A port in use or a host that
 * cannot be bound is a user {@link StrataError} (`listen_failed`).
 *
 * @example
 * const server = await startApiServer(workspace, { port: 0 });
 * console.log(server.url); await server.close();
 */
export async function startApiServer(workspace: ApiWorkspace, options: ListenOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackAddress(host);
  const { app, close } = createApi(workspace, { loopbackOnly: loopback, loopbackBound: loopback, ...options });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, host);
    s.once('listening', () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? `port ${options.port} is in use (try another --port)`
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
            ? `cannot listen on host "${host}"`
            : error.message;
      reject(new StrataError('listen_failed', reason, { argument: error.code === 'EADDRINUSE' ? '--port' : '--host' }));
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    loopback,
    async close() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await close();
      server.closeAllConnections();
      await closed;
    },
  };
}
