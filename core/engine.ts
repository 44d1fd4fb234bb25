/**
 * Strata's engine API (`strata/engine`): load a project, select assets, plan, execute runs and
 * backfills — what the CLI does, for programs that embed Strata.
 *
 * @example
 * const project = await loadProject('assets');
 * const plan = buildPlan(project.graph, selectAssets(project.graph, '+marts/*').keys, { now: new Date() });
 */
export * from './index.ts';
export { resumeBackfill, startBackfill } from './engine/execution/backfill-runner.ts';
export type { BackfillEnvironment, BackfillOutcome, BackfillRequest, ResumeOptions } from './engine/execution/backfill-runner.ts';
export { AssetGraph } from './model/graph/asset-graph.ts';
export { parseSelection, selectAssets } from './model/selection/index.ts';
export type { AssetSelection, SelectionNode } from './model/selection/index.ts';
export { buildPlan } from './model/planning/plan.ts';
export type { Plan, PlanOptions, PlanStep } from './model/planning/plan.ts';
export type { PartitionRequest } from './model/planning/partition-request.ts';
export { executeRun } from './engine/execution/executor.ts';
export type { ExecuteRunOptions, RunResult, StepOutcome, StepStatus } from './engine/execution/executor.ts';
export { loadProject } from './engine/project/project-loader.ts';
export type { LoadProjectOptions } from './engine/project/project-loader.ts';
export { buildProject } from './model/project.ts';
export type { Project } from './model/project.ts';
export { loadProjectConfig, resolveProjectDir } from './engine/project/project-config.ts';
export type { ProjectConfig } from './model/config/project-config.ts';
export { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
export { openWarehouse } from '../resources/open-warehouse.ts';
export type { OpenWarehouseOptions } from '../resources/open-warehouse.ts';
export type { StepSession, Warehouse } from '../resources/warehouse.ts';
export { FileLandingZone } from '../resources/landing-zone.ts';
export { openStorage } from '../storage/index.ts';
export { AssetDaemon } from './engine/daemon/asset-daemon.ts';
export type { AssetDaemonOptions, TickResult } from './engine/daemon/asset-daemon.ts';
export { runDaemonLoop } from './engine/daemon/daemon-loop.ts';
export type { DaemonLoopOptions } from './engine/daemon/daemon-loop.ts';
export { leadWhileHolding } from './engine/daemon/daemon-leadership.ts';
export type { LeadershipOptions } from './engine/daemon/daemon-leadership.ts';
export { evaluateAutomation } from './engine/daemon/automation-evaluation.ts';
export { evaluateSchedules } from './engine/daemon/schedule-evaluation.ts';
export { startApiServer } from '../ui/server.ts';
export type { ApiServer, ListenOptions } from '../ui/server.ts';
