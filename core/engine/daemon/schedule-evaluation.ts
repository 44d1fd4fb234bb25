/**
 * Which schedules are due at a tick: pure, the clock and the stored cursors come in. A
 * schedule's cursor is the time up to which its cron ticks were evaluated. Cron ticks passed
 * while the daemon was down are caught up with one run, for the latest of them; the others are
 * recorded as skipped. A schedule seen for the first time starts from the tick's clock.
 */
import type { AssetSpec } from '../../model/definitions/asset-spec.ts';
import { cronTicksBetween, latestCronTick, nextCronTick } from '../../model/definitions/cron-expression.ts';
import type { ScheduleDefinition } from '../../model/definitions/schedule-definition.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { selectAssets } from '../../model/selection/index.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import { tickTarget, type AssetPartitions } from './asset-partitions.ts';

/** The cursor name of a schedule. */
export function scheduleCursor(name: string): string {
  return `schedule:${name}`;
}

/** A run a schedule asks for at one of its cron ticks. */
export interface ScheduleRequest {
  readonly schedule: ScheduleDefinition;
  /** The cron tick (the partition is chosen as of this time). */
  readonly tickTime: Date;
  readonly partitions: AssetPartitions;
}

/** What evaluating the schedules at one tick gives. */
export interface ScheduleEvaluation {
  readonly requests: readonly ScheduleRequest[];
  /** Skipped (missed) cron ticks, first evaluations, and schedules whose tick selected nothing. */
  readonly decisions: readonly TickDecision[];
  /** New cursor values to store with the tick. */
  readonly cursors: Readonly<Record<string, string>>;
}

/**
 * Evaluates every schedule at `now` against `cursors` (as stored: ISO timestamps).
 *
 * @example
 * const { requests, decisions, cursors } = evaluateSchedules({ schedules: project.schedules, graph: project.graph, cursors: stored, now });
 */
export function evaluateSchedules(options: {
  readonly schedules: readonly ScheduleDefinition[];
  readonly graph: AssetGraph;
  readonly cursors: Readonly<Record<string, string>>;
  readonly now: Date;
}): ScheduleEvaluation {
  const { graph, now } = options;
  const requests: ScheduleRequest[] = [];
  const decisions: TickDecision[] = [];
  const cursors: Record<string, string> = {};
  for (const schedule of options.schedules) {
    const name = scheduleCursor(schedule.name);
    cursors[name] = now.toISOString();
    const stored = options.cursors[name];
    const since = stored === undefined ? undefined : new Date(stored);
    if (since === undefined || Number.isNaN(since.getTime())) {
      const next = nextCronTick(schedule.cron, schedule.timezone, now);
      // A tick exactly at the first evaluation still counts.
      const atNow = latestCronTick(schedule.cron, schedule.timezone, now)?.getTime() === now.getTime();
      if (!atNow) {
        decisions.push({
          source: 'schedule',
          name: schedule.name,
          action: 'skipped',
          reason: `first evaluation: the schedule starts now${next ? `; next tick ${next.toISOString()}` : ''}`,
          targets: [],
        });
        continue;
      }
    }
    const due =
      since === undefined || Number.isNaN(since.getTime())
        ? { count: 1, ticks: [now], truncated: false }
        : cronTicksBetween(schedule.cron, schedule.timezone, since, now);
    if (due.count === 0) continue;
    const latest = due.ticks.at(-1) as Date;
    const missed = due.ticks.slice(0, -1);
    for (const tick of missed) {
      decisions.push({
        source: 'schedule',
        name: schedule.name,
        action: 'skipped',
        reason: `tick ${tick.toISOString()} missed while the daemon was not running: only the latest missed tick (${latest.toISOString()}) runs`,
        targets: [],
        tickTime: tick.getTime(),
      });
    }
    const unlisted = due.count - 1 - missed.length;
    if (unlisted > 0) {
      decisions.push({
        source: 'schedule',
        name: schedule.name,
        action: 'skipped',
        reason: `${due.truncated ? 'at least ' : ''}${unlisted} more missed tick${unlisted === 1 ? '' : 's'} before ${missed[0]?.toISOString() ?? latest.toISOString()} not listed`,
        targets: [],
      });
    }
    const { partitions, problems } = scheduledPartitions(schedule, graph, latest);
    for (const problem of problems) decisions.push({ ...problem, tickTime: latest.getTime() });
    if (partitions.size === 0) {
      decisions.push({
        source: 'schedule',
        name: schedule.name,
        action: 'skipped',
        reason: `tick ${latest.toISOString()}: nothing to materialize`,
        targets: [],
        tickTime: latest.getTime(),
      });
      continue;
    }
    requests.push({ schedule, tickTime: latest, partitions });
  }
  return { requests, decisions, cursors };
}

/**
 * The asset partitions one tick of a schedule materializes: its selection (source assets left
 * out), with the latest complete partition at the tick shifted by the schedule's offset, or
 * every partition when the schedule names none.
 */
export function scheduledPartitions(
  schedule: ScheduleDefinition,
  graph: AssetGraph,
  tickTime: Date,
): { partitions: AssetPartitions; problems: TickDecision[] } {
  const partitions = new Map<string, readonly (string | null)[]>();
  const problems: TickDecision[] = [];
  for (const key of selectAssets(graph, schedule.selection).keys) {
    const spec = graph.spec(key);
    if (spec.source) continue;
    const chosen = partitionsAtTick(spec, schedule, tickTime);
    if (chosen.length === 0) {
      problems.push({
        source: 'schedule',
        name: schedule.name,
        action: 'skipped',
        reason: `${key} has no partition ${schedule.partition?.offset ? `${-schedule.partition.offset} before the latest ` : ''}complete at ${tickTime.toISOString()}`,
        targets: [tickTarget(key, [null])],
      });
      continue;
    }
    partitions.set(key, chosen);
  }
  return { partitions, problems };
}

function partitionsAtTick(spec: AssetSpec, schedule: ScheduleDefinition, tickTime: Date): readonly (string | null)[] {
  const definition = spec.partitions;
  if (!definition) return [null];
  const keys = definition.keys(tickTime);
  if (schedule.partition === undefined || definition.type === 'static') return keys;
  const chosen = keys[keys.length - 1 + schedule.partition.offset];
  return chosen === undefined ? [] : [chosen];
}
