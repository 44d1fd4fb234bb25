/**
 * OpenLineage emission: a run observer that turns each step's recorded events into OpenLineage
 * `RunEvent`s (START at `step_start`; COMPLETE at `step_success`; FAIL, or ABORT for a canceled
 * step, at its `step_failure`) and hands them to the configured transport. It only notes events
 * as they are recorded; the events are built in the background, in order, reading the step's
 * materialization (schema, data versions read) from storage and the project's column lineage.
 * A skipped step never started: it emits nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import type { Project } from '../../model/project.ts';
import type { OpenLineageSettings } from '../../model/config/openlineage-settings.ts';
import type { AssetColumnLineage } from '../../model/lineage/column-lineage.ts';
import { columnLineageOf, DatasetNames, warehouseNamespace } from '../../model/openlineage/openlineage-datasets.ts';
import { stepRunUuid, strataRunUuid } from '../../model/openlineage/openlineage-ids.ts';
import { stepRunEvent, type AssertionSpec, type InputDatasetSpec, type StepEventType } from '../../model/openlineage/openlineage-run-event.ts';
import { openLineageTransport, type OpenLineageTransport } from '../../../resources/openlineage/openlineage-transport.ts';
import { PACKAGE_ROOT } from '../package-location.ts';
import { projectColumnLineage } from '../lineage/project-column-lineage.ts';
import { assertionOf } from './openlineage-assertions.ts';

/** The job name of the Strata run every step's run has as its parent. */
export const PARENT_JOB_NAME = 'strata_run';

/** What the observer reads besides the project (a run observer's context, see core/engine/runs/run-observers.ts). */
export interface OpenLineageContext {
  /** The storage the runs are recorded in (read in the background). */
  readonly storage: () => Promise<Storage>;
  /** Where news for a person goes, each piece said once. */
  readonly notice: (message: string) => void;
}

/** The OpenLineage observers the project's configuration asks for: one, or none. */
export function openLineageObservers(project: Project, context: OpenLineageContext): OpenLineageObserver[] {
  const settings = project.config.openlineage;
  if (settings === undefined) return [];
  const transport = openLineageTransport(settings.transport, { outboxDir: join(project.config.dir, '.strata', 'openlineage'), notice: context.notice });
  return [new OpenLineageObserver({ project, settings, transport, ...context })];
}

/** What an {@link OpenLineageObserver} works with. */
export interface OpenLineageObserverOptions extends OpenLineageContext {
  readonly project: Project;
  readonly settings: OpenLineageSettings;
  readonly transport: OpenLineageTransport;
}

/** What a step's events so far have said. */
interface StepNotes {
  rowCount?: number;
  checks: Readonly<Record<string, unknown>>[];
}

/** Emits the OpenLineage events of the steps of the runs it observes (see the file comment); a RunObserver. */
export class OpenLineageObserver {
  readonly #o: OpenLineageObserverOptions;
  readonly #names: DatasetNames;
  readonly #producer = producerUri();
  readonly #steps = new Map<string, StepNotes>();
  /** Column lineage, computed once per Strata run (when its first step completes). */
  readonly #lineage = new Map<string, Promise<Map<string, AssetColumnLineage>>>();
  #chain: Promise<void> = Promise.resolve();
  readonly #said = new Set<string>();

  constructor(options: OpenLineageObserverOptions) {
    this.#o = options;
    const { project } = options;
    this.#names = new DatasetNames(
      warehouseNamespace(project.config),
      options.settings.namespace,
      (key) => project.graph.has(key) && project.graph.spec(key).source === true,
    );
  }

  /** Notes a recorded event; queues the OpenLineage event it ends or starts (a run observer's `onRunEvent`). */
  onRunEvent(event: EventRecord): void {
    const key = event.assetKey;
    if (key === null) {
      if (event.type === 'run_success' || event.type === 'run_failure' || event.type === 'run_canceled')
        this.#later(async () => void this.#lineage.delete(event.runId));
      return;
    }
    const id = `${event.runId}\u0000${stepIdOf(event)}`;
    switch (event.type) {
      case 'step_start': {
        const notes: StepNotes = { checks: [] };
        this.#steps.set(id, notes);
        this.#later(() => this.#emit('START', event, notes));
        return;
      }
      case 'materialization': {
        const rows = event.data?.rowCount;
        if (typeof rows === 'number') this.#notesOf(id).rowCount = rows;
        return;
      }
      case 'check_result':
        if (event.data) this.#notesOf(id).checks.push(event.data);
        return;
      case 'step_success':
      case 'step_failure': {
        // A step over several partitions records one failure per partition: its run ends once.
        const range = event.data?.partitions as { from?: string } | undefined;
        if (event.type === 'step_failure' && range?.from !== undefined && event.partition !== null && event.partition !== range.from) return;
        const notes = this.#notesOf(id);
        this.#steps.delete(id);
        const type = event.type === 'step_success' ? 'COMPLETE' : event.data?.canceled === true ? 'ABORT' : 'FAIL';
        this.#later(() => this.#emit(type, event, notes));
        return;
      }
      default:
        return;
    }
  }

  /** Builds and hands over what is queued, then flushes the transport, within `timeoutMs` in all. */
  async flush(timeoutMs: number): Promise<void> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#chain, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    await this.#o.transport.flush(Math.max(0, timeoutMs - (Date.now() - started)));
  }

  #notesOf(id: string): StepNotes {
    let notes = this.#steps.get(id);
    if (notes === undefined) {
      notes = { checks: [] };
      this.#steps.set(id, notes);
    }
    return notes;
  }

  /** Runs `work` after everything queued before it; a failure is said once and never reaches a run. */
  #later(work: () => Promise<void>): void {
    this.#chain = this.#chain
      .then(work)
      .catch((error: unknown) => this.#say('build', `OpenLineage: an event could not be built: ${error instanceof Error ? error.message : String(error)}`));
  }

  async #emit(type: StepEventType, event: EventRecord, notes: StepNotes): Promise<void> {
    const key = event.assetKey as string;
    const { project, settings } = this.#o;
    const compute = project.definitions.get(key)?.compute;
    const sql = compute?.type === 'sql' ? compute.sql : undefined;
    const record = type === 'COMPLETE' ? await this.#materializationOf(event) : undefined;
    const parents = project.graph.has(key) ? project.graph.parents(key) : [];
    const inputs: InputDatasetSpec[] = parents.map((parent) => {
      const version = record === undefined ? undefined : versionRead(record, parent);
      return { ...this.#names.of(parent), ...(version === undefined ? {} : { version }) };
    });
    const schema = record === undefined ? undefined : schemaOf(record);
    const lineage = type === 'COMPLETE' ? (await this.#lineageOf(event.runId)).get(key) : undefined;
    const columnLineage = lineage === undefined ? undefined : columnLineageOf(lineage, this.#names);
    const checks = project.graph.has(key) ? project.graph.spec(key).checks : [];
    const assertions: AssertionSpec[] = notes.checks.map((data) => assertionOf(data, checks));
    const rowCount = notes.rowCount ?? record?.rowCount ?? undefined;
    const message = typeof event.data?.error === 'string' ? event.data.error : event.message;
    this.#o.transport.emit(
      stepRunEvent({
        eventType: type,
        eventTime: event.timestamp,
        producer: this.#producer,
        runId: stepRunUuid(event.runId, stepIdOf(event)),
        parent: { runId: strataRunUuid(event.runId), namespace: settings.namespace, name: PARENT_JOB_NAME },
        job: { namespace: settings.namespace, name: key, ...(sql === undefined ? {} : { sql }) },
        inputs,
        output: {
          ...this.#names.of(key),
          ...(schema === undefined ? {} : { schema }),
          ...(columnLineage === undefined ? {} : { columnLineage }),
          ...(assertions.length === 0 ? {} : { assertions }),
          ...(type === 'COMPLETE' && rowCount !== undefined && rowCount !== null ? { rowCount } : {}),
          ...(record === undefined ? {} : { version: record.dataVersion }),
        },
        ...(type === 'FAIL' || type === 'ABORT' ? { error: { message, language: sql === undefined ? 'TypeScript' : 'SQL' } } : {}),
      }),
    );
  }

  /** The materialization the step recorded (its last partition's), when storage has it. */
  async #materializationOf(event: EventRecord): Promise<MaterializationRecord | undefined> {
    const range = event.data?.partitions as { to?: string } | undefined;
    const partition = range?.to ?? event.partition;
    const storage = await this.#o.storage();
    const [latest] = await storage.materializationHistory(event.assetKey as string, { partition, limit: 1 });
    return latest?.runId === event.runId ? latest : undefined;
  }

  /** The project's column lineage, the columns of tables not traced known from the schemas their materializations recorded. */
  #lineageOf(runId: string): Promise<Map<string, AssetColumnLineage>> {
    let lineage = this.#lineage.get(runId);
    if (lineage === undefined) {
      lineage = (async () => {
        const storage = await this.#o.storage();
        // Asked only for the tables tracing needs (an asset's own, a `*` over an untraced one): its newest recorded schema.
        const warehouseColumns = async (key: string) => {
          const [latest] = await storage.materializationHistory(key, { limit: 1 });
          return (latest === undefined ? undefined : schemaOf(latest))?.map((c) => c.name) ?? null;
        };
        return projectColumnLineage(this.#o.project, { warehouseColumns });
      })();
      this.#lineage.set(runId, lineage);
    }
    return lineage;
  }

  #say(kind: string, message: string): void {
    if (this.#said.has(kind)) return;
    this.#said.add(kind);
    this.#o.notice(message);
  }
}

/** The plan's id of the step an event is about: `key`, `key@partition` or `key@from..to`. */
export function stepIdOf(event: EventRecord): string {
  const range = event.data?.partitions as { from?: string; to?: string } | undefined;
  const key = event.assetKey as string;
  if (range?.from !== undefined && range.to !== undefined) return `${key}@${range.from}..${range.to}`;
  return event.partition === null ? key : `${key}@${event.partition}`;
}

/** The table's columns a materialization recorded (`metadata.schema`), when it did. */
function schemaOf(record: MaterializationRecord): { name: string; type: string }[] | undefined {
  const schema = record.metadata.schema;
  if (!Array.isArray(schema)) return undefined;
  const columns = schema.filter(
    (c): c is { name: string; type: string } => typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.type === 'string',
  );
  return columns.length === schema.length ? columns.map((c) => ({ name: c.name, type: c.type })) : undefined;
}

/** The data version of `parent` the step read, when it read exactly one (one partition, or an unpartitioned asset). */
function versionRead(record: MaterializationRecord, parent: string): string | undefined {
  const whole = record.inputDataVersions[parent];
  if (whole !== undefined) return whole;
  const prefix = `${parent}@`;
  const versions = Object.entries(record.inputDataVersions).filter(([k]) => k.startsWith(prefix));
  return versions.length === 1 ? versions[0]?.[1] : undefined;
}

/** The producer URI of Strata's events: `urn:strata:<version>`. */
function producerUri(): string {
  try {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
    return `urn:strata:${version ?? 'unknown'}`;
  } catch {
    return 'urn:strata:unknown';
  }
}
