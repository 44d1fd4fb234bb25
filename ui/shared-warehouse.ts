import type { Warehouse } from '../resources/warehouse.ts';
import type { WarehouseWaitOptions } from '../resources/warehouse-wait.ts';

/** Opens the warehouse file, waiting while another process holds it. */
export type WarehouseOpener = (options: WarehouseWaitOptions) => Promise<Warehouse>;

/**
 * The UI server's handle on the DuckDB warehouse: opened when a run needs it, shared by the
 * runs going on at once, and closed when the last of them lets go, so that CLI processes can
 * open the file whenever the UI runs nothing.
 *
 * @example
 * const warehouse = await shared.acquire(signal);
 * try { await executeRun({ ..., warehouse }) } finally { shared.release() }
 */
export class SharedWarehouse {
  readonly #open: WarehouseOpener;
  #users = 0;
  #warehouse: Promise<Warehouse> | undefined;
  /** Stops the wait of the open in progress (when every run waiting for it gave up). */
  #stopOpening: AbortController | undefined;

  constructor(open: WarehouseOpener) {
    this.#open = open;
  }

  /** How many runs hold the warehouse now, or wait for it. */
  get users(): number {
    return this.#users;
  }

  /**
   * The open warehouse, opening it (waiting while another process holds the file) if no run
   * holds it. Runs that come while it opens wait for the same open; each stops waiting when
   * its own `signal` aborts, and the open itself stops once no run waits for it any more.
   * Every successful acquire must be paired with one {@link release}; a failed one needs none.
   */
  async acquire(signal: AbortSignal, onBusy?: WarehouseWaitOptions['onBusy']): Promise<Warehouse> {
    signal.throwIfAborted();
    this.#users += 1;
    if (this.#warehouse === undefined) {
      this.#stopOpening = new AbortController();
      this.#warehouse = this.#open({ signal: this.#stopOpening.signal, ...(onBusy ? { onBusy } : {}) });
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

  /** Lets go of the warehouse; the last user closes it. */
  async release(): Promise<void> {
    this.#users -= 1;
    if (this.#users > 0 || this.#warehouse === undefined) return;
    await this.#forget(this.#warehouse);
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
