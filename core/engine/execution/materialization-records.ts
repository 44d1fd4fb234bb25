import { createHash } from 'node:crypto';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { upstreamPartitions, type PlanStep } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { mappingOf } from '../../model/definitions/asset-spec.ts';
import { depsVersionOf } from '../../model/definitions/code-version.ts';
import type { Project } from '../../model/project.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { MaterializationRecord } from '../../../storage/storage.ts';
import type { MaterializeResult } from '../../model/definitions/asset-context.ts';
import { schemaMetadata, type StepSchema } from './step-schema.ts';

/** What a finished step knows when it records its materializations. */
export interface MaterializationInputs {
  readonly project: Project;
  readonly definition: AssetDefinition;
  readonly step: PlanStep;
  readonly result: MaterializeResult;
  readonly session: StepSession;
  readonly runId: string;
  readonly now: Date;
  /** Data version of every asset partition known to the run, by `key@partition`; updated with the new ones. */
  readonly dataVersions: Map<string, string>;
  /** The data sequence number when the step read its inputs. */
  readonly readSeq: number;
  /** The table's schema after the write (absent: none read), recorded in every record's metadata. */
  readonly schema?: StepSchema | undefined;
}

/**
 * One materialization per partition a step wrote (one for an unpartitioned asset), each with
 * the data versions of exactly the upstream partitions its mappings read, and its own row count
 * and incremental counts when the write knows them. The data version is the asset's own, else a
 * hash of its code version, partition and inputs.
 */
export function materializationRecords(inputs: MaterializationInputs): MaterializationRecord[] {
  const { project, definition, step, result, session, runId, now, dataVersions, readSeq } = inputs;
  const schema = schemaMetadata(inputs.schema);
  const { spec } = definition;
  const codeVersion = project.codeVersions.get(spec.key) ?? 'unknown';
  const depsVersion = depsVersionOf(project.graph.parents(spec.key));
  const timestamp = Date.now();
  const single = step.partitions === null || step.partitions.length === 1;
  return (step.partitions ?? [null]).map((partition) => {
    const read: Record<string, string> = {};
    for (const parent of project.graph.parents(spec.key)) {
      const parentSpec = project.graph.spec(parent);
      for (const upstream of upstreamPartitions(mappingOf(spec, parentSpec), partition === null ? null : [partition], spec, parentSpec, now)) {
        const id = partitionId(parent, upstream);
        const version = dataVersions.get(id);
        if (version !== undefined) read[id] = version;
      }
    }
    // Without inputs or a user-given version, every write is new data: the run id makes it unique.
    const basis = `${codeVersion}\n${partition ?? ''}\n${JSON.stringify(read)}\n${Object.keys(read).length === 0 ? runId : ''}`;
    const dataVersion = result.dataVersion ?? createHash('sha256').update(basis).digest('hex').slice(0, 16);
    dataVersions.set(partitionId(spec.key, partition), dataVersion);
    const rows = partition === null ? undefined : session.partitionRows?.get(partition);
    return {
      assetKey: spec.key,
      partition,
      runId,
      timestamp,
      codeVersion,
      dataVersion,
      inputDataVersions: read,
      rowCount: rows ?? (single ? (result.rowCount ?? session.rowsWritten ?? null) : null),
      // A partitioned incremental write counts rows per partition: each partition records its own.
      metadata: { ...result.metadata, ...(partition === null ? {} : session.partitionCounts?.get(partition)), ...schema },
      readSeq,
      depsVersion,
    };
  });
}
