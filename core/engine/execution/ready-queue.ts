import { MinHeap } from '../../model/collections/min-heap.ts';

/**
 * The steps of a run that are ready to start, by their index in the plan. {@link take} gives
 * the first one in plan order whose asset has no step running (steps of one asset never run at
 * once) and marks that asset busy until {@link finish}. Each operation is O(log n), so a run of
 * hundreds of thousands of ready steps of one asset does not rescan them all for every start.
 *
 * @example
 * const queue = new ReadyQueue((i) => plan.steps[i].key);
 * queue.add(0); queue.add(1);
 * queue.take(); // 0 (its asset is now busy)
 * queue.take(); // undefined when step 1 is of the same asset
 */
export class ReadyQueue {
  readonly #keyOf: (index: number) => string;
  /** Ready steps of each asset. */
  readonly #byAsset = new Map<string, MinHeap>();
  /** The first ready step of each idle asset (entries go stale and are dropped as they surface). */
  readonly #heads = new MinHeap();
  readonly #busy = new Set<string>();
  #size = 0;

  constructor(keyOf: (index: number) => string) {
    this.#keyOf = keyOf;
  }

  /** Ready steps not taken yet. */
  get size(): number {
    return this.#size;
  }

  add(index: number): void {
    const key = this.#keyOf(index);
    let heap = this.#byAsset.get(key);
    if (heap === undefined) this.#byAsset.set(key, (heap = new MinHeap()));
    heap.push(index);
    this.#size++;
    if (!this.#busy.has(key) && heap.peek() === index) this.#heads.push(index);
  }

  /** The first ready step, in plan order, of an asset with no step running; its asset is busy until {@link finish}. */
  take(): number | undefined {
    for (let index = this.#heads.pop(); index !== undefined; index = this.#heads.pop()) {
      const key = this.#keyOf(index);
      const heap = this.#byAsset.get(key);
      // A stale entry: its asset is busy, or the step was taken, or an earlier one became its head.
      if (this.#busy.has(key) || heap?.peek() !== index) continue;
      heap.pop();
      this.#size--;
      this.#busy.add(key);
      return index;
    }
    return undefined;
  }

  /** The step of `key` that was taken has ended: the asset's next ready step may start. */
  finish(key: string): void {
    this.#busy.delete(key);
    const head = this.#byAsset.get(key)?.peek();
    if (head !== undefined) this.#heads.push(head);
  }
}
