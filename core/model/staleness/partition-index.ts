import type { PartitionMapping } from '../partitions/partition-mapping.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';

/**
 * Partition keys and mapping lookups by index, memoized per partitions definition and mapping
 * for one clock: thousands of assets sharing one daily definition and one mapping list their
 * keys and resolve their upstream partitions once.
 */
export class PartitionIndex {
  readonly #now: Date;
  // Keyed by the definition's text form: equal definitions print equally, so assets whose
  // definitions were built separately (one per SQL header) still share one entry.
  readonly #keys = new Map<string, readonly (string | null)[]>();
  readonly #positions = new Map<string, ReadonlyMap<string | null, number>>();
  readonly #upstream = new Map<string, UpstreamIndexes>();

  constructor(now: Date) {
    this.#now = now;
  }

  /** The partitions of a definition at the clock, in order; `[null]` for an unpartitioned asset. */
  keys(definition: PartitionsDefinition | undefined): readonly (string | null)[] {
    const text = textOf(definition);
    let keys = this.#keys.get(text);
    if (keys === undefined) {
      keys = definition === undefined ? [null] : definition.keys(this.#now);
      this.#keys.set(text, keys);
    }
    return keys;
  }

  /** Position of every partition key of a definition. */
  positions(definition: PartitionsDefinition | undefined): ReadonlyMap<string | null, number> {
    const text = textOf(definition);
    let positions = this.#positions.get(text);
    if (positions === undefined) {
      positions = new Map(this.keys(definition).map((key, i) => [key, i]));
      this.#positions.set(text, positions);
    }
    return positions;
  }

  /** For every partition of `child`, the positions of the `parent` partitions it reads through `mapping`. */
  upstream(mapping: PartitionMapping, child: PartitionsDefinition | undefined, parent: PartitionsDefinition | undefined): UpstreamIndexes {
    const id = `${textOf(child)}|${textOf(parent)}|${mapping.type}:${mapping.toString()}`;
    let found = this.#upstream.get(id);
    if (found === undefined) {
      found = this.#resolve(mapping, child, parent);
      this.#upstream.set(id, found);
    }
    return found;
  }

  #resolve(mapping: PartitionMapping, child: PartitionsDefinition | undefined, parent: PartitionsDefinition | undefined): UpstreamIndexes {
    const childKeys = this.keys(child);
    if (readsSamePartition(mapping, child, parent)) {
      // Partition i reads the parent's partition i: the mapping need not be asked for each.
      const offsets = Int32Array.from({ length: childKeys.length + 1 }, (_, i) => i);
      return { offsets, indexes: offsets.subarray(0, childKeys.length) };
    }
    const parentPositions = this.positions(parent);
    const offsets = new Int32Array(childKeys.length + 1);
    const indexes: number[] = [];
    childKeys.forEach((key, i) => {
      for (const upstream of mapping.upstreamKeys(key, child, parent, this.#now)) {
        const position = parentPositions.get(upstream);
        if (position !== undefined) indexes.push(position);
      }
      offsets[i + 1] = indexes.length;
    });
    return { offsets, indexes: Int32Array.from(indexes) };
  }
}

/** Upstream positions of child partition `i`: `indexes[offsets[i] .. offsets[i + 1])`. */
export interface UpstreamIndexes {
  readonly offsets: Int32Array;
  readonly indexes: Int32Array;
}

/**
 * Whether `mapping` maps each partition of `child` to the same partition of `parent`: the two
 * definitions are equal (they print the same), and the mapping is `identity`, or a time window
 * of offsets 0 on time-window partitions (the child's window is exactly one parent window).
 */
function readsSamePartition(mapping: PartitionMapping, child: PartitionsDefinition | undefined, parent: PartitionsDefinition | undefined): boolean {
  if (child === undefined || parent === undefined || textOf(child) !== textOf(parent)) return false;
  if (mapping.type === 'identity') return true;
  return mapping.type === 'time_window' && child.type === 'time_window' && mapping.toString() === 'window(0, 0)';
}

function textOf(definition: PartitionsDefinition | undefined): string {
  return definition === undefined ? '' : definition.toString();
}
