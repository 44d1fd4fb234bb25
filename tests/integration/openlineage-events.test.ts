/**
 * The OpenLineage events of real runs (DuckDB warehouse, SQLite storage, the project loaded from
 * files): every event, and every facet of it, is valid against the specification's JSON
 * Schemas; each step that ran has START then COMPLETE, FAIL or ABORT under one derived run id,
 * with the Strata run as parent; skipped steps emit nothing; the facets carry what Strata knows
 * (source versions, the recorded schema, column lineage, every check result, row counts, the SQL,
 * the error).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { OpenLineageObserver, PARENT_JOB_NAME } from '../../core/engine/openlineage/openlineage-observer.ts';
import { stepRunUuid } from '../../core/model/openlineage/openlineage-ids.ts';
import type { JsonObject } from '../../core/model/openlineage/openlineage-run-event.ts';
import type { Project } from '../../core/model/project.ts';
import { columnLineageVersion } from '../../core/model/lineage/column-lineage.ts';
import type { Storage } from '../../storage/storage.ts';
import type { OpenLineageTransport } from '../../resources/openlineage/openlineage-transport.ts';
import { OpenLineageValidator } from '../openlineage-validator.ts';
import { RunEvents } from '../../core/engine/execution/run-events.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { OPENLINEAGE_PROJECT_FILES as FILES, RUN_OF_A_FAILING_CHECK } from '../openlineage-fixture.ts';

const validator = new OpenLineageValidator();

/** A transport that keeps what it is given. */
function capture(): OpenLineageTransport & { readonly events: JsonObject[] } {
  const events: JsonObject[] = [];
  return { events, emit: (event) => void events.push(event), flush: async () => undefined };
}

type Event = {
  eventType: string;
  run: { runId: string; facets: Record<string, Record<string, unknown>> };
  job: { namespace: string; name: string; facets: Record<string, Record<string, unknown>> };
  inputs: { namespace: string; name: string; facets?: Record<string, Record<string, unknown>> }[];
  outputs: { namespace: string; name: string; facets?: Record<string, Record<string, unknown>>; outputFacets?: Record<string, Record<string, unknown>> }[];
};

describe('OpenLineage events of real runs', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-openlineage-', { name: 'ol-events' }, FILES);
  });

  afterEach(() => workspace.close());

  /** An observer of `project` capturing its events in `transport`, reading `storage` (default: the workspace's). */
  function observerFor(
    project: Project,
    transport: ReturnType<typeof capture>,
    options: { storage?: () => Promise<Storage>; notice?: (m: string) => void } = {},
  ) {
    return new OpenLineageObserver({
      project,
      settings: { transport: { kind: 'console' }, namespace: 'analytics' },
      transport,
      storage: options.storage ?? (async () => workspace.storage),
      notice: options.notice ?? (() => undefined),
    });
  }

  async function observe(extra: Parameters<TempWorkspace['run']>[2] = {}) {
    const project = await loadProject(workspace.dir);
    const transport = capture();
    const notices: string[] = [];
    const observer = observerFor(project, transport, { notice: (m) => notices.push(m) });
    const result = await workspace.run(project, undefined, { ...extra, observers: [observer] });
    await observer.flush(10_000);
    expect(notices).toEqual([]);
    return { result, events: transport.events as unknown as Event[] };
  }

  it('emits START then COMPLETE or FAIL per step that ran, every event and facet valid against the spec, nothing for a skipped step', async () => {
    const { result, events } = await observe();
    expect(result.status).toBe('failed');
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['raw/orders', 'success'],
      ['staging/orders', 'success'],
      ['marts/by_customer', 'failed'],
      ['marts/after', 'skipped'],
    ]);
    expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual(RUN_OF_A_FAILING_CHECK);
    for (const event of events) {
      expect(validator.problems(event), `${event.eventType} ${event.job.name}`).toEqual([]);
      expect(validator.facetCount(event)).toBeGreaterThanOrEqual(2);
      expect(event.run.runId).toBe(stepRunUuid(result.runId, event.job.name));
      expect(event.run.facets.parent).toMatchObject({ run: { runId: result.runId }, job: { namespace: 'analytics', name: PARENT_JOB_NAME } });
      expect(event.job.namespace).toBe('analytics');
      expect(event.job.facets.jobType).toMatchObject({ processingType: 'BATCH', integration: 'STRATA', jobType: 'ASSET' });
    }
    expect(new Set(events.map((e) => e.run.runId)).size).toBe(3);
  });

  it('names the source with its observed version, the recorded schema, column lineage, every check result, row counts, the SQL and the error', async () => {
    const { events } = await observe();
    const warehouse = `duckdb://${workspace.config.warehouseFile}`;
    const [, rawDone, , stagingDone, , failed] = events as [Event, Event, Event, Event, Event, Event];

    expect(rawDone.inputs).toEqual([
      { namespace: 'analytics', name: 'landing/feed', facets: { version: expect.objectContaining({ datasetVersion: 'feed-v1' }) } },
    ]);
    expect(rawDone.outputs[0]).toMatchObject({ namespace: warehouse, name: 'raw.orders', outputFacets: { outputStatistics: { rowCount: 3 } } });
    expect(rawDone.outputs[0]?.facets?.schema?.fields).toEqual([
      { name: 'order_id', type: 'INTEGER', ordinal_position: 1 },
      { name: 'customer', type: 'VARCHAR', ordinal_position: 2 },
      { name: 'amount', type: 'DECIMAL(3,1)', ordinal_position: 3 },
    ]);
    expect(rawDone.job.facets.sourceCode).toBeUndefined();

    expect(stagingDone.job.facets.sourceCode).toMatchObject({ language: 'SQL', sourceCode: expect.stringContaining('upper(customer)') });
    expect(stagingDone.inputs.map((i) => [i.namespace, i.name])).toEqual([[warehouse, 'raw.orders']]);
    expect(stagingDone.inputs[0]?.facets?.version?.datasetVersion).toEqual(expect.any(String));
    const lineage = stagingDone.outputs[0]?.facets?.columnLineage as { fields: Record<string, unknown>; dataset: unknown[] };
    const from = (field: string, subtype: string, type = 'DIRECT') => ({
      namespace: warehouse,
      name: 'raw.orders',
      field,
      transformations: [{ type, subtype }],
    });
    expect(lineage.fields).toEqual({
      order_id: { inputFields: [from('order_id', 'IDENTITY')] },
      customer: { inputFields: [from('customer', 'TRANSFORMATION')] },
      amount: { inputFields: [from('amount', 'IDENTITY')] },
    });
    expect(lineage.dataset).toEqual([from('amount', 'FILTER', 'INDIRECT')]);
    const assertions = (stagingDone.outputs[0]?.facets?.dataQualityAssertions as { assertions: unknown[] } | undefined)?.assertions;
    expect(assertions).toEqual([
      { assertion: 'not_null', name: 'not_null(order_id)', success: true, severity: 'error', column: 'order_id' },
      { assertion: 'accepted_values', name: "accepted_values(customer, 'A')", success: false, severity: 'warn', column: 'customer' },
    ]);
    expect(stagingDone.outputs[0]?.outputFacets?.outputStatistics?.rowCount).toBe(3);

    expect(failed.run.facets.errorMessage).toMatchObject({ programmingLanguage: 'SQL', message: expect.stringContaining('not_null(customer): 1 violation') });
    expect((failed.outputs[0]?.facets?.dataQualityAssertions as { assertions: unknown[] } | undefined)?.assertions).toEqual([
      { assertion: 'not_null', name: 'not_null(customer)', success: false, severity: 'error', column: 'customer' },
    ]);
    expect(failed.outputs[0]?.outputFacets).toBeUndefined();
  });

  it('traces a `select *` over a TypeScript asset through the schema its materialization recorded', async () => {
    fs.writeFileSync(path.join(workspace.dir, 'defs', 'staging', 'all_orders.sql'), 'select * from raw.orders\n');
    const project = await loadProject(workspace.dir);
    const transport = capture();
    const observer = observerFor(project, transport);
    // The first run records raw/orders' schema; the second traces through it.
    await workspace.run(project, ['landing/feed', 'raw/orders']);
    const result = await workspace.run(project, ['staging/all_orders'], { observers: [observer] });
    await observer.flush(10_000);
    expect(result.status).toBe('success');
    const done = (transport.events as unknown as Event[]).find((e) => e.eventType === 'COMPLETE');
    expect(validator.problems(done)).toEqual([]);
    const warehouse = `duckdb://${workspace.config.warehouseFile}`;
    const identity = (field: string) => ({
      inputFields: [{ namespace: warehouse, name: 'raw.orders', field, transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }] }],
    });
    expect((done?.outputs[0]?.facets?.columnLineage as { fields: unknown } | undefined)?.fields).toEqual({
      order_id: identity('order_id'),
      customer: identity('customer'),
      amount: identity('amount'),
    });
  });

  it('takes the column lineage runs stored for the column lineage version instead of tracing it again', async () => {
    fs.writeFileSync(path.join(workspace.dir, 'defs', 'staging', 'all_orders.sql'), 'select * from raw.orders\n');
    const project = await loadProject(workspace.dir);
    await workspace.run(project, ['landing/feed', 'raw/orders']);
    // A stored lineage that tracing would never give (`amount` only, from raw/orders' `customer`): the facet shows it.
    await workspace.storage.recordColumnLineage(columnLineageVersion(project), [
      {
        key: 'staging/all_orders',
        columns: [{ name: 'amount', sources: [{ asset: 'raw/orders', column: 'customer', kind: 'transformation' }] }],
        indirect: [],
      },
    ]);
    const transport = capture();
    const observer = observerFor(project, transport);
    expect((await workspace.run(project, ['staging/all_orders'], { observers: [observer] })).status).toBe('success');
    await observer.flush(10_000);
    const done = (transport.events as unknown as Event[]).find((e) => e.eventType === 'COMPLETE');
    expect(validator.problems(done)).toEqual([]);
    expect((done?.outputs[0]?.facets?.columnLineage as { fields: unknown } | undefined)?.fields).toEqual({
      amount: {
        inputFields: [
          {
            namespace: `duckdb://${workspace.config.warehouseFile}`,
            name: 'raw.orders',
            field: 'customer',
            transformations: [{ type: 'DIRECT', subtype: 'TRANSFORMATION' }],
          },
        ],
      },
    });
  });

  it('sends every event at flush even when storage does not answer: with what the run told (schema, version), without column lineage', async () => {
    const project = await loadProject(workspace.dir);
    const transport = capture();
    const observer = observerFor(project, transport, { storage: () => new Promise(() => undefined) });
    await workspace.run(project, undefined, { observers: [observer] });
    const started = Date.now();
    await observer.flush(400);
    expect(Date.now() - started).toBeLessThan(1_000);
    const events = transport.events as unknown as Event[];
    expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual(RUN_OF_A_FAILING_CHECK);
    for (const event of events) expect(validator.problems(event)).toEqual([]);
    // The schema and data version come with the step's commit; column lineage only from storage.
    expect(events[1]?.outputs[0]?.facets?.schema?.fields).toEqual([
      expect.objectContaining({ name: 'order_id' }),
      expect.objectContaining({ name: 'customer' }),
      expect.objectContaining({ name: 'amount' }),
    ]);
    expect(events[1]?.outputs[0]?.facets?.version?.datasetVersion).toEqual(expect.any(String));
    expect(events[3]?.outputs[0]?.facets?.columnLineage).toBeUndefined();
    expect(events[1]?.outputs[0]?.outputFacets?.outputStatistics?.rowCount).toBe(3);
  });

  it('fails the steps a dead process started and never ended, when its run is reaped, under the same step run ids', async () => {
    const project = await loadProject(workspace.dir);
    const started = Date.now() - 10 * 60_000;
    const runId = 'dead-process-run';
    await workspace.storage.createRun({
      id: runId,
      status: 'running',
      trigger: 'manual',
      selection: '*',
      assetKeys: ['raw/orders', 'staging/orders', 'marts/by_customer'],
      createdAt: started,
      startedAt: started,
      endedAt: null,
      error: null,
      tags: {},
    });
    // It finished raw/orders and was inside staging/orders and marts/by_customer (two at once) when it died.
    const events = new RunEvents(runId, () => started);
    await workspace.storage.appendEvents([
      events.run('run_start', 'run started'),
      events.step('step_start', 'raw/orders', null, 'raw/orders started'),
      events.step('step_success', 'raw/orders', null, 'raw/orders done'),
      events.step('step_start', 'staging/orders', null, 'staging/orders started'),
      events.step('step_start', 'marts/by_customer', null, 'marts/by_customer started'),
    ]);
    const transport = capture();
    const observer = observerFor(project, transport);
    const service = new RunService({ project, storage: workspace.storage, warehouse: workspace.warehouse, observers: [observer] });
    const reaped = await service.reapDeadRuns({ quiet: true });
    expect(reaped.map((r) => r.runId)).toEqual([runId]);
    await observer.flush(10_000);
    const sent = transport.events as unknown as (Event & { eventTime: string })[];
    for (const event of sent) expect(validator.problems(event)).toEqual([]);
    expect(sent.map((e) => `${e.eventType} ${e.job.name}`).sort()).toEqual(['FAIL marts/by_customer', 'FAIL staging/orders']);
    for (const event of sent) {
      expect(event.run.runId).toBe(stepRunUuid(runId, event.job.name));
      expect(event.run.facets.errorMessage?.message).toContain('process died: no heartbeat');
      expect(Date.parse(event.eventTime)).toBeGreaterThan(started);
    }
  });

  it('emits ABORT for a step canceled while it runs', async () => {
    const controller = new AbortController();
    const project = await loadProject(workspace.dir);
    const transport = capture();
    const observer = observerFor(project, transport);
    const result = await workspace.run(project, ['landing/feed', 'raw/orders'], {
      observers: [observer, { onRunEvent: (event) => event.type === 'step_start' && setTimeout(() => controller.abort(), 0) }],
      signal: controller.signal,
    });
    await observer.flush(10_000);
    expect(result.status).toBe('canceled');
    const events = transport.events as unknown as Event[];
    for (const event of events) expect(validator.problems(event)).toEqual([]);
    expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual(['START raw/orders', 'ABORT raw/orders']);
    expect(events[1]?.run.facets.errorMessage?.message).toContain('canceled');
  });
});
