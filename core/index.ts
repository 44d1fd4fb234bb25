/**
 * Strata's public API: what an asset module imports (`import { asset } from 'strata'`) and
 * what embeds the engine (load a project, select, plan, execute).
 *
 * @example
 * import { asset } from 'strata';
 * export const orders = asset({ key: 'raw/orders', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as id') }) });
 */
export { asset, isAssetDefinition } from './definitions/asset-spec.ts';
export type { AssetDefinition, AssetOptions, AssetSpec, AssetCompute, BackfillPolicy, DependencyOption, MaterializeFn, SqlMaterialization } from './definitions/asset-spec.ts';
export { allPartitions, daily, hourly, identity, monthly, staticMapping, staticPartitions, timeWindow, weekly } from './partitions/index.ts';
export type { PartitionMapping, PartitionsDefinition, PartitionWindow } from './partitions/index.ts';
export { keyToTable, qualifiedTableName, tableToKey } from './definitions/asset-key.ts';
export type { AssetContext, LandingZone, MaterializeResult, Row, SqlParam, StepLogger, StepPartitions, WarehouseSession } from './execution/asset-context.ts';
export { resumeBackfill, startBackfill } from './execution/backfill-runner.ts';
export type { BackfillEnvironment, BackfillOutcome, BackfillRequest } from './execution/backfill-runner.ts';
export { AssetGraph } from './graph/asset-graph.ts';
export { parseSelection, selectAssets } from './selection/index.ts';
export type { AssetSelection, SelectionNode } from './selection/index.ts';
export { buildPlan } from './planning/plan.ts';
export type { Plan, PlanOptions, PlanStep } from './planning/plan.ts';
export type { PartitionRequest } from './planning/partition-request.ts';
export { executeRun } from './execution/executor.ts';
export type { ExecuteRunOptions, RunResult, StepOutcome, StepStatus } from './execution/executor.ts';
export { buildProject, loadProject } from './project/project-loader.ts';
export type { Project } from './project/project-loader.ts';
export { loadProjectConfig, resolveProjectDir } from './project/project-config.ts';
export type { ProjectConfig } from './project/project-config.ts';
export { ConfigError, DefinitionError, DefinitionErrors, NotFoundError, SelectionError, StrataError, UsageError } from './errors.ts';
