import type { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import type { WarehouseWaitOptions } from '../resources/warehouse-wait.ts';

/** Opens the warehouse file, waiting while another process holds it. */
export type WarehouseOpener = (options: WarehouseWaitOptions) => Promise<DuckDBWarehouse>;

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
  #warehouse: Promise<DuckDBWarehouse> | undefined;

  constructor(open: WarehouseOpener) {
    this.#open = open;
  }

  /** How many runs hold the warehouse now. */
  get users(): number {
    return this.#users;
  }

  /**
   * The open warehouse, opening it (waiting, abortable by `signal`) if no run holds it. Every
   * successful acquire must be paired with one {@link release}; a failed one needs none.
   */
  async acquire(signal: AbortSignal, onBusy?: WarehouseWaitOptions['onBusy']): Promise<DuckDBWarehouse> {
    this.#users += 1;
    // The first user's signal governs the wait; later users wait for the same open.
    this.#warehouse ??= this.#open({ signal, ...(onBusy ? { onBusy } : {}) });
    const opening = this.#warehouse;
    try {
      return await opening;
    } catch (error) {
      if (this.#warehouse === opening) this.#warehouse = undefined;
      this.#users -= 1;
      throw error;
    }
  }

  /** Lets go of the warehouse; the last user closes it. */
  async release(): Promise<void> {
    this.#users -= 1;
    if (this.#users > 0 || this.#warehouse === undefined) return;
    const opening = this.#warehouse;
    this.#warehouse = undefined;
    (await opening.catch(() => undefined))?.close();
  }
}
