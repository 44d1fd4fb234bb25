import type { PartitionsDefinition } from './partitions-definition.ts';

/**
 * Which upstream partitions one downstream partition reads. `null` stands for "unpartitioned"
 * on either side.
 */
export interface PartitionMapping {
  readonly type: 'identity' | 'time_window' | 'all' | 'static';
  /**
   * Upstream keys read by `downstreamKey` (only keys that exist upstream at `now`), in order;
   * `[null]` when the upstream asset is unpartitioned.
   */
  upstreamKeys(
    downstreamKey: string | null,
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    now: Date,
  ): readonly (string | null)[];
  /** A stable text form, e.g. `window(-6, 0)`. */
  toString(): string;
}
