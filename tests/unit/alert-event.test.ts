/**
 * Which events are alerts (pure): failed steps and runs, failed or errored checks by severity,
 * and the daemon's and backfills' own events; and what one group's summary says.
 */
import { describe, expect, it } from 'vitest';
import { alertOf } from '../../core/model/alerts/alert-event.ts';
import { alertPayload, alertText } from '../../core/model/alerts/alert-message.ts';
import type { AlertDeliveryRecord } from '../../storage/alert-delivery-store.ts';
import type { EventRecord } from '../../storage/storage.ts';

function anEvent(type: EventRecord['type'], data: Record<string, unknown> | null = null, extra: Partial<EventRecord> = {}): EventRecord {
  return { runId: 'r1', timestamp: 1_000, type, level: 'error', assetKey: 'marts/a', partition: null, message: `${type} happened`, data, ...extra };
}

describe('alertOf', () => {
  it('makes a failed step a run_failure with its error, but not a canceled one', () => {
    expect(alertOf(anEvent('step_failure', { error: 'boom' }), new Set())).toMatchObject({ kind: 'run_failure', assetKey: 'marts/a', error: 'boom' });
    expect(alertOf(anEvent('step_failure', { error: 'canceled', canceled: true }), new Set())).toBeUndefined();
  });

  it('takes the partition range of a step over several partitions', () => {
    const step = anEvent('step_failure', { error: 'boom', partitions: { from: '2025-01-01', to: '2025-01-31', count: 31 } });
    expect(alertOf(step, new Set())?.partitions).toEqual({ first: '2025-01-01', last: '2025-01-31' });
    expect(alertOf(anEvent('step_failure', { error: 'boom' }, { partition: '2025-01-02' }), new Set())?.partitions).toEqual({
      first: '2025-01-02',
      last: '2025-01-02',
    });
    expect(alertOf(anEvent('step_failure', { error: 'boom' }), new Set())?.partitions).toBeNull();
  });

  it('makes a failed run an alert only when none of its steps failed', () => {
    const run = anEvent('run_failure', null, { assetKey: null, message: 'run could not start: warehouse locked' });
    expect(alertOf(run, new Set())).toMatchObject({ kind: 'run_failure', assetKey: null, error: 'run could not start: warehouse locked' });
    expect(alertOf(run, new Set(['r1']))).toBeUndefined();
    // A dead process's run queued again has not failed for good.
    expect(alertOf({ ...run, data: { reaped: true, retriedBy: 'r2' } }, new Set())).toBeUndefined();
    expect(alertOf({ ...run, data: { reaped: true } }, new Set())).toMatchObject({ kind: 'run_failure' });
  });

  it('sorts check results by status and severity', () => {
    expect(alertOf(anEvent('check_result', { status: 'passed', severity: 'error' }), new Set())).toBeUndefined();
    expect(alertOf(anEvent('check_result', { status: 'failed', severity: 'error' }), new Set())?.kind).toBe('check_failure');
    expect(alertOf(anEvent('check_result', { status: 'error', severity: 'error', error: 'no column x' }), new Set())).toMatchObject({
      kind: 'check_failure',
      error: 'no column x',
    });
    expect(alertOf(anEvent('check_result', { status: 'failed', severity: 'warn' }), new Set())?.kind).toBe('check_warning');
  });

  it('passes freshness, daemon and backfill events through as their own kinds; others are not alerts', () => {
    expect(alertOf(anEvent('freshness_miss', { lagMs: 5 }), new Set())?.kind).toBe('freshness_miss');
    expect(alertOf(anEvent('daemon_error', { error: 'db down' }), new Set())).toMatchObject({ kind: 'daemon_error', error: 'db down' });
    expect(alertOf(anEvent('backfill_done', { status: 'canceled' }), new Set())).toMatchObject({ kind: 'backfill_done', status: 'canceled' });
    for (const type of ['run_success', 'step_success', 'materialization', 'log', 'step_retry'] as const)
      expect(alertOf(anEvent(type), new Set())).toBeUndefined();
  });
});

describe('alertPayload', () => {
  const group: AlertDeliveryRecord = {
    id: 1,
    rule: 'alerts[0]',
    kind: 'run_failure',
    assetKey: 'marts/daily sales',
    count: 365,
    firstAt: Date.UTC(2025, 0, 2, 4, 30),
    lastAt: Date.UTC(2025, 0, 2, 4, 31),
    firstPartition: '2024-01-01',
    lastPartition: '2024-12-31',
    dueAt: 0,
    sample: { runId: 'run-1', message: 'marts/daily sales[2024-01-01] failed: boom', error: 'boom' },
    status: 'sending',
    attempts: 0,
    lastError: null,
    updatedAt: null,
  };

  it('sums a group up with its count, partition range and the asset page under the UI address', () => {
    const payload = alertPayload(group, 'https://strata.internal/');
    expect(payload).toMatchObject({
      asset: 'marts/daily sales',
      count: 365,
      partitions: { first: '2024-01-01', last: '2024-12-31' },
      runId: 'run-1',
      error: 'boom',
      url: 'https://strata.internal/#/assets/marts/daily%20sales',
      summary: 'marts/daily sales failed 365 times (partitions 2024-01-01 … 2024-12-31)',
      firstAt: '2025-01-02T04:30:00.000Z',
    });
    expect(alertText(payload, 'plain').split('\n')).toEqual([
      'marts/daily sales failed 365 times (partitions 2024-01-01 … 2024-12-31)',
      'Asset: marts/daily sales',
      'Partition: 2024-01-01 … 2024-12-31',
      'Error: boom',
      'Events: 365 between 2025-01-02T04:30:00.000Z and 2025-01-02T04:31:00.000Z',
      'Rule: alerts[0] (run_failure)',
      'Open in Strata: https://strata.internal/#/assets/marts/daily%20sales',
    ]);
  });

  it('links a group about no asset to its run', () => {
    expect(alertPayload({ ...group, assetKey: null, firstPartition: null, lastPartition: null, count: 1 }, 'http://h:3000').url).toBe(
      'http://h:3000/#/runs/run-1',
    );
  });
});
