/**
 * Partitions: which keys an asset has (definitions), which upstream keys a downstream key
 * reads (mappings), and compact descriptions of key sets (ranges).
 *
 * @example
 * import { daily, timeWindow } from './partitions/index.ts';
 * const days = daily({ start: '2024-01-01', timezone: 'Europe/Berlin' });
 * timeWindow({ startOffset: -6 }).upstreamKeys('2024-01-10', days, days, now); // 7 days
 */
export type { PartitionWindow, PartitionsDefinition } from './partitions-definition.ts';
export type { PartitionMapping } from './partition-mapping.ts';
export { PartitionKeyError, PartitionMappingError, PartitionsDefinitionError } from './partition-errors.ts';
export { TimeWindowPartitions, daily, hourly, monthly, weekly } from './time-window-partitions.ts';
export type { Cadence, TimeWindowFactoryOptions, TimeWindowPartitionsOptions } from './time-window-partitions.ts';
export { StaticPartitions, staticPartitions } from './static-partitions.ts';
export {
  AllPartitionsMapping,
  IdentityMapping,
  StaticMapping,
  TimeWindowMapping,
  allPartitions,
  defaultMapping,
  identity,
  parseMapping,
  readsSameKey,
  staticMapping,
  timeWindow,
} from './partition-mappings.ts';
export { formatRanges, toRanges } from './partition-ranges.ts';
export type { PartitionRange } from './partition-ranges.ts';
