/**
 * Freshness at a fixed clock from stored materializations: unpartitioned, time-window and static
 * partitions, never materialized, the boundary, and a fast-check oracle that finds the newest
 * time-window partition by scanning every partition the definition has.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assetFreshness, type MaterializedPartition } from '../../core/model/freshness/asset-freshness.ts';
import { freshnessText } from '../../core/model/format/freshness-text.js';
import { daily, hourly, monthly, staticPartitions, weekly } from '../../core/model/partitions/index.ts';

const HOUR = 3_600_000;
const policy = { maxLagMs: 26 * HOUR };
const at = (iso: string) => new Date(iso);
const ms = (iso: string) => Date.parse(iso);

describe('assetFreshness', () => {
  it('measures an unpartitioned asset from its last materialization', () => {
    const stored = [{ partition: null, timestamp: ms('2025-03-10T06:00:00Z') }];
    const fresh = assetFreshness(policy, undefined, stored, at('2025-03-11T08:00:00Z'));
    expect(fresh).toEqual({
      status: 'fresh',
      maxLagMs: 26 * HOUR,
      lagMs: 26 * HOUR,
      lastMaterializedAt: ms('2025-03-10T06:00:00Z'),
      partition: null,
      dataTime: ms('2025-03-10T06:00:00Z'),
      overdueAt: ms('2025-03-11T08:00:00Z'),
    });
    const late = assetFreshness(policy, undefined, stored, at('2025-03-11T11:00:00Z'));
    expect(late).toMatchObject({ status: 'overdue', lagMs: 29 * HOUR });
    expect(freshnessText(fresh)).toBe('ok');
    expect(freshnessText(late)).toBe('overdue 3h');
  });

  it('is overdue with no data when never materialized', () => {
    const never = assetFreshness(policy, daily({ start: '2025-03-01' }), [], at('2025-03-11T00:00:00Z'));
    expect(never).toEqual({ status: 'overdue', maxLagMs: 26 * HOUR, lagMs: null, lastMaterializedAt: null, partition: null, dataTime: null, overdueAt: null });
    expect(freshnessText(never)).toBe('overdue (no data)');
  });

  it('measures time-window partitions from the end of the newest materialized partition, gaps before it ignored', () => {
    const partitions = daily({ start: '2025-03-01' });
    const stored: MaterializedPartition[] = [
      // Written last, but an old partition: it does not make the data newer.
      { partition: '2025-03-02', timestamp: ms('2025-03-12T09:00:00Z') },
      { partition: '2025-03-09', timestamp: ms('2025-03-10T01:00:00Z') },
      // 2025-03-08 missing: a gap, not lateness.
      { partition: '2025-03-07', timestamp: ms('2025-03-08T01:00:00Z') },
    ];
    const state = assetFreshness(policy, partitions, stored, at('2025-03-11T04:00:00Z'));
    expect(state).toMatchObject({ status: 'overdue', partition: '2025-03-09', lagMs: 28 * HOUR, lastMaterializedAt: ms('2025-03-10T01:00:00Z') });
    expect(state.dataTime).toBe(ms('2025-03-10T00:00:00Z'));
    expect(assetFreshness(policy, partitions, stored, at('2025-03-11T02:00:00Z')).status).toBe('fresh');
  });

  it('ignores partitions that do not exist at the clock and unpartitioned rows of a partitioned asset', () => {
    const partitions = daily({ start: '2025-03-01', end: '2025-03-05' });
    const stored = [
      { partition: '2025-03-03', timestamp: ms('2025-03-04T01:00:00Z') },
      { partition: '2025-03-09', timestamp: ms('2025-03-10T01:00:00Z') },
      { partition: null, timestamp: ms('2025-03-10T01:00:00Z') },
    ];
    expect(assetFreshness(policy, partitions, stored, at('2025-03-11T00:00:00Z')).partition).toBe('2025-03-03');
  });

  it('measures static partitions from the newest materialization of any of them', () => {
    const partitions = staticPartitions(['eu', 'us']);
    const stored = [
      { partition: 'eu', timestamp: ms('2025-03-10T01:00:00Z') },
      { partition: 'us', timestamp: ms('2025-03-10T05:00:00Z') },
      { partition: 'gone', timestamp: ms('2025-03-11T00:00:00Z') },
    ];
    expect(assetFreshness(policy, partitions, stored, at('2025-03-11T08:00:00Z'))).toMatchObject({ status: 'overdue', partition: 'us', lagMs: 27 * HOUR });
  });

  it('agrees with a scan over every partition of the definition (oracle)', () => {
    const definitions = [
      hourly({ start: '2025-03-01-00:00', timezone: 'Europe/Paris' }),
      daily({ start: '2025-01-01', timezone: 'America/New_York' }),
      weekly({ start: '2025-01-06' }),
      monthly({ start: '2024-01-01', timezone: 'Australia/Lord_Howe' }),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: definitions.length - 1 }),
        fc.integer({ min: ms('2025-03-02T00:00:00Z'), max: ms('2025-06-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 60 * 24 * HOUR }),
        fc.array(fc.tuple(fc.nat({ max: 10_000 }), fc.integer({ min: 0, max: 400 * 24 * HOUR })), { maxLength: 12 }),
        (which, clock, maxLagMs, picks) => {
          const partitions = definitions[which]!;
          const now = new Date(clock);
          const keys = partitions.keys(now);
          // Stored keys may lie past the clock (they do not exist yet): drawn from 40 days later's keys.
          const universe = partitions.keys(new Date(clock + 40 * 24 * HOUR));
          const stored = picks.map(([i, t]) => ({ partition: universe[universe.length - 1 - (i % universe.length)] as string, timestamp: clock - t }));
          const latest = new Map<string, number>();
          for (const m of stored) latest.set(m.partition, Math.max(latest.get(m.partition) ?? 0, m.timestamp));
          const latestRows = [...latest].map(([partition, timestamp]) => ({ partition, timestamp }));
          // Brute force: the last key of the definition, in order, that has a materialization.
          const newest = [...keys].reverse().find((k) => latest.has(k));
          const state = assetFreshness({ maxLagMs }, partitions, latestRows, now);
          if (newest === undefined) {
            expect(state).toMatchObject({ status: 'overdue', lagMs: null, partition: null });
            return;
          }
          const lag = clock - (partitions.window(newest)?.end.getTime() as number);
          expect(state).toMatchObject({ partition: newest, lagMs: lag, lastMaterializedAt: latest.get(newest), status: lag > maxLagMs ? 'overdue' : 'fresh' });
        },
      ),
      { numRuns: 300 },
    );
  });
});
