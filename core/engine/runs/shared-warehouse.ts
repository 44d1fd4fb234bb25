/**
 * One process's hold on the DuckDB warehouse: opened when a run needs it, shared by the runs
 * going on at once, closed when the last of them lets go. DuckDB lets one process write a file
 * at a time, so a daemon or UI server that kept it open while idle would lock out
 * `assets materialize` in another terminal. A warehouse of many writers (Postgres) may stay open
 * between runs instead (`keepOpen`): a worker then connects once, not once a run. The CLI, the daemon and the UI all hold the
 * warehouse through this class (by way of the run service).
 */
import type { Warehouse } from '../../../resources/warehouse.ts';

/** Who holds the warehouse file, as DuckDB's lock error names it. */
export interface WarehouseHolder {
  readonly pid: number | undefined;
  readonly message: string;
}

/** How a {@link WarehouseOpener} waits. */
export interface WarehouseOpenWait {
  /** Aborting stops the wait (the open then fails with code `canceled`). */
  readonly signal: AbortSignal;
  /** Called once, when the file is first found busy. */
  readonly onBusy?: (holder: WarehouseHolder) => Promise<void> | void;
}

/** Opens the warehouse file, waiting while another process holds it. */
export type WarehouseOpener = (wait: WarehouseOpenWait) => Promise<Warehouse>;

/**
 * Where a {@link SharedWarehouse} gets its warehouse: an open warehouse it never closes (tests,
 * embedding), or an opener it calls when a run needs the file and no run holds it.
 */
export type WarehouseSource = Warehouse | WarehouseOpener;

/** How a {@link SharedWarehouse} holds its warehouse. */
export interface SharedWarehouseOptions {
  /** Keep an opened warehouse open while no run holds it, until {@link SharedWarehouse.close} (default: close it when the last run lets go). */
  readonly keepOpen?: boolean;
}

/**
 * A reference-counted warehouse with per-caller abort: runs that come while it opens wait for
 * the same open; each stops waiting when its own signal aborts, and the open itself stops once
 * no run waits for it any more.
 *
 * @example
 * const shared = new SharedWarehouse((wait) => openProjectWarehouse(project.config, wait));
 * const warehouse = await shared.acquire(signal);
 * try { await executeRun({ warehouse, ... }) } finally { await shared.release() }
 */
export class SharedWarehouse {
  readonly #open: WarehouseOpener | undefined;
  readonly #fixed: Warehouse | undefined;
  #users = 0;
  #warehouse: Promise<Warehouse> | undefined;
  /** Stops the wait of the open in progress (when every run waiting for it gave up). */
  #stopOpening: AbortController | undefined;
  #keepOpen: boolean;

  constructor(source: WarehouseSource, options: SharedWarehouseOptions = {}) {
    if (typeof source === 'function') this.#open = source;
    else this.#fixed = source;
    this.#keepOpen = options.keepOpen ?? false;
  }

  /** How many runs hold the warehouse now, or wait for it. */
  get users(): number {
    return this.#users;
  }

  /**
   * The open warehouse, opening it (waiting while another process holds the file) if no run
   * holds it; `onBusy` hears about a busy file when this call starts the open. Every
   * successful acquire must be paired with one {@link release}; a failed one needs none.
   */
  async acquire(signal: AbortSignal, onBusy?: WarehouseOpenWait['onBusy']): Promise<Warehouse> {
    signal.throwIfAborted();
    this.#users += 1;
    if (this.#fixed !== undefined) return this.#fixed;
    if (this.#warehouse === undefined) {
      this.#stopOpening = new AbortController();
      this.#warehouse = (this.#open as WarehouseOpener)({ signal: this.#stopOpening.signal, ...(onBusy ? { onBusy } : {}) });
    }
    const opening = this.#warehouse;
    try {
      return await untilAborted(opening, signal);
    } catch (error) {
      this.#users -= 1;
      if (this.#warehouse === opening && (this.#users === 0 || !signal.aborted)) void this.#forget(opening);
      throw error;
    }
  }

  /**
   * Read access that holds the warehouse for each query only (a daemon tick observing a dbt
   * source between runs: the file is not kept from other processes after it).
   */
  reader(signal: AbortSignal): { query<T extends Record<string, unknown>>(sql: string): Promise<T[]> } {
    return {
      query: async <T extends Record<string, unknown>>(sql: string): Promise<T[]> => {
        const warehouse = await this.acquire(signal);
        try {
          return await warehouse.query<T>(sql);
        } finally {
          await this.release();
        }
      },
    };
  }

  /** Lets go of the warehouse; the last user closes it (an open warehouse given to the constructor stays open). */
  async release(): Promise<void> {
    this.#users -= 1;
    if (this.#users > 0 || this.#warehouse === undefined || this.#keepOpen) return;
    await this.#forget(this.#warehouse);
  }

  /** Whether a warehouse is open (or opening), held by a run or kept open. */
  get isOpen(): boolean {
    return this.#warehouse !== undefined;
  }

  /** Closes a warehouse kept open (see `keepOpen`) now, or when the runs holding it let go. */
  async close(): Promise<void> {
    this.#keepOpen = false;
    if (this.#users === 0 && this.#warehouse !== undefined) await this.#forget(this.#warehouse);
  }

  /**
   * Drops `opening` (done with, failed, or nobody waits for it): with no user left, stops its
   * wait and closes the warehouse once it is open.
   */
  #forget(opening: Promise<Warehouse>): Promise<void> {
    this.#warehouse = undefined;
    if (this.#users > 0) return Promise.resolve(); // the open failed: the runs waiting for it fail with it
    this.#stopOpening?.abort();
    this.#stopOpening = undefined;
    return opening.then(
      (warehouse) => warehouse.close(),
      () => undefined,
    );
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
