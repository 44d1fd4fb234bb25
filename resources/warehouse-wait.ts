/**
 * Opening a DuckDB warehouse file that another process may hold. DuckDB lets one process at a
 * time open a file for writing; a second `assets materialize` on the same project waits for it
 * (retrying with backoff, abortable) instead of failing, and is told once who holds it.
 */

import { StrataError } from '../core/model/errors.ts';
import { abortableSleep } from '../core/model/run-timing.ts';
import { formatDuration } from '../core/model/format/duration-text.js';
import { DuckDBWarehouse, type WarehouseOpenOptions } from './duckdb-warehouse.ts';

/** How to wait for a busy warehouse (and how to open it). */
export interface WarehouseWaitOptions extends WarehouseOpenOptions {
  /** Aborting stops the wait (the open then fails with code `canceled`). */
  readonly signal?: AbortSignal;
  /** Give up after this long (default 30 minutes). */
  readonly maxWaitMs?: number;
  /** First retry delay (default 100 ms); doubles up to {@link maxDelayMs}. */
  readonly initialDelayMs?: number;
  /** Longest delay between two tries (default 2 s). */
  readonly maxDelayMs?: number;
  /**
   * Called once, when the file is first found busy, with the holder's process id when DuckDB
   * names it.
   */
  readonly onBusy?: (holder: { readonly pid: number | undefined; readonly message: string }) => Promise<void> | void;
  /** Injected for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
  readonly now?: () => number;
}

/**
 * Opens the warehouse at `path`, waiting while another process holds its lock.
 *
 * @example
 * const warehouse = await openWarehouseWhenFree(file, { signal, onBusy: ({ pid }) => console.error(`waiting for process ${pid}`) });
 */
export async function openWarehouseWhenFree(path: string, options: WarehouseWaitOptions = {}): Promise<DuckDBWarehouse> {
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.maxWaitMs ?? 30 * 60_000);
  let delay = options.initialDelayMs ?? 100;
  let told = false;
  for (;;) {
    try {
      return await DuckDBWarehouse.open(path, openOptionsOf(options));
    } catch (error) {
      if (!(error instanceof StrataError) || error.code !== 'warehouse_locked') throw error;
      if (!told) {
        told = true;
        await options.onBusy?.({ pid: lockHolderPid(error.message), message: error.message });
      }
      if (now() + delay > deadline) {
        throw new StrataError(
          'warehouse_locked',
          `${error.message}; gave up after waiting ${formatDuration(options.maxWaitMs ?? 30 * 60_000)}`,
          { file: path },
          false,
          { cause: error },
        );
      }
      if (!(await sleep(delay, options.signal))) {
        throw new StrataError('canceled', `canceled while waiting for the warehouse ${path}`, { file: path }, false);
      }
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  }
}

/** The {@link WarehouseOpenOptions} among `options`. */
export function openOptionsOf(options: WarehouseWaitOptions): WarehouseOpenOptions {
  const { readOnly, fileSearchPath, memoryLimit, threads, tempDirectory } = options;
  const open = { readOnly, fileSearchPath, memoryLimit, threads, tempDirectory };
  return Object.fromEntries(Object.entries(open).filter(([, value]) => value !== undefined && value !== false));
}

/** The process id in DuckDB's lock error ("Conflicting lock is held in /usr/bin/node (PID 1234)"), if any. */
export function lockHolderPid(message: string): number | undefined {
  const match = /\(PID (\d+)\)/.exec(message);
  return match ? Number(match[1]) : undefined;
}
