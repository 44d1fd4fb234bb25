/**
 * OpenLineage emission: a run observer that turns each step's recorded events into OpenLineage
 * `RunEvent`s (START at `step_start`; COMPLETE at `step_success`; FAIL, or ABORT for a canceled
 * step, at its `step_failure`) and hands them to the configured transport. It only notes events
 * as they are recorded; the events are built in the background, in order, with what the step's
 * commit told (schema, data versions read) and the project's column lineage. A skipped step
 * never started: it emits nothing. A run reaped as dead gets a FAIL for each step its process
 * started and never ended.
 */
import { join } from 'node:path';
import type { EventRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import type { Project } from '../../model/project.ts';
import type { OpenLineageSettings } from '../../model/config/openlineage-settings.ts';
import { columnLineageVersion, type AssetColumnLineage } from '../../model/lineage/column-lineage.ts';
import { columnLineageOf, DatasetNames, warehouseNamespace } from '../../model/openlineage/openlineage-datasets.ts';
import { stepRunUuid, strataRunUuid } from '../../model/openlineage/openlineage-ids.ts';
import { stepRunEvent, type AssertionSpec, type InputDatasetSpec, type JsonObject, type StepEventType } from '../../model/openlineage/openlineage-run-event.ts';
import { openLineageTransport, type OpenLineageTransport } from '../../../resources/openlineage/openlineage-transport.ts';
import { strataVersion } from '../package-location.ts';
import { recordedSchema } from '../../model/schema/table-schema.ts';
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
  /** The step's OpenLineage run id, derived once for its START and end events. */
  runUuid?: string;
  rowCount?: number;
  checks: Readonly<Record<string, unknown>>[];
}

/** An OpenLineage event to build and send, once (`sent`). */
interface Pending {
  readonly type: StepEventType;
  readonly event: EventRecord;
  readonly notes: StepNotes;
  /** The materializations committed with the event. */
  readonly committed: readonly MaterializationRecord[];
  sent: boolean;
}

/** What is read from storage for an event: the step's materialization and the asset's column lineage. */
interface Gathered {
  readonly record?: MaterializationRecord;
  readonly lineage?: AssetColumnLineage;
}

/** Emits the OpenLineage events of the steps of the runs it observes (see the file comment); a RunObserver. */
export class OpenLineageObserver {
  readonly #o: OpenLineageObserverOptions;
  readonly #names: DatasetNames;
  readonly #producer = producerUri();
  readonly #steps = new Map<string, StepNotes>();
  /** Column lineage, computed once per Strata run (when its first step completes). */
  readonly #lineage = new Map<string, Promise<Map<string, AssetColumnLineage>>>();
  /** Events to build and send, in order; the first may be being built. */
  readonly #pending: Pending[] = [];
  #pumping: Promise<void> | undefined;
  /** The materializations of the commit whose events are being told (they come just before its events). */
  #justCommitted: readonly MaterializationRecord[] = [];
  /** Runs that ended while events of theirs were still queued. */
  readonly #ended = new Set<string>();
  /** Reads of dead runs' steps under way (see #failDeadSteps). */
  readonly #reading = new Set<Promise<void>>();
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
      if (event.type === 'run_failure' && event.data?.reaped === true) this.#failDeadSteps(event);
      if (event.type === 'run_success' || event.type === 'run_failure' || event.type === 'run_canceled') this.#forgetWhenSent(event.runId);
      return;
    }
    const id = `${event.runId}\u0000${stepIdOf(event)}`;
    switch (event.type) {
      case 'step_start': {
        const notes: StepNotes = { checks: [] };
        this.#steps.set(id, notes);
        this.#enqueue('START', event, notes);
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
        this.#enqueue(type, event, notes);
        this.#justCommitted = [];
        return;
      }
      default:
        return;
    }
  }

  /**
   * A run whose process died (reaped here): each step it started and never ended gets its FAIL,
   * with the reaper's error, so the step's OpenLineage run (started by the dead process, same run
   * id) does not stay running. Which steps is read from the run's recorded events.
   */
  #failDeadSteps(reaped: EventRecord): void {
    const read = (async () => {
      const events = await (await this.#o.storage()).listEvents(reaped.runId);
      const open = new Map<string, EventRecord>();
      for (const event of events) {
        if (event.assetKey === null) continue;
        if (event.type === 'step_start') open.set(stepIdOf(event), event);
        else if (event.type === 'step_success' || event.type === 'step_failure') open.delete(stepIdOf(event));
      }
      for (const [id, start] of open) {
        const failure: EventRecord = {
          ...start,
          type: 'step_failure',
          level: 'error',
          timestamp: reaped.timestamp,
          message: `${id} failed: ${reaped.message}`,
          data: { ...start.data, error: reaped.message, canceled: false },
        };
        this.#enqueue('FAIL', failure, { checks: [] });
      }
    })()
      .catch((error: unknown) =>
        this.#say(
          'dead',
          `OpenLineage: the steps of a dead run could not be read (they get no FAIL): ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .finally(() => this.#reading.delete(read));
    this.#reading.add(read);
  }

  /** Keeps the materializations a step committed for its COMPLETE event, told next (a run observer's `onMaterializations`). */
  onMaterializations(records: readonly MaterializationRecord[]): void {
    this.#justCommitted = records;
  }

  /**
   * Builds and hands over what is queued, then flushes the transport, within `timeoutMs` in all.
   * Events still waiting on storage after half of it are sent without what only storage would add
   * (column lineage; a step's schema and versions read when its run did not tell them), rather
   * than not at all.
   */
  async flush(timeoutMs: number): Promise<void> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const queued = (async () => {
      await Promise.all(this.#reading);
      await this.#pumping;
    })();
    await Promise.race([queued, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs / 2)))]);
    clearTimeout(timer);
    for (const item of this.#pending.splice(0)) {
      const record = toldMaterialization(item);
      this.#send(item, record === undefined ? {} : { record });
    }
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

  /** Queues an event to build in the background, after those queued before it. */
  #enqueue(type: StepEventType, event: EventRecord, notes: StepNotes): void {
    this.#pending.push({ type, event, notes, committed: type === 'COMPLETE' ? this.#justCommitted : [], sent: false });
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
    });
  }

  async #pump(): Promise<void> {
    while (this.#pending.length > 0) {
      const item = this.#pending[0] as Pending;
      let gathered: Gathered = {};
      try {
        gathered = await this.#gather(item);
      } catch (error) {
        this.#say(
          'read',
          `OpenLineage: what storage holds of a step could not be read (sent without it): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      // A flush that could not wait may have sent it meanwhile.
      if (this.#pending[0] === item) this.#pending.shift();
      this.#send(item, gathered);
      if (this.#ended.has(item.event.runId)) this.#forgetWhenSent(item.event.runId);
    }
  }

  /** Drops a finished run's column lineage once its last queued event is sent. */
  #forgetWhenSent(runId: string): void {
    if (this.#pending.some((p) => p.event.runId === runId)) this.#ended.add(runId);
    else {
      this.#ended.delete(runId);
      this.#lineage.delete(runId);
    }
  }

  /** The step's materialization and the asset's column lineage, for a COMPLETE event. */
  async #gather(item: Pending): Promise<Gathered> {
    if (item.type !== 'COMPLETE') return {};
    const record = await this.#materializationOf(item);
    const lineage = (await this.#lineageOf(item.event.runId)).get(item.event.assetKey as string);
    return { ...(record === undefined ? {} : { record }), ...(lineage === undefined ? {} : { lineage }) };
  }

  /** Builds the event and hands it to the transport, unless it was sent already; never throws. */
  #send(item: Pending, { record, lineage }: Gathered): void {
    if (item.sent) return;
    item.sent = true;
    try {
      this.#o.transport.emit(this.#build(item, record, lineage));
    } catch (error) {
      this.#say('build', `OpenLineage: an event could not be built: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #build({ type, event, notes }: Pending, record: MaterializationRecord | undefined, lineage: AssetColumnLineage | undefined): JsonObject {
    const key = event.assetKey as string;
    const { project, settings } = this.#o;
    const compute = project.definitions.get(key)?.compute;
    const sql = compute?.type === 'sql' ? compute.sql : undefined;
    const parents = project.graph.has(key) ? project.graph.parents(key) : [];
    const inputs: InputDatasetSpec[] = parents.map((parent) => {
      const version = record === undefined ? undefined : versionRead(record, parent);
      return { ...this.#names.of(parent), ...(version === undefined ? {} : { version }) };
    });
    const schema = record === undefined ? undefined : recordedSchema(record.metadata);
    const columnLineage = lineage === undefined ? undefined : columnLineageOf(lineage, this.#names);
    const checks = project.graph.has(key) ? project.graph.spec(key).checks : [];
    const assertions: AssertionSpec[] = notes.checks.map((data) => assertionOf(data, checks));
    const rowCount = notes.rowCount ?? record?.rowCount ?? undefined;
    const message = typeof event.data?.error === 'string' ? event.data.error : event.message;
    return stepRunEvent({
      eventType: type,
      eventTime: event.timestamp,
      producer: this.#producer,
      runId: (notes.runUuid ??= stepRunUuid(event.runId, stepIdOf(event))),
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
    });
  }

  /** The materialization the step recorded (its last partition's): as its commit told of it, else when storage has it. */
  async #materializationOf(item: Pending): Promise<MaterializationRecord | undefined> {
    const told = toldMaterialization(item);
    if (told !== undefined) return told;
    const { event } = item;
    const partition = lastPartition(event);
    const key = event.assetKey as string;
    const storage = await this.#o.storage();
    const { graph } = this.#o.project;
    // The latest-materialization index answers an unpartitioned asset ten times faster than the history.
    const [latest] =
      graph.has(key) && graph.spec(key).partitions === undefined
        ? await storage.latestMaterializations([key])
        : await storage.materializationHistory(key, { partition, limit: 1 });
    return latest?.runId === event.runId && latest.partition === partition ? latest : undefined;
  }

  /**
   * The project's column lineage: as runs recorded it for its column lineage version when they
   * have (one query); else traced, the columns of assets that are not SQL known from the schemas
   * their materializations recorded.
   */
  #lineageOf(runId: string): Promise<Map<string, AssetColumnLineage>> {
    let lineage = this.#lineage.get(runId);
    if (lineage === undefined) {
      lineage = (async () => {
        const storage = await this.#o.storage();
        const { project } = this.#o;
        const stored = await storage.columnLineage(columnLineageVersion(project));
        if (stored.length > 0) return new Map(stored.map((l) => [l.key, l]));
        // A SQL asset's columns are traced; the others' (TypeScript assets, seeds) come from the
        // schema their newest materialization recorded, read in one query.
        const untraced = project.graph.keys.filter((key) => project.definitions.get(key)?.compute.type !== 'sql');
        const newest = new Map<string, MaterializationRecord>();
        for (const m of untraced.length === 0 ? [] : await storage.latestMaterializations(untraced)) {
          const seen = newest.get(m.assetKey);
          if (seen === undefined || m.timestamp > seen.timestamp) newest.set(m.assetKey, m);
        }
        const warehouseColumns = async (key: string) => {
          const record = newest.get(key);
          return (record === undefined ? undefined : recordedSchema(record.metadata))?.map((c) => c.name) ?? null;
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

/** The partition of a step's event, or the last one of its range. */
function lastPartition(event: EventRecord): string | null {
  const range = event.data?.partitions as { to?: string } | undefined;
  return range?.to ?? event.partition;
}

/** The materialization (its last partition's) that was committed with a step's COMPLETE event, if the run told of it. */
function toldMaterialization({ event, committed }: Pending): MaterializationRecord | undefined {
  const partition = lastPartition(event);
  return committed.find((m) => m.runId === event.runId && m.assetKey === event.assetKey && m.partition === partition);
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
  return `urn:strata:${strataVersion()}`;
}
