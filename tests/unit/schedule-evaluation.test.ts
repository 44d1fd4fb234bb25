import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { cronProblem, cronTicksBetween, latestCronTick } from '../../core/model/definitions/cron-expression.ts';
import { schedule, type ScheduleOptions } from '../../core/model/definitions/schedule-definition.ts';
import { DefinitionError } from '../../core/model/errors.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { evaluateSchedules, scheduleCursor } from '../../core/engine/daemon/schedule-evaluation.ts';
import { daily, staticPartitions } from '../../core/model/partitions/index.ts';

const noop = () => undefined;
const PARIS_DAYS = daily({ start: '2025-01-01', timezone: 'Europe/Paris' });
const graph = AssetGraph.build(
  [
    asset({ key: 'raw/orders', partitions: PARIS_DAYS, materialize: noop }),
    asset({ key: 'marts/revenue', deps: ['raw/orders'], partitions: PARIS_DAYS, materialize: noop }),
    asset({ key: 'marts/regions', partitions: staticPartitions(['north', 'south']), materialize: noop }),
    asset({ key: 'marts/dim', materialize: noop }),
  ].map((d) => d.spec),
);

const nightly = (extra: Partial<ScheduleOptions> = {}) =>
  schedule({ name: 'nightly', cron: '30 4 * * *', timezone: 'Europe/Paris', selection: 'marts/revenue', partition: 'latest', ...extra });

/** Evaluates `schedules` at `now` with the schedule cursors at `since`. */
function evaluate(now: string, since: string | undefined, ...schedules: ReturnType<typeof schedule>[]) {
  const cursors = Object.fromEntries(since === undefined ? [] : schedules.map((s) => [scheduleCursor(s.name), new Date(since).toISOString()]));
  return evaluateSchedules({ schedules, graph, cursors, now: new Date(now) });
}

describe('cron ticks', () => {
  it('walks the ticks of a span in a time zone, end inclusive', () => {
    const { ticks, count } = cronTicksBetween('30 4 * * *', 'Europe/Paris', new Date('2025-03-01T00:00:00Z'), new Date('2025-03-03T03:30:00Z'));
    expect(count).toBe(3);
    expect(ticks.map((t) => t.toISOString())).toEqual(['2025-03-01T03:30:00.000Z', '2025-03-02T03:30:00.000Z', '2025-03-03T03:30:00.000Z']);
    expect(latestCronTick('30 4 * * *', 'Europe/Paris', new Date('2025-03-03T03:30:00Z'))?.toISOString()).toBe('2025-03-03T03:30:00.000Z');
    expect(latestCronTick('30 4 * * *', 'Europe/Paris', new Date('2025-03-03T03:29:59Z'))?.toISOString()).toBe('2025-03-02T03:30:00.000Z');
  });

  it('follows daylight saving time: 04:30 in Paris is 03:30 UTC in winter, 02:30 UTC in summer', () => {
    const { ticks } = cronTicksBetween('30 4 * * *', 'Europe/Paris', new Date('2025-03-29T00:00:00Z'), new Date('2025-03-31T23:00:00Z'));
    expect(ticks.map((t) => t.toISOString())).toEqual(['2025-03-29T03:30:00.000Z', '2025-03-30T02:30:00.000Z', '2025-03-31T02:30:00.000Z']);
    // 02:30 does not exist on the spring-forward day: the tick fires at the next local time that does.
    const skipped = cronTicksBetween('30 2 * * *', 'Europe/Paris', new Date('2025-03-29T12:00:00Z'), new Date('2025-03-30T12:00:00Z')).ticks;
    expect(skipped.map((t) => t.toISOString())).toEqual(['2025-03-30T01:30:00.000Z']);
  });

  it('counts a long span without listing every tick', () => {
    const span = cronTicksBetween('* * * * * *', 'UTC', new Date('2025-01-01T00:00:00Z'), new Date('2025-01-02T00:00:00Z'), 5);
    expect(span.ticks).toHaveLength(5);
    expect(span.ticks.at(-1)?.toISOString()).toBe('2025-01-02T00:00:00.000Z');
    expect(span.truncated).toBe(true);
    expect(span.count).toBeGreaterThan(10_000);
  });

  it('validates expressions and time zones', () => {
    expect(cronProblem('30 4 * * *', 'Europe/Paris')).toBeUndefined();
    expect(cronProblem('@daily', 'UTC')).toBeUndefined();
    expect(cronProblem('30 4 * *', 'UTC')).toMatch(/5 fields/);
    expect(cronProblem('30 24 * * *', 'UTC')).toMatch(/24/);
    expect(cronProblem('30 4 * * *', 'Europe/Pariss')).toMatch(/unknown time zone "Europe\/Pariss"/);
  });
});

describe('schedule()', () => {
  it('validates and freezes', () => {
    const s = nightly();
    expect(s).toMatchObject({ name: 'nightly', cron: '30 4 * * *', timezone: 'Europe/Paris', partition: { offset: 0 }, tags: {} });
    expect(Object.isFrozen(s)).toBe(true);
    expect(schedule({ name: 'utc', cron: '@hourly', selection: '*' }).timezone).toBe('UTC');
  });

  it.each([
    [{ cron: '30 4 * *' }, /schedule "nightly": cron "30 4 \* \*" must have 5 fields/],
    [{ timezone: 'Paris' }, /unknown time zone "Paris"/],
    [{ selection: ' ' }, /selection must not be empty/],
    [{ partition: { offset: 1 } }, /offset must be 0 or negative/],
    [{ name: 'bad name' }, /schedule names use/],
  ])('rejects %o', (extra, message) => {
    expect(() => nightly(extra as Partial<ScheduleOptions>)).toThrow(DefinitionError);
    expect(() => nightly(extra as Partial<ScheduleOptions>)).toThrow(message);
  });
});

describe('evaluateSchedules', () => {
  it("requests yesterday's partition at the 04:30 tick in the schedule's time zone", () => {
    const result = evaluate('2025-03-02T03:31:00Z', '2025-03-01T12:00:00Z', nightly());
    expect(result.requests).toHaveLength(1);
    expect(result.requests[0]?.tickTime.toISOString()).toBe('2025-03-02T03:30:00.000Z');
    expect([...(result.requests[0]?.partitions ?? [])]).toEqual([['marts/revenue', ['2025-03-01']]]);
    expect(result.decisions).toEqual([]);
    expect(result.cursors).toEqual({ 'schedule:nightly': '2025-03-02T03:31:00.000Z' });
  });

  it('does nothing before the tick, and nothing twice for one tick', () => {
    expect(evaluate('2025-03-02T03:29:00Z', '2025-03-01T12:00:00Z', nightly()).requests).toEqual([]);
    // 04:29 Paris is 03:29 UTC: the previous evaluation at 03:31 already had the tick.
    expect(evaluate('2025-03-02T10:00:00Z', '2025-03-02T03:31:00Z', nightly()).requests).toEqual([]);
  });

  it('on the spring-forward day ticks at 02:30 UTC and picks the 23-hour day after it', () => {
    const dstDay = evaluate('2025-03-30T02:30:00Z', '2025-03-29T12:00:00Z', nightly());
    expect(dstDay.requests[0]?.tickTime.toISOString()).toBe('2025-03-30T02:30:00.000Z');
    expect(dstDay.requests[0]?.partitions.get('marts/revenue')).toEqual(['2025-03-29']);
    const next = evaluate('2025-03-31T02:30:00Z', '2025-03-30T02:30:00Z', nightly());
    expect(next.requests[0]?.partitions.get('marts/revenue')).toEqual(['2025-03-30']);
    const window = PARIS_DAYS.window('2025-03-30');
    expect(window && (window.end.getTime() - window.start.getTime()) / 3_600_000).toBe(23);
  });

  it('after downtime runs only the latest missed tick and records the others as skipped', () => {
    const result = evaluate('2025-03-05T04:00:00Z', '2025-03-01T04:00:00Z', nightly());
    expect(result.requests.map((r) => r.tickTime.toISOString())).toEqual(['2025-03-05T03:30:00.000Z']);
    expect(result.requests[0]?.partitions.get('marts/revenue')).toEqual(['2025-03-04']);
    const skipped = result.decisions.filter((d) => d.action === 'skipped');
    expect(skipped.map((d) => new Date(d.tickTime ?? 0).toISOString())).toEqual([
      '2025-03-02T03:30:00.000Z',
      '2025-03-03T03:30:00.000Z',
      '2025-03-04T03:30:00.000Z',
    ]);
    expect(skipped[0]?.reason).toMatch(/missed while the daemon was not running: only the latest missed tick \(2025-03-05T03:30:00.000Z\) runs/);
  });

  it('starts a schedule seen for the first time from now, saying when it next ticks', () => {
    const result = evaluate('2025-03-02T10:00:00Z', undefined, nightly());
    expect(result.requests).toEqual([]);
    expect(result.decisions).toEqual([
      expect.objectContaining({ action: 'skipped', name: 'nightly', reason: expect.stringMatching(/first evaluation.*next tick 2025-03-03T03:30:00.000Z/) }),
    ]);
    expect(result.cursors['schedule:nightly']).toBe('2025-03-02T10:00:00.000Z');
  });

  it('shifts the partition by the offset, and builds static and unpartitioned assets whole', () => {
    const before = evaluate('2025-03-02T03:31:00Z', '2025-03-02T00:00:00Z', nightly({ partition: { offset: -1 } }));
    expect(before.requests[0]?.partitions.get('marts/revenue')).toEqual(['2025-02-28']);
    const all = evaluate('2025-03-02T03:31:00Z', '2025-03-02T00:00:00Z', nightly({ selection: 'marts/*' }));
    expect([...(all.requests[0]?.partitions ?? [])]).toEqual([
      ['marts/dim', [null]],
      ['marts/regions', ['north', 'south']],
      ['marts/revenue', ['2025-03-01']],
    ]);
  });

  it('reads the cron in its own time zone', () => {
    const utc = nightly({ name: 'utc', timezone: 'UTC' });
    const newYork = nightly({ name: 'ny', timezone: 'America/New_York' });
    const result = evaluate('2025-03-02T10:00:00Z', '2025-03-02T00:00:00Z', utc, newYork);
    expect(result.requests.map((r) => [r.schedule.name, r.tickTime.toISOString()])).toEqual([
      ['utc', '2025-03-02T04:30:00.000Z'],
      ['ny', '2025-03-02T09:30:00.000Z'],
    ]);
  });
});
