import type { PlanStep } from '../../model/planning/plan.ts';
import type { CheckRun } from './check-runner.ts';
import { checkEvents } from './check-events.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { EventRecord, MaterializationRecord, StepCommit } from '../../../storage/storage.ts';
import type { MaterializeResult } from '../../model/definitions/asset-context.ts';
import type { RunEvents } from './run-events.ts';
import { rangeData, single, sumRows } from './step-helpers.ts';
import { incrementalCounts } from '../../model/definitions/incremental-config.ts';
import { snapshotCounts } from '../../model/definitions/snapshot-config.ts';
import { writeSummaryText } from '../../model/format/write-summary-text.js';
import { schemaChangeLevel, schemaChangeText } from '../../model/schema/table-schema.ts';
import type { StepSchema } from './step-schema.ts';

/** What a step that wrote and passed its checks records. */
export interface StepSuccess {
  /** Its events (logs, materialization, checks, step_success), materializations and check results. */
  readonly commit: Required<Omit<StepCommit, 'releaseLeases'>>;
  /** Rows written, when known. */
  readonly rowCount: number | null;
}

/** What {@link stepSuccess} is built from. */
export interface StepSuccessInputs {
  readonly events: RunEvents;
  readonly step: PlanStep;
  /** The step's `log` events so far. */
  readonly logs: readonly EventRecord[];
  readonly materializations: MaterializationRecord[];
  readonly checks: readonly CheckRun[];
  readonly result: MaterializeResult;
  readonly session: StepSession;
  readonly durationMs: number;
  /** The table's schema after the write: a change is recorded as a `schema_change` event. */
  readonly schema?: StepSchema | undefined;
}

/**
 * The storage commit of a successful step, built before its warehouse transaction commits (the
 * warehouse keeps a copy in that transaction; see commit-recovery.ts).
 */
export function stepSuccess(inputs: StepSuccessInputs): StepSuccess {
  const { events, step, materializations, result, session, durationMs } = inputs;
  const { key } = step;
  const partition = single(step);
  const rowCount = sumRows(materializations) ?? result.rowCount ?? session.rowsWritten ?? null;
  const incremental = incrementalCounts(result.metadata);
  const snapshot = snapshotCounts(result.metadata);
  const written = writeSummaryText(result.metadata);
  const change = inputs.schema?.change;
  const commit = {
    events: [
      ...inputs.logs,
      events.step(
        'materialization',
        key,
        partition,
        `materialized ${step.id}${rowCount === null ? '' : ` (${rowCount} rows)`}${written === null ? '' : `: ${written}`}`,
        'info',
        {
          rowCount,
          ...(incremental ? { incremental } : {}),
          ...(snapshot ? { snapshot } : {}),
          dataVersion: materializations[0]?.dataVersion,
          codeVersion: materializations[0]?.codeVersion,
          ...rangeData(step),
        },
      ),
      ...(change === undefined
        ? []
        : [
            events.step('schema_change', key, partition, `schema changed: ${schemaChangeText(change)}`, schemaChangeLevel(change), {
              ...change,
              ...rangeData(step),
            }),
          ]),
      ...checkEvents(events, step, inputs.checks),
      events.step('step_success', key, partition, `finished ${step.id} in ${durationMs.toFixed(0)} ms`, 'info', { durationMs, rowCount, ...rangeData(step) }),
    ],
    materializations,
    checkResults: inputs.checks.flatMap((c) => c.results),
  };
  return { commit, rowCount };
}
