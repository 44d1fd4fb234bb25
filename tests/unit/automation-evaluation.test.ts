import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { all, eager, onCron, onMissing, type AutomationCondition } from '../../core/model/definitions/automation-condition.ts';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { evaluateAutomation, type AutomationInputs } from '../../core/engine/daemon/automation-evaluation.ts';
import { daily } from '../../core/model/partitions/index.ts';
import type { StalePartition, StaleReason, StalenessReport } from '../../core/model/staleness/stale-partition.ts';

const noop = () => undefined;
const DAYS = daily({ start: '2025-03-01', timezone: 'UTC' });
const NOW = new Date('2025-03-03T06:00:00Z');
const P = '2025-03-01';

/** raw/root → staging/mid → marts/leaf, daily; `conditions` gives mid and leaf their automation. */
function chain(mid?: AutomationCondition, leaf?: AutomationCondition): AssetGraph {
  return AssetGraph.build(
    [
      asset({ key: 'raw/root', partitions: DAYS, materialize: noop }),
      asset({ key: 'staging/mid', deps: ['raw/root'], partitions: DAYS, ...(mid ? { automation: mid } : {}), materialize: noop }),
      asset({ key: 'marts/leaf', deps: ['staging/mid'], partitions: DAYS, ...(leaf ? { automation: leaf } : {}), materialize: noop }),
    ].map((d) => d.spec),
  );
}

/** A report of hand-built stale partitions. */
function report(...stale: [key: string, partition: string | null, ...reasons: StaleReason[]][]): StalenessReport {
  const list: StalePartition[] = stale.map(([key, partition, ...reasons]) => ({ key, partition, reasons }));
  return { stale: list, now: NOW, reasonsOf: (key, partition) => list.find((s) => s.key === key && s.partition === partition)?.reasons };
}

function evaluate(graph: AssetGraph, stale: StalenessReport, extra: Partial<AutomationInputs> = {}) {
  return evaluateAutomation({ graph, report: stale, latest: new Map(), inFlight: new Map(), now: NOW, ...extra });
}

const changed = (upstream: string): StaleReason => ({ kind: 'upstream_changed', upstream, consumed: 'a', current: 'b' });
const staleUp = (upstream: string): StaleReason => ({ kind: 'upstream_stale', upstream });
const MISSING: StaleReason = { kind: 'missing' };
/** Every partition of raw/root materialized at `at`. */
const rootAt = (at: number) => new Map(['2025-03-01', '2025-03-02'].map((p) => [`raw/root@${p}`, at]));

describe('eager()', () => {
  it('requests a partition whose upstream was updated, and the stale partition below it in the same tick, in order', () => {
    const result = evaluate(chain(eager(), eager()), report(['staging/mid', P, changed(`raw/root@${P}`)], ['marts/leaf', P, staleUp(`staging/mid@${P}`)]), {
      latest: rootAt(1),
    });
    expect([...result.requested]).toEqual([
      ['staging/mid', [P]],
      ['marts/leaf', [P]],
    ]);
    expect(result.decisions.map((d) => [d.name, d.action, d.reason])).toEqual([
      ['staging/mid', 'requested', `eager(): upstream updated: raw/root@${P}`],
      ['marts/leaf', 'requested', `eager(): upstream requested in this tick: staging/mid@${P}`],
    ]);
    expect(result.retry).toBe(false);
  });

  it('waits when the stale upstream is not requested (no automation there)', () => {
    const result = evaluate(chain(undefined, eager()), report(['staging/mid', P, changed(`raw/root@${P}`)], ['marts/leaf', P, staleUp(`staging/mid@${P}`)]), {
      latest: new Map([[`staging/mid@${P}`, 1]]),
    });
    expect(result.requested.size).toBe(0);
    expect(result.decisions).toEqual([
      expect.objectContaining({
        name: 'marts/leaf',
        action: 'skipped',
        reason: expect.stringMatching(/waiting for a stale upstream: staging\/mid@2025-03-01 is stale/),
      }),
    ]);
  });

  it('requests missing partitions once their upstream exists, and waits for a missing upstream', () => {
    const stale = report(['staging/mid', '2025-03-01', MISSING], ['staging/mid', '2025-03-02', MISSING]);
    const some = evaluate(chain(eager()), stale, { latest: new Map([['raw/root@2025-03-01', 1]]) });
    expect(some.requested.get('staging/mid')).toEqual(['2025-03-01']);
    expect(some.decisions.map((d) => [d.action, d.reason])).toEqual([
      ['requested', 'eager(): missing'],
      ['skipped', 'eager(): waiting for a missing upstream: raw/root@2025-03-02 was never materialized'],
    ]);
    const both = evaluate(chain(eager()), stale, { latest: rootAt(1) });
    expect(both.requested.get('staging/mid')).toEqual(['2025-03-01', '2025-03-02']);
    expect(both.decisions).toEqual([expect.objectContaining({ action: 'requested', reason: 'eager(): missing (and 1 more partition)' })]);
  });

  it('waits while an upstream partition is in flight, and skips a partition in flight itself', () => {
    const stale = report(['staging/mid', P, changed(`raw/root@${P}`)], ['marts/leaf', P, staleUp(`staging/mid@${P}`)]);
    const upstreamBusy = evaluate(chain(eager(), eager()), stale, { latest: rootAt(1), inFlight: new Map([[`raw/root@${P}`, 'run-aaaaaaaa']]) });
    expect(upstreamBusy.requested.size).toBe(0);
    expect(upstreamBusy.decisions[0]?.reason).toBe(`eager(): waiting for an upstream in flight: raw/root@${P} (run run-aaaa)`);
    const selfBusy = evaluate(chain(eager(), eager()), stale, { latest: rootAt(1), inFlight: new Map([[`staging/mid@${P}`, 'run-bbbbbbbb']]) });
    expect(selfBusy.requested.size).toBe(0);
    expect(selfBusy.decisions.map((d) => [d.name, d.reason])).toEqual([
      ['staging/mid', 'eager(): in flight: run run-bbbb is materializing it'],
      ['marts/leaf', `eager(): waiting for an upstream in flight: staging/mid@${P} (run run-bbbb)`],
    ]);
  });

  it('ignores fresh partitions and code changes', () => {
    expect(evaluate(chain(eager(), eager()), report()).decisions).toEqual([]);
    const code = evaluate(chain(eager()), report(['staging/mid', P, { kind: 'code_changed', recorded: 'a', current: 'b' }]), { latest: rootAt(1) });
    expect(code.requested.size).toBe(0);
  });
});

describe('failed attempts', () => {
  const failed = (at: number): StaleReason => ({ kind: 'failed', runId: 'run-failed1', message: 'boom', at });

  it('are retried once', () => {
    const result = evaluate(chain(eager()), report(['staging/mid', P, failed(100)]), { latest: rootAt(50) });
    expect(result.requested.get('staging/mid')).toEqual([P]);
    expect(result.retry).toBe(true);
    expect(result.decisions[0]?.reason).toBe('eager(): retry: last attempt failed in run run-fail');
  });

  it('are not retried again until an upstream update newer than the failure', () => {
    const stale = report(['staging/mid', P, failed(100), changed(`raw/root@${P}`)]);
    const retryable = () => false;
    const waiting = evaluate(chain(eager()), stale, { latest: rootAt(50), retryable });
    expect(waiting.requested.size).toBe(0);
    expect(waiting.decisions[0]?.reason).toMatch(/failed, not retried again: run run-fail failed; waiting for an upstream update/);
    const updated = evaluate(chain(eager()), stale, { latest: rootAt(150), retryable });
    expect(updated.requested.get('staging/mid')).toEqual([P]);
    expect(updated.decisions[0]?.reason).toBe(`eager(): upstream updated: raw/root@${P}`);
  });
});

describe('onCron()', () => {
  // Ticks at 05:00 UTC: at NOW (2025-03-03 06:00) the latest tick is 2025-03-03 05:00, whose latest complete day is 2025-03-02.
  const TICK = Date.parse('2025-03-03T05:00:00Z');
  const cronGraph = () => chain(onCron('0 5 * * *'));

  it('waits until every upstream partition of the latest window is updated since the tick', () => {
    const before = evaluate(cronGraph(), report(), { latest: new Map([['raw/root@2025-03-02', TICK - 1]]) });
    expect(before.requested.size).toBe(0);
    expect(before.decisions).toEqual([
      expect.objectContaining({
        action: 'skipped',
        reason: expect.stringMatching(/waiting for upstream updates since the cron tick: raw\/root@2025-03-02 not updated since 2025-03-03T05:00:00.000Z/),
      }),
    ]);
    const after = evaluate(cronGraph(), report(), { latest: new Map([['raw/root@2025-03-02', TICK + 1]]) });
    expect([...after.requested]).toEqual([['staging/mid', ['2025-03-02']]]);
    expect(after.decisions[0]?.reason).toBe("on_cron('0 5 * * *', 'UTC'): cron tick: 2025-03-03T05:00:00.000Z, every upstream updated since");
  });

  it('requests once per tick: not again after the partition was updated since the tick', () => {
    const latest = new Map([
      ['raw/root@2025-03-02', TICK + 1],
      ['staging/mid@2025-03-02', TICK + 2],
    ]);
    expect(evaluate(cronGraph(), report(), { latest }).decisions).toEqual([]);
  });

  it('combines: all(on_cron, on_missing) requests only a missing partition at the tick', () => {
    const graph = chain(all(onCron('0 5 * * *'), onMissing()));
    const latest = new Map([['raw/root@2025-03-02', TICK + 1]]);
    expect(evaluate(graph, report(), { latest }).requested.size).toBe(0);
    const missing = evaluate(graph, report(['staging/mid', '2025-03-02', MISSING]), { latest });
    expect(missing.requested.get('staging/mid')).toEqual(['2025-03-02']);
    expect(missing.decisions[0]?.reason).toMatch(/cron tick and missing/);
    const either = evaluate(chain(eager().or(onCron('0 5 * * *'))), report(), { latest });
    expect(either.requested.get('staging/mid')).toEqual(['2025-03-02']);
  });
});

describe('seeds (no condition of their own)', () => {
  /** seeds/fees → marts/total, unpartitioned; `condition` is the mart's automation. */
  function seeded(condition?: AutomationCondition): AssetGraph {
    return AssetGraph.build(
      [
        asset({ key: 'seeds/fees', materialize: noop }),
        asset({ key: 'marts/total', deps: ['seeds/fees'], ...(condition ? { automation: condition } : {}), materialize: noop }),
      ].map((d) => d.spec),
    );
  }
  const SEEDS = new Set(['seeds/fees']);
  const EDITED: StaleReason = { kind: 'code_changed', recorded: 'a', current: 'b' };
  const built = new Map([
    ['seeds/fees', 1],
    ['marts/total', 1],
  ]);
  const decided = (result: ReturnType<typeof evaluate>) => result.decisions.map((d) => [d.name, d.action, d.reason]);

  it('requests an edited or missing seed that an eager() asset reads, and that asset with it in the same tick', () => {
    const edited = evaluate(seeded(eager()), report(['seeds/fees', null, EDITED], ['marts/total', null, staleUp('seeds/fees')]), {
      seeds: SEEDS,
      latest: built,
    });
    expect([...edited.requested]).toEqual([
      ['seeds/fees', [null]],
      ['marts/total', [null]],
    ]);
    expect(decided(edited)).toEqual([
      ['seeds/fees', 'requested', 'seed file changed, read by eager() marts/total'],
      ['marts/total', 'requested', 'eager(): upstream requested in this tick: seeds/fees'],
    ]);
    const missing = evaluate(seeded(all(eager(), onMissing())), report(['seeds/fees', null, MISSING], ['marts/total', null, MISSING]), { seeds: SEEDS });
    expect([...missing.requested.keys()]).toEqual(['seeds/fees', 'marts/total']);
    expect(decided(missing)[0]).toEqual(['seeds/fees', 'requested', 'seed never loaded, read by eager() marts/total']);
  });

  it('leaves a seed alone when no eager() asset reads it, when its last load failed, and while it is in flight', () => {
    const stale = report(['seeds/fees', null, EDITED], ['marts/total', null, staleUp('seeds/fees')]);
    expect(evaluate(seeded(onMissing()), stale, { seeds: SEEDS, latest: built }).requested.size).toBe(0);
    expect(evaluate(seeded(eager()), stale, { latest: built }).requested.size).toBe(0);
    const failed = report(
      ['seeds/fees', null, { kind: 'failed', runId: 'run-bbbbbbbb', message: 'bad csv', at: 2 }, EDITED],
      ['marts/total', null, staleUp('seeds/fees')],
    );
    expect(evaluate(seeded(eager()), failed, { seeds: SEEDS, latest: built }).requested.size).toBe(0);
    const busy = evaluate(seeded(eager()), stale, { seeds: SEEDS, latest: built, inFlight: new Map([['seeds/fees', 'run-aaaaaaaa']]) });
    expect(busy.requested.size).toBe(0);
    expect(decided(busy)[0]).toEqual(['seeds/fees', 'skipped', 'seed file changed: in flight: run run-aaaa is materializing it']);
  });
});
