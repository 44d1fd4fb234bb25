/**
 * The HTTP transport's outbox: a folder of JSON-lines files holding the events not yet delivered
 * while the endpoint is down. New events are appended to `outbox.jsonl`; a process that sends
 * them first claims the file by renaming it to `sending-<time>-<pid>.jsonl` (a rename is atomic,
 * so two processes never send the same file), sends its lines in order, and deletes it; what it
 * could not send stays in its claimed file, which it (or, once it is dead, another process on
 * this host) sends next time. Delivery is at least once.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';

const OUTBOX = 'outbox.jsonl';
const CLAIMED = /^sending-(\d+)-(\d+)\.jsonl$/;

/** A folder of events waiting to be sent. */
export class EventOutbox {
  readonly dir: string;
  #claims = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** True when events this process may send wait in the folder (not those another live process is sending). */
  hasEvents(): boolean {
    if (!existsSync(this.dir)) return false;
    return readdirSync(this.dir).some((name) => (name === OUTBOX || this.#mayClaim(name)) && statSync(join(this.dir, name)).size > 0);
  }

  /** Whether a claimed file is this process's, or a dead process's. */
  #mayClaim(name: string): boolean {
    const match = CLAIMED.exec(name);
    return match !== null && (Number(match[2]) === process.pid || !alive(Number(match[2])));
  }

  /** Appends event lines (each ending in a newline) to the outbox. */
  async append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    await appendFile(join(this.dir, OUTBOX), lines.join(''));
  }

  /** Appends event lines at once (at exit). */
  appendNow(lines: readonly string[]): void {
    if (lines.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(join(this.dir, OUTBOX), lines.join(''));
  }

  /**
   * The claimed files to send, oldest first: this process's and dead processes' earlier claims,
   * then the outbox, claimed now.
   */
  claim(): string[] {
    if (!existsSync(this.dir)) return [];
    const names = readdirSync(this.dir);
    // Names sort by claim time: the time is zero-padded.
    const claimed = names
      .filter((name) => this.#mayClaim(name))
      .sort()
      .map((name) => join(this.dir, name));
    if (names.includes(OUTBOX)) {
      const name = join(this.dir, `sending-${String(Date.now()).padStart(15, '0')}${String(this.#claims++).padStart(4, '0')}-${process.pid}.jsonl`);
      try {
        renameSync(join(this.dir, OUTBOX), name);
        claimed.push(name);
      } catch {
        // Another process claimed it first.
      }
    }
    return claimed;
  }

  /** The event lines of a claimed file. */
  lines(file: string): string[] {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => `${line}\n`);
    } catch {
      return [];
    }
  }

  /** Keeps only `rest` in a claimed file (deleting it when nothing is left). */
  keep(file: string, rest: readonly string[]): void {
    if (rest.length === 0) unlinkSync(file);
    else writeFileSync(file, rest.join(''));
  }
}

/** Whether a process of this host is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
