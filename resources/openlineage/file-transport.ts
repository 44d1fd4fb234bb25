import { appendFileSync, mkdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JsonObject } from '../../core/model/openlineage/openlineage-run-event.ts';
import type { OpenLineageTransport } from './openlineage-transport.ts';

/** Appends each OpenLineage event as one JSON line to a file, in the background and in order. */
export class FileTransport implements OpenLineageTransport {
  readonly #file: string;
  readonly #notice: (message: string) => void;
  #queue: string[] = [];
  #writing: Promise<void> | undefined;
  #failed = false;

  constructor(file: string, notice: (message: string) => void) {
    this.#file = file;
    this.#notice = notice;
  }

  emit(event: JsonObject): void {
    this.#queue.push(`${JSON.stringify(event)}\n`);
    this.#writing ??= this.#write();
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this.#writing) await Promise.race([this.#writing, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    // Whatever is still queued is written now, so that nothing is lost at exit.
    const rest = this.#queue.splice(0);
    if (rest.length > 0) this.#append(() => appendFileSync(this.#file, rest.join('')));
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const lines = this.#queue.splice(0).join('');
        await appendFile(this.#file, lines).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
          mkdirSync(dirname(this.#file), { recursive: true });
          await appendFile(this.#file, lines);
        });
      }
    } catch (error) {
      this.#tell(error);
    } finally {
      this.#writing = undefined;
    }
  }

  #append(write: () => void): void {
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      write();
    } catch (error) {
      this.#tell(error);
    }
  }

  #tell(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#notice(`OpenLineage events could not be written to ${this.#file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
