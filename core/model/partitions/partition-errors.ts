import { StrataError } from '../errors.ts';

/**
 * A partition key that is malformed, outside its definition or not available yet.
 *
 * @example
 * daily({ start: '2024-01-01' }).validateKey('2023-12-31', now);
 * // PartitionKeyError: partition "2023-12-31" is before the first partition 2024-01-01
 */
export class PartitionKeyError extends StrataError {
  constructor(message: string, partition?: string) {
    super('partition_invalid', message, partition === undefined ? {} : { partition });
  }
}

/** A partitions definition with bad options (time zone, start, end, keys). */
export class PartitionsDefinitionError extends StrataError {
  constructor(message: string, options?: ErrorOptions) {
    super('partitions_invalid', message, {}, true, options);
  }
}

/** A partition mapping that cannot be parsed, or does not fit the definitions it is used with. */
export class PartitionMappingError extends StrataError {
  constructor(message: string, partition?: string) {
    super('partition_mapping_invalid', message, partition === undefined ? {} : { partition });
  }
}
