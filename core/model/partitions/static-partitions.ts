import { PartitionKeyError, PartitionsDefinitionError } from './partition-errors.ts';
import type { PartitionsDefinition } from './partitions-definition.ts';

const STATIC_KEY = /^[A-Za-z0-9_.-]+$/;
/** How many keys an error message lists before eliding the rest. */
const LISTED_KEYS = 10;

/**
 * A fixed list of keys (regions, customers, sources), all existing at any time and in the
 * order given. Static keys have no time window.
 *
 * @example
 * const regions = staticPartitions(['eu', 'us', 'apac']);
 * regions.keysBetween('eu', 'us', now); // ['eu', 'us']
 * String(regions); // 'static(eu, us, apac)'
 */
export class StaticPartitions implements PartitionsDefinition {
  readonly type = 'static';
  readonly staticKeys: readonly string[];
  private readonly positions: ReadonlyMap<string, number>;

  /** Throws when `keys` is empty, has duplicates, or a key is not made of `A-Z a-z 0-9 _ . -`. */
  constructor(keys: readonly string[]) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new PartitionsDefinitionError('static partitions need at least one key');
    }
    const positions = new Map<string, number>();
    for (const key of keys) {
      if (typeof key !== 'string' || !STATIC_KEY.test(key)) {
        throw new PartitionsDefinitionError(`static partition key ${JSON.stringify(key)} is invalid (use letters, digits, "_", "." and "-")`);
      }
      if (positions.has(key)) throw new PartitionsDefinitionError(`static partition key "${key}" is listed twice`);
      positions.set(key, positions.size);
    }
    this.staticKeys = Object.freeze([...keys]);
    this.positions = positions;
    Object.freeze(this);
  }

  /** Every key, in the order given (`now` does not matter). */
  keys(_now: Date): readonly string[] {
    return this.staticKeys;
  }

  has(key: string, _now: Date): boolean {
    return this.positions.has(key);
  }

  validateKey(key: string, _now: Date): void {
    this.positionOf(key);
  }

  /** Static keys have no time window. */
  window(_key: string): undefined {
    return undefined;
  }

  /** Static keys have no time window. */
  localWindow(_key: string): undefined {
    return undefined;
  }

  /** Keys from `from` to `to` inclusive, in list order; both must be keys, `from` not after `to`. */
  keysBetween(from: string, to: string, _now: Date): readonly string[] {
    const first = this.positionOf(from);
    const last = this.positionOf(to);
    if (first > last) {
      throw new PartitionKeyError(`partition range ${from}..${to} is reversed: "${from}" comes after "${to}" in ${this}`, from);
    }
    return Object.freeze(this.staticKeys.slice(first, last + 1));
  }

  /** `static(a, b, c)`. */
  /** JSON shows the stable text form, not internal fields. */
  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    return `static(${this.staticKeys.join(', ')})`;
  }

  private positionOf(key: string): number {
    const position = this.positions.get(key);
    if (position === undefined) {
      const listed = this.staticKeys.slice(0, LISTED_KEYS).join(', ');
      const more = this.staticKeys.length > LISTED_KEYS ? `, … ${this.staticKeys.length - LISTED_KEYS} more` : '';
      throw new PartitionKeyError(`partition "${key}" is not one of the static partitions (${listed}${more})`, key);
    }
    return position;
  }
}

/** Static partitions with these keys; see {@link StaticPartitions}. */
export function staticPartitions(keys: readonly string[]): StaticPartitions {
  return new StaticPartitions(keys);
}
