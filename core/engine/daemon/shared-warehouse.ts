/**
 * The daemon's hold on the DuckDB warehouse: opened when a run starts, shared by the runs going
 * at once, closed when the last one ends. DuckDB lets one process write a file at a time, so a
 * daemon that kept it open while idle would lock out `assets materialize` in another terminal.
 */
import type { Warehouse } from '../../../resources/warehouse.ts';

/** Where the daemon's warehouse comes from: an open warehouse it never closes, or a way to open one. */
export type WarehouseSource = Warehouse | { readonly open: (signal: AbortSignal) => Promise<Warehouse> };

/**
 * A reference-counted warehouse.
 *
 * @example
 * const shared = new SharedWarehouse({ open: (signal) => openWarehouseWhenFree(file, { signal }) });
 * const warehouse = await shared.acquire(signal);
 * try { await executeRun({ warehouse, ... }) } finally { shared.release() }
 */
export class SharedWarehouse {
  readonly #source: WarehouseSource;
  #users = 0;
  #opening: Promise<Warehouse> | undefined;

  constructor(source: WarehouseSource) {
    this.#source = source;
  }

  /** The warehouse, opened if no run holds it; pair every call with {@link release}. */
  async acquire(signal: AbortSignal): Promise<Warehouse> {
    const source = this.#source;
    if (!('open' in source)) return source;
    this.#users++;
    this.#opening ??= source.open(signal);
    try {
      return await this.#opening;
    } catch (error) {
      this.#users--;
      if (this.#users === 0) this.#opening = undefined;
      throw error;
    }
  }

  /** Gives the warehouse back; the last user's release closes it. */
  release(): void {
    if (!('open' in this.#source)) return;
    this.#users--;
    if (this.#users > 0) return;
    const opening = this.#opening;
    this.#opening = undefined;
    void opening?.then(
      (warehouse) => warehouse.close(),
      () => undefined,
    );
  }
}
