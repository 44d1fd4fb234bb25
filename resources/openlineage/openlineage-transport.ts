/**
 * Where OpenLineage events go: one interface, three transports (HTTP with a disk outbox, a
 * JSON-lines file, the console), chosen from the project's settings in one place.
 */
import type { OpenLineageSettings } from '../../core/model/config/openlineage-settings.ts';
import type { JsonObject } from '../../core/model/openlineage/openlineage-run-event.ts';
import { ConsoleTransport } from './console-transport.ts';
import { FileTransport } from './file-transport.ts';
import { HttpTransport } from './http-transport.ts';

/** Sends OpenLineage events somewhere, in the background. */
export interface OpenLineageTransport {
  /** Queues one event, in order; never throws, never waits on I/O. */
  emit(event: JsonObject): void;
  /** Delivers (or, for HTTP, saves to disk) what is queued, waiting at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

/** What a transport needs besides the settings. */
export interface TransportOptions {
  /** The folder of the HTTP transport's outbox (events kept while the endpoint is down), e.g. `.strata/openlineage`. */
  readonly outboxDir: string;
  /** Where news for a person goes (an endpoint down, an event refused), each said once. */
  readonly notice: (message: string) => void;
}

/**
 * The transport `settings` choose.
 *
 * @example
 * const transport = openLineageTransport(config.openlineage.transport, { outboxDir, notice: console.error });
 */
export function openLineageTransport(settings: OpenLineageSettings['transport'], options: TransportOptions): OpenLineageTransport {
  switch (settings.kind) {
    case 'http':
      return new HttpTransport({ url: settings.url, ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }), ...options });
    case 'file':
      return new FileTransport(settings.file, options.notice);
    case 'console':
      return new ConsoleTransport();
  }
}
