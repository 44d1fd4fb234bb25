import type { JsonObject } from '../../core/model/openlineage/openlineage-run-event.ts';
import type { OpenLineageTransport } from './openlineage-transport.ts';

/**
 * Writes each OpenLineage event as one JSON line to stderr: stdout carries the commands' own
 * output (`--json` results), which an event line would corrupt.
 */
export class ConsoleTransport implements OpenLineageTransport {
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => void process.stderr.write(line)) {
    this.#write = write;
  }

  emit(event: JsonObject): void {
    this.#write(`${JSON.stringify(event)}\n`);
  }

  async flush(): Promise<void> {}
}
