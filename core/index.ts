/**
 * Strata's authoring API: what an asset module imports. It stays small so that loading a
 * project's modules costs little; the engine (load, select, plan, execute) is `strata/engine`.
 *
 * @example
 * import { asset, daily } from 'strata';
 * export const orders = asset({ key: 'raw/orders', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as id') }) });
 */
export { asset, isAssetDefinition } from './model/definitions/asset-spec.ts';
export { sourceAsset } from './model/definitions/source-asset.ts';
export { postgresTable } from './model/definitions/postgres-table.ts';
export type { PostgresTableOptions } from './model/definitions/postgres-table.ts';
export { incremental } from './model/definitions/incremental-config.ts';
export type { IncrementalConfig, IncrementalOptions, IncrementalStrategy, OnSchemaChange } from './model/definitions/incremental-config.ts';
export type { MergeOptions, MergeResult } from './model/definitions/incremental-config.ts';
export type { ObserveContext, ObserveFn, PreviousObservation, SourceAssetOptions, SourceObservation } from './model/definitions/source-asset.ts';
export type {
  AssetDefinition,
  AssetOptions,
  AssetSpec,
  AssetCompute,
  BackfillPolicy,
  DependencyOption,
  MaterializeFn,
  SqlMaterialization,
} from './model/definitions/asset-spec.ts';
export { allPartitions, daily, hourly, identity, monthly, staticMapping, staticPartitions, timeWindow, weekly } from './model/partitions/index.ts';
export type { PartitionMapping, PartitionsDefinition, PartitionWindow } from './model/partitions/index.ts';
export { all, any, eager, onCron, onMissing, AutomationCondition } from './model/definitions/automation-condition.ts';
export { schedule } from './model/definitions/schedule-definition.ts';
export { alert } from './model/config/alert-rules.ts';
export {
  acceptedRange,
  acceptedValues,
  customSql,
  freshness,
  notEmptyString,
  notNull,
  relationships,
  rowCount,
  rowCountAnomaly,
  schema,
  unique,
} from './model/definitions/check-spec.ts';
export type { CheckOptions, CheckSeverity, CheckSpec } from './model/definitions/check-spec.ts';
export type { ScheduleDefinition, ScheduleOptions, SchedulePartition } from './model/definitions/schedule-definition.ts';
export type { AlertKind, AlertRule, AlertRuleOptions, AlertTarget } from './model/config/alert-rules.ts';
export type { FreshnessPolicy, FreshnessPolicyOptions } from './model/definitions/freshness-policy.ts';
export { keyToTable, qualifiedTableName, tableToKey } from './model/definitions/asset-key.ts';
export type {
  AssetContext,
  ExtractOptions,
  PostgresHandle,
  PostgresStepHandle,
  LandingZone,
  MaterializeResult,
  Row,
  SqlParam,
  StepLogger,
  StepPartitions,
  WarehouseSession,
} from './model/definitions/asset-context.ts';
export { ConfigError, DefinitionError, DefinitionErrors, NotFoundError, ResourceError, SelectionError, StrataError, UsageError } from './model/errors.ts';
