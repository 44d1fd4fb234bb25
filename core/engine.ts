/**
 * Strata's engine API (`strata/engine`): load a project, select assets, plan, execute runs and
 * backfills — what the CLI does, for programs that embed Strata.
 *
 * @example
 * const project = await loadProject('assets');
 * const plan = buildPlan(project.graph, selectAssets(project.graph, '+marts/*').keys, { now: new Date() });
 */
export * from './index.ts';
export { resumeBackfill, startBackfill } from './execution/backfill-runner.ts';
export type { BackfillEnvironment, BackfillOutcome, BackfillRequest, ResumeOptions } from './execution/backfill-runner.ts';
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
export { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
export { FileLandingZone } from '../resources/landing-zone.ts';
export { openStorage } from '../storage/index.ts';
export { AssetDaemon } from './daemon/asset-daemon.ts';
export type { AssetDaemonOptions, TickResult } from './daemon/asset-daemon.ts';
export { runDaemonLoop } from './daemon/daemon-loop.ts';
export { evaluateAutomation } from './daemon/automation-evaluation.ts';
export { evaluateSchedules } from './daemon/schedule-evaluation.ts';
