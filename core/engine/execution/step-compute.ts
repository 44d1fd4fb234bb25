import type { AssetDefinition, AssetSpec } from '../../model/definitions/asset-spec.ts';
import type { PlanStep } from '../../model/planning/plan.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import { TableOwnershipGuard } from '../../../resources/table-ownership-guard.ts';
import type { ResourceSet } from '../../../resources/resource-set.ts';
import { stepHandles } from '../../../resources/resource-handles.ts';
import { duckdbTypeOf, extractInto } from '../../../resources/postgres-extract.ts';
import type { PostgresResource } from '../../../resources/postgres-resource.ts';
import type { AssetContext, LandingZone, MaterializeResult, StepLogger, StepPartitions } from '../../model/definitions/asset-context.ts';
import { missingFileError } from './missing-file-error.ts';
import { renderSqlTemplate } from '../../model/definitions/sql-template.ts';
import { loadSeed } from './seed-load.ts';
import { runIncrementalSql, type IncrementalSource } from './incremental-step.ts';
import { qualifiedTableName } from '../../model/definitions/asset-key.ts';
import type { IncrementalConfig } from '../../model/definitions/incremental-config.ts';

/** A step's partitions with their local wall-clock windows. */
export interface ResolvedPartitions extends StepPartitions {
  readonly list: readonly { readonly key: string; readonly start?: string; readonly end?: string }[];
}

/** What a step's compute needs from the run. */
export interface StepRunContext {
  readonly runId: string;
  /** The project folder: `{{ project_dir }}` in SQL assets. */
  readonly projectDir: string;
  readonly landing: LandingZone;
  readonly signal: AbortSignal;
  readonly log: StepLogger;
  /** Whether a key names an asset of the project: a TypeScript step may not touch their tables. */
  readonly isAsset: (key: string) => boolean;
  /** When the step started: a snapshot's one "now" (see resources/snapshot-writes.ts). */
  readonly stepStart: Date;
  /** The run's resources (`ctx.resources`). */
  readonly resources: ResourceSet;
  /** `--full-refresh`: incremental assets are rebuilt from scratch. */
  readonly fullRefresh?: boolean;
  /** With `fullRefresh`: snapshots rebuilt from scratch, their history dropped (`--force`). */
  readonly forcedSnapshots?: readonly string[];
}

/** The partitions a step writes, with windows; `undefined` for an unpartitioned asset. */
export function stepPartitions(spec: AssetSpec, step: PlanStep): ResolvedPartitions | undefined {
  const definition = spec.partitions;
  if (!definition || step.partitions === null) return undefined;
  const list = step.partitions.map((key) => ({ key, ...definition.localWindow(key) }));
  const first = list[0];
  const last = list.at(-1);
  return {
    key: list.length === 1 ? (first?.key as string) : `${first?.key}..${last?.key}`,
    keys: step.partitions,
    list,
    ...(first?.start === undefined ? {} : { start: first.start }),
    ...(last?.end === undefined ? {} : { end: last.end }),
  };
}

/**
 * Runs one step's compute inside its session: a SQL asset's query (its partition variables
 * bound to the step's window, its path variables to the project's folders; written with
 * replace-partitions, create-or-replace, or as a snapshot's new versions), a seed's CSV file (see seed-load.ts),
 * or a TypeScript asset's `materialize(ctx)`, which
 * fails if it dropped, replaced, altered or created another asset's table or view. DuckDB's
 * error for a missing file becomes one naming the asset and the file.
 */
export async function computeStep(
  definition: AssetDefinition,
  session: StepSession,
  partitions: ResolvedPartitions | undefined,
  run: StepRunContext,
): Promise<MaterializeResult | void> {
  try {
    return await runCompute(definition, session, partitions, run);
  } catch (error) {
    // A file that is not there (a landing file gone since it was observed): name the asset and the file.
    throw missingFileError(error, definition.spec.key, run.projectDir) ?? error;
  }
}

async function runCompute(
  definition: AssetDefinition,
  session: StepSession,
  partitions: ResolvedPartitions | undefined,
  run: StepRunContext,
): Promise<MaterializeResult | void> {
  const { compute, spec } = definition;
  const values = {
    landing: run.landing.dir,
    project_dir: run.projectDir,
    ...(partitions === undefined ? {} : { partition_key: partitions.key }),
    ...(partitions?.start === undefined ? {} : { partition_start: partitions.start }),
    ...(partitions?.end === undefined ? {} : { partition_end: partitions.end }),
  };
  if (compute.type === 'sql' && compute.incremental) {
    const source = compute.source === undefined ? undefined : incrementalSource(run.resources.get(compute.source), session, spec.key, run.signal);
    return runIncrementalSql(
      session,
      { key: spec.key, ...(definition.file === undefined ? {} : { file: definition.file }) },
      compute.sql,
      compute.incremental,
      values,
      run.fullRefresh === true,
      source,
      compute.incrementalSql,
    );
  }
  if (compute.type === 'sql') {
    const sql = renderSqlTemplate(compute.sql, values);
    if (compute.source !== undefined) {
      const target = { session, ownTable: session.tableOf(spec.key), partitioned: partitions !== undefined, signal: run.signal };
      return { rowCount: await extractInto(run.resources.get(compute.source), sql, target) };
    }
    if (partitions) return { rowCount: await session.replacePartitions(sql) };
    if (compute.snapshot) {
      const rebuild = run.fullRefresh === true && (run.forcedSnapshots ?? []).includes(spec.key);
      const written = await session.writeSnapshot(
        sql,
        compute.snapshot,
        run.stepStart,
        { assetKey: spec.key, ...(definition.file === undefined ? {} : { file: definition.file }) },
        rebuild,
      );
      return { rowCount: written.rows, metadata: { rowsInserted: written.inserted, rowsClosed: written.closed } };
    }
    if (compute.materialization === 'view') {
      await session.replaceView(sql);
      return {};
    }
    return { rowCount: await session.replaceTable(sql) };
  }
  if (compute.type === 'seed') return loadSeed(definition, compute, session);
  if (compute.type === 'source') throw new Error(`${spec.key} is a source asset: it is observed, not materialized`);
  const incremental = compute.incremental ? await incrementalState(session, spec.key, compute.incremental, run.fullRefresh === true) : {};
  // The engine's own statements (above) write only the asset's table; user code is checked.
  const warehouse = new TableOwnershipGuard(session, spec.key, run.isAsset);
  const ctx: AssetContext = {
    key: spec.key,
    runId: run.runId,
    table: session.tableOf(spec.key),
    deps: spec.deps,
    config: compute.config ?? {},
    warehouse,
    landing: run.landing,
    log: run.log,
    signal: run.signal,
    resources: stepHandles(run.resources, run.signal, {
      session: warehouse,
      table: session.tableOf(spec.key),
      partitioned: partitions !== undefined,
      dialect: session.dialect,
    }),
    ...incremental,
    ...(partitions
      ? { partition: { key: partitions.key, keys: partitions.keys, ...(partitions.start ? { start: partitions.start, end: partitions.end as string } : {}) } }
      : {}),
  };
  const result = await compute.materialize(ctx);
  await warehouse.verify();
  return result;
}

/** An incremental `source:` asset's Postgres resource, extracting within the step's transaction. */
function incrementalSource(resource: PostgresResource, session: StepSession, key: string, signal: AbortSignal | undefined): IncrementalSource {
  const target = { session, ownTable: session.tableOf(key), partitioned: false, ...(signal === undefined ? {} : { signal }) };
  return {
    async columnType(select, column) {
      const found = (await resource.columns(select, signal)).find((c) => c.name === column);
      return found === undefined ? undefined : duckdbTypeOf(found);
    },
    async extract(select, into) {
      await extractInto(resource, select, into === undefined ? target : { ...target, into });
    },
  };
}

/**
 * `ctx.isIncremental` and `ctx.watermark` of an incremental TypeScript asset; in a partitioned
 * step, of the step's window. A full refresh drops the table first (a partitioned step: deletes
 * its window's rows), in the step's transaction, so the asset builds it from scratch.
 */
async function incrementalState(
  session: StepSession,
  key: string,
  config: IncrementalConfig,
  fullRefresh: boolean,
): Promise<{ isIncremental: boolean; watermark?: string | null }> {
  const table = qualifiedTableName(key);
  if (fullRefresh && session.scope === undefined) await session.run(`DROP TABLE IF EXISTS ${table}`);
  const { columns, window, hasRows } = await session.incrementalStart();
  if (fullRefresh && window !== undefined) await session.run(`DELETE FROM ${table} WHERE ${window}`);
  const isIncremental = hasRows && !fullRefresh;
  if (config.watermark === undefined) return { isIncremental };
  if (!isIncremental || !columns.has(config.watermark)) return { isIncremental, watermark: null };
  return { isIncremental, watermark: await session.tableWatermark(config.watermark, window) };
}
