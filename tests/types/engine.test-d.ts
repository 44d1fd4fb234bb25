/**
 * Type tests of the engine API (`strata/engine`): the functions a program embedding Strata calls
 * to load, select, plan, run, backfill and tick the daemon, and what they return. Checked by
 * `vitest run` (typecheck, see vitest.config.ts) and by `tsc`.
 */
import { describe, expectTypeOf, test } from 'vitest';
import * as strata from 'strata';
import * as engine from 'strata/engine';
import {
  AssetDaemon,
  AssetGraph,
  buildPlan,
  buildProject,
  DuckDBWarehouse,
  evaluateSchedules,
  executeRun,
  type FileLandingZone,
  loadProject,
  loadProjectConfig,
  openStorage,
  openWarehouse,
  parseSelection,
  resolveProjectDir,
  leadWhileHolding,
  resumeBackfill,
  runDaemonLoop,
  selectAssets,
  startBackfill,
  startApiServer,
} from 'strata/engine';
import type {
  ApiServer,
  Warehouse,
  AssetDaemonOptions,
  AssetDefinition,
  AssetSelection,
  BackfillEnvironment,
  BackfillOutcome,
  BackfillRequest,
  ExecuteRunOptions,
  LandingZone,
  LoadProjectOptions,
  PartitionRequest,
  Plan,
  PlanOptions,
  PlanStep,
  Project,
  ProjectConfig,
  ResumeOptions,
  RunResult,
  ScheduleDefinition,
  AlertRule,
  SelectionNode,
  StepOutcome,
  TickResult,
} from 'strata/engine';

describe('loading a project', () => {
  test('loadProject reads a folder; buildProject assembles definitions in memory', () => {
    expectTypeOf(loadProject).toEqualTypeOf<(dir: string, options?: LoadProjectOptions) => Promise<Project>>();
    expectTypeOf<LoadProjectOptions>().toEqualTypeOf<{ readonly dbtVars?: Readonly<Record<string, unknown>> }>();
    expectTypeOf(buildProject).parameters.toEqualTypeOf<
      [config: ProjectConfig, list: readonly AssetDefinition[], schedules?: readonly ScheduleDefinition[], alerts?: readonly AlertRule[]]
    >();
    expectTypeOf(buildProject).returns.toEqualTypeOf<Project>();
    expectTypeOf(loadProjectConfig).toEqualTypeOf<(dir: string) => ProjectConfig>();
    expectTypeOf(resolveProjectDir).toEqualTypeOf<(explicit: string | undefined, cwd?: string) => string>();
    expectTypeOf<Project['graph']>().toEqualTypeOf<AssetGraph>();
    expectTypeOf<Project['definitions']>().toEqualTypeOf<ReadonlyMap<string, AssetDefinition>>();
    // @ts-expect-error: a folder path, not a config
    void loadProject({ dir: 'assets' });
  });
});

describe('selecting and planning', () => {
  test('selectAssets resolves a selection string against the graph', () => {
    expectTypeOf(selectAssets).toEqualTypeOf<(graph: AssetGraph, text: string) => AssetSelection>();
    expectTypeOf<AssetSelection['keys']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<AssetSelection['node']>().toEqualTypeOf<SelectionNode>();
    expectTypeOf(parseSelection).toEqualTypeOf<(text: string) => SelectionNode>();
  });

  test('buildPlan takes the graph, the selected keys and options, and returns steps', () => {
    expectTypeOf(buildPlan).parameters.toEqualTypeOf<[graph: AssetGraph, selected: Iterable<string>, options?: PlanOptions]>();
    expectTypeOf(buildPlan).returns.toEqualTypeOf<Plan>();
    expectTypeOf<Plan['steps']>().toEqualTypeOf<readonly PlanStep[]>();
    expectTypeOf<PlanStep['partitions']>().toEqualTypeOf<readonly string[] | null>();
    expectTypeOf<PlanOptions['now']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<{ key: string }>().toExtend<PartitionRequest>();
    expectTypeOf<{ from: string; to: string }>().toExtend<PartitionRequest>();
    const graph = AssetGraph.build([]);
    // @ts-expect-error: the selection is resolved first (selectAssets(...).keys), not passed as text
    buildPlan(graph, selectAssets(graph, '*'));
    // @ts-expect-error: now is a Date
    buildPlan(graph, [], { now: '2025-01-01' });
  });
});

describe('running', () => {
  test('executeRun takes the project, plan, storage, warehouse and landing zone, and resolves to a RunResult', () => {
    expectTypeOf(executeRun).toEqualTypeOf<(options: ExecuteRunOptions) => Promise<RunResult>>();
    expectTypeOf<DuckDBWarehouse>().toExtend<ExecuteRunOptions['warehouse']>();
    expectTypeOf<FileLandingZone>().toExtend<LandingZone>();
    expectTypeOf<Awaited<ReturnType<typeof openStorage>>>().toExtend<ExecuteRunOptions['storage']>();
    expectTypeOf<RunResult['status']>().toEqualTypeOf<'queued' | 'running' | 'success' | 'failed' | 'canceled'>();
    expectTypeOf<RunResult['steps']>().toEqualTypeOf<readonly StepOutcome[]>();
    expectTypeOf<StepOutcome['status']>().toEqualTypeOf<'success' | 'failed' | 'skipped' | 'canceled'>();
    // @ts-expect-error: a run needs its storage, warehouse, landing zone and selection too
    void executeRun({ project: {} as Project, plan: { steps: [] } });
  });

  test('openStorage opens SQLite, Postgres or memory storage; DuckDBWarehouse.open and openWarehouse open the warehouse', () => {
    expectTypeOf(openStorage)
      .parameter(0)
      .toEqualTypeOf<{ readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'memory' }>();
    expectTypeOf(openStorage).returns.resolves.toHaveProperty('close').returns.resolves.toBeVoid();
    expectTypeOf(DuckDBWarehouse.open).returns.resolves.toEqualTypeOf<DuckDBWarehouse>();
    expectTypeOf(openWarehouse).returns.resolves.toEqualTypeOf<Warehouse>();
    expectTypeOf<DuckDBWarehouse>().toExtend<Warehouse>();
    expectTypeOf<Warehouse>().toExtend<ExecuteRunOptions['warehouse']>();
    // @ts-expect-error: SQLite storage needs its file
    void openStorage({ kind: 'sqlite' });
  });

  test('backfills start from a request and resume from their record', () => {
    expectTypeOf(startBackfill).parameters.toEqualTypeOf<[env: BackfillEnvironment, request: BackfillRequest]>();
    expectTypeOf(startBackfill).returns.resolves.toEqualTypeOf<BackfillOutcome>();
    expectTypeOf(resumeBackfill).parameter(2).toEqualTypeOf<readonly string[]>();
    expectTypeOf(resumeBackfill).parameter(3).toEqualTypeOf<ResumeOptions | undefined>();
    expectTypeOf(resumeBackfill).returns.resolves.toEqualTypeOf<BackfillOutcome>();
    expectTypeOf<BackfillOutcome['run']>().toEqualTypeOf<RunResult | undefined>();
    expectTypeOf<BackfillRequest['from']>().toBeString();
  });
});

describe('the daemon', () => {
  test('AssetDaemon is built from its options and ticks with runIteration; runDaemonLoop repeats it', () => {
    expectTypeOf(AssetDaemon).constructorParameters.toEqualTypeOf<[options: AssetDaemonOptions]>();
    expectTypeOf<AssetDaemon['runIteration']>().parameters.toEqualTypeOf<[now?: Date]>();
    expectTypeOf<AssetDaemon['runIteration']>().returns.resolves.toEqualTypeOf<TickResult>();
    expectTypeOf(runDaemonLoop).parameter(0).toEqualTypeOf<AssetDaemon>();
    expectTypeOf(runDaemonLoop).returns.resolves.toBeVoid();
    expectTypeOf(evaluateSchedules).parameter(0).toHaveProperty('schedules').toEqualTypeOf<readonly ScheduleDefinition[]>();
    // @ts-expect-error: the loop needs its interval and signal
    void runDaemonLoop({} as AssetDaemon, {});
  });

  test('leadWhileHolding runs the loop while this daemon holds the daemon lock, and says whether it ever led', () => {
    expectTypeOf(leadWhileHolding).parameter(0).toHaveProperty('signal').toEqualTypeOf<AbortSignal>();
    expectTypeOf(leadWhileHolding).returns.resolves.toEqualTypeOf<boolean>();
  });
});

describe('the web UI', () => {
  test('startApiServer serves a workspace on a port and hands back a server to close', () => {
    expectTypeOf(startApiServer).parameter(1).toHaveProperty('port').toEqualTypeOf<number>();
    expectTypeOf(startApiServer).returns.resolves.toEqualTypeOf<ApiServer>();
    expectTypeOf<ApiServer['close']>().returns.resolves.toBeVoid();
  });
});

test('strata/engine re-exports the authoring API unchanged', () => {
  expectTypeOf(engine.asset).toEqualTypeOf(strata.asset);
  expectTypeOf(engine.StrataError).toEqualTypeOf(strata.StrataError);
  expectTypeOf<keyof typeof strata>().toExtend<keyof typeof engine>();
});

test('the value exports strata/engine adds to strata are exactly these (add to the list when the API grows on purpose)', () => {
  expectTypeOf<Exclude<keyof typeof engine, keyof typeof strata>>().toEqualTypeOf<
    | 'resumeBackfill'
    | 'startBackfill'
    | 'AssetGraph'
    | 'parseSelection'
    | 'selectAssets'
    | 'buildPlan'
    | 'executeRun'
    | 'buildProject'
    | 'loadProject'
    | 'loadProjectConfig'
    | 'resolveProjectDir'
    | 'DuckDBWarehouse'
    | 'openWarehouse'
    | 'FileLandingZone'
    | 'openStorage'
    | 'AssetDaemon'
    | 'runDaemonLoop'
    | 'leadWhileHolding'
    | 'evaluateAutomation'
    | 'evaluateSchedules'
    | 'startApiServer'
  >();
});
