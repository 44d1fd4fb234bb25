/**
 * A SQLite storage with at least one row in every table of its schema, for the tests of
 * `assets storage migrate`: a table this fixture leaves empty is one a test of the copy cannot
 * check, so the test asserts every table has rows (add a row here when a migration adds one).
 */
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStorage } from '../../storage/sqlite-storage.ts';
import { aBackfill, aCheckResult, aMaterialization, anEvent, aRun } from './storage-fixtures.ts';

/** Writes a row into every table of a new SQLite storage at `file`, through the storage API where it has a writer. */
export async function fillEveryTable(file: string): Promise<void> {
  const storage = await SqliteStorage.open(file);
  try {
    await storage.createRun(aRun('run-ok', { status: 'success', startedAt: 1_000, endedAt: 2_000 }));
    // Running, but its process is long dead (no heartbeat since t=1000): copied, not refused.
    await storage.createRun(aRun('run-dead', { status: 'running', startedAt: 1_000, heartbeatAt: 1_000 }));
    await storage.commitStep({
      events: [anEvent('run-ok', 'step done', { type: 'step_success', assetKey: 'raw/a' })],
      materializations: [
        aMaterialization('run-ok', 'raw/a', null),
        aMaterialization('run-ok', 'raw/b', '2025-01-01', { metadata: { note: 'it\'s "quoted"' } }),
      ],
      checkResults: [aCheckResult('run-ok', 'raw/a', 'not_null', { passed: false, violations: 2, durationMs: 0.125 })],
    });
    await storage.recordObservations([{ assetKey: 'landing/orders', partition: '2025-01-01', timestamp: 5_000, dataVersion: 'v1', metadata: { size: 10 } }]);
    await storage.recordLineage('def-1', [{ upstream: 'raw/a', downstream: 'raw/b' }]);
    await storage.recordColumnLineage('def-1', [
      { key: 'raw/b', columns: [{ name: 'id', sources: [{ asset: 'raw/a', column: 'id', kind: 'identity' }] }], indirect: [] },
    ]);
    await storage.createBackfill(aBackfill('backfill-1', { runIds: ['run-ok'] }));
    await storage.acquireLeases('run-dead', [{ assetKey: 'raw/b', partition: '2025-01-02' }], { now: 1_000, expiresAt: 2_000 });
    const tick = await storage.createDaemonTick({ timestamp: 6_000, status: 'running', decisions: [], runIds: [], error: null, endedAt: null });
    await storage.updateDaemonTick(tick, { status: 'success', endedAt: 6_500 }, { 'schedule:nightly': '6000' });
    const alert = { rule: 'alerts[0]', kind: 'run_failure', assetKey: 'raw/b', count: 2, firstAt: 7_000, lastAt: 7_100, dueAt: 67_000 };
    await storage.recordAlertEvents({ ...alert, firstPartition: '2025-01-01', lastPartition: '2025-01-02', sample: { runId: 'run-ok', message: 'boom' } });
    // A freshness miss episode that ended and one still open (run-less events: their runId is the tick's).
    const miss = { type: 'freshness_miss', level: 'warn', timestamp: 6_000 } as const;
    await storage.openFreshnessEpisode(
      anEvent(`daemon-tick-${tick}`, 'raw/a is overdue', { ...miss, assetKey: 'raw/a', data: { maxLagMs: 1, lagMs: 2, lastMaterializedAt: 3 } }),
    );
    await storage.endFreshnessEpisodes(['raw/a'], 6_500);
    const never = { maxLagMs: 1, lagMs: null, lastMaterializedAt: null };
    await storage.openFreshnessEpisode(
      anEvent(`daemon-tick-${tick}`, 'raw/b is overdue', { ...miss, assetKey: 'raw/b', partition: '2025-01-01', data: never }),
    );
    // Events appended then gone from the counter's view: the counter stays above the highest id.
    await storage.appendEvents([anEvent('run-ok', 'one more')]);
  } finally {
    await storage.close();
  }
  // No API writes schedule ticks any more; the table is still part of the schema.
  const db = new BetterSqlite3(file);
  try {
    db.prepare(`insert into schedule_ticks (schedule_name, tick_timestamp, status, run_ids, created_at) values ('nightly', 1, 'success', '[]', 1)`).run();
    // A daemon killed with -9 leaves its lock row behind (expired: the next daemon takes it over).
    db.prepare(`insert into daemon_lock (name, pid, host, token, acquired_at, expires_at) values ('daemon', 4000002, 'old-host', 't', 6000, 21000)`).run();
    // AUTOINCREMENT counters above the highest ids left (rows deleted at the end): the copy keeps the counters.
    db.prepare(`update sqlite_sequence set seq = seq + 7 where name in ('events', 'materializations')`).run();
  } finally {
    db.close();
  }
}
