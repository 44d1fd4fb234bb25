/**
 * The alert observer: told every recorded event, it keeps those that match a rule (kind and
 * selection) in per-group batches, writes them to storage in the background (adding to the one
 * open group of each rule, kind and asset, shared by every process), then claims the groups that
 * are due and sends one summary each, with retries and backoff. A delivery that fails for good is
 * stored on its group and told to `notice`; nothing here ever fails a run.
 */
import type { AlertRule } from '../../model/config/alert-rules.ts';
import { alertOf, type AlertOccurrence } from '../../model/alerts/alert-event.ts';
import { alertPayload } from '../../model/alerts/alert-message.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { selectAssets } from '../../model/selection/index.ts';
import type { AlertDeliveryRecord, AlertEventBatch } from '../../../storage/alert-delivery-store.ts';
import type { EventRecord, Storage } from '../../../storage/storage.ts';
import { sendAlert } from './alert-senders.ts';

/** How long events are collected before they are written. */
const BATCH_MS = 200;

/** Attempts per target and the wait before the second (each later wait is 4× the previous). */
export interface AlertRetry {
  readonly attempts: number;
  readonly firstDelayMs: number;
}

/** The default: 4 attempts, after 0.5 s, 2 s and 8 s. */
export const DEFAULT_ALERT_RETRY: AlertRetry = Object.freeze({ attempts: 4, firstDelayMs: 500 });

/** What an {@link AlertObserver} works with. */
export interface AlertObserverOptions {
  readonly rules: readonly AlertRule[];
  readonly graph: AssetGraph;
  readonly storage: () => Promise<Storage>;
  readonly notice: (message: string) => void;
  /** Where the UI is served (links in messages). */
  readonly uiUrl: string;
  /** Environment variables of targets (default: `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: AlertRetry;
  /** How often due groups are looked for while this process has open ones (default 1 s). */
  readonly pollMs?: number;
  /** A group claimed longer ago than this and not finished is claimed again (its claimer died; default 10 min). */
  readonly staleClaimMs?: number;
  readonly now?: () => number;
}

/** A group's events seen since the last write, mutable while it is collected. */
interface OpenBatch {
  rule: AlertRule;
  first: AlertOccurrence;
  count: number;
  lastAt: number;
  firstPartition: string | null;
  lastPartition: string | null;
}

/** Sends a project's alerts: a run observer (see ../runs/run-observers.ts), one per process. */
export class AlertObserver {
  readonly #o: AlertObserverOptions;
  /** The keys each rule's selection picks (absent: every asset). */
  readonly #selected = new Map<string, ReadonlySet<string>>();
  readonly #batches = new Map<string, OpenBatch>();
  /** Runs with a recorded step failure: their run_failure is not one more alert. */
  readonly #failedSteps = new Set<string>();
  #work: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** Until when this process polls for due groups (the latest due time of a group it wrote to). */
  #watchUntil = 0;
  #deadline: number | undefined;
  #stopped = new AbortController();

  constructor(options: AlertObserverOptions) {
    this.#o = options;
    for (const rule of options.rules) {
      if (rule.select !== undefined) this.#selected.set(rule.name, new Set(selectAssets(options.graph, rule.select).keys));
    }
  }

  onRunEvent(event: EventRecord): void {
    if (event.type === 'step_failure') this.#failedSteps.add(event.runId);
    const alert = alertOf(event, this.#failedSteps);
    if (event.type === 'run_failure' || event.type === 'run_success' || event.type === 'run_canceled') this.#failedSteps.delete(event.runId);
    if (alert === undefined) {
      if (this.#batches.size > 0 && event.type.startsWith('run_')) this.#schedule(0);
      return;
    }
    const keys = Array.isArray(event.data?.keys) ? (event.data.keys as unknown[]).filter((k): k is string => typeof k === 'string') : undefined;
    for (const rule of this.#o.rules) {
      if (rule.on.includes(alert.kind) && this.#matches(rule, alert.assetKey, keys)) this.#add(rule, alert);
    }
    // A burst of events (a failing backfill) is written in one pass; a run's end at once, so a
    // process exiting after it finds what the run added (see #pass).
    this.#schedule(event.type.startsWith('run_') ? 0 : BATCH_MS);
  }

  /** Writes what is collected, then claims and sends every pending group of these rules, waiting at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    this.#deadline = this.#now() + timeoutMs;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const done = this.#enqueue(true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    this.#stopped.abort();
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /** Whether the rule selects the event's asset; an event about no asset matches unless it names keys none of which is selected. */
  #matches(rule: AlertRule, assetKey: string | null, keys: readonly string[] | undefined): boolean {
    const selected = this.#selected.get(rule.name);
    if (selected === undefined) return true;
    if (assetKey !== null) return selected.has(assetKey);
    return keys === undefined || keys.some((key) => selected.has(key));
  }

  #add(rule: AlertRule, alert: AlertOccurrence): void {
    const id = `${rule.name}\u0000${alert.kind}\u0000${alert.assetKey ?? ''}`;
    const batch = this.#batches.get(id);
    if (batch === undefined) {
      const range = alert.partitions;
      this.#batches.set(id, {
        rule,
        first: alert,
        count: 1,
        lastAt: alert.timestamp,
        firstPartition: range?.first ?? null,
        lastPartition: range?.last ?? null,
      });
      return;
    }
    batch.count += 1;
    batch.lastAt = Math.max(batch.lastAt, alert.timestamp);
    const range = alert.partitions;
    if (range !== null) {
      if (batch.firstPartition === null || range.first < batch.firstPartition) batch.firstPartition = range.first;
      if (batch.lastPartition === null || range.last > batch.lastPartition) batch.lastPartition = range.last;
    }
  }

  /** Runs a pass after `delayMs` unless one is already planned (a pass asked for now replaces a later one). */
  #schedule(delayMs: number): void {
    if (this.#deadline !== undefined) return;
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#enqueue(false);
    }, delayMs);
    this.#timer.unref();
  }

  /** One pass after the ones already going: write batches, claim due groups (or all, at exit), send them. */
  #enqueue(all: boolean): Promise<void> {
    this.#work = this.#work.then(() => this.#pass(all)).catch((error: unknown) => this.#o.notice(`alerts: ${(error as Error).message}`));
    return this.#work;
  }

  async #pass(all: boolean): Promise<void> {
    const storage = await this.#o.storage();
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    for (const batch of batches) {
      const row = toRow(batch);
      await storage.recordAlertEvents(row);
      this.#watchUntil = Math.max(this.#watchUntil, row.dueAt);
    }
    const now = this.#now();
    // At exit, groups not yet due are sent too, unless runs are still queued or going somewhere
    // (other workers): those may still add to them, and the last process to exit sends them.
    const sendAll = all && !(await runsGoing(storage));
    const claimed = await storage.claimAlertDeliveries({
      now,
      rules: this.#o.rules.map((r) => r.name),
      staleBefore: now - (this.#o.staleClaimMs ?? 600_000),
      ...(sendAll ? { all: true } : {}),
    });
    await Promise.all(claimed.map((group) => this.#deliver(storage, group)));
    if (!all && this.#now() <= this.#watchUntil) this.#schedule(this.#o.pollMs ?? 1_000);
  }

  /** Sends one group to every target of its rule, with retries; records how it went. */
  async #deliver(storage: Storage, group: AlertDeliveryRecord): Promise<void> {
    const rule = this.#o.rules.find((r) => r.name === group.rule);
    if (rule === undefined) return;
    const payload = alertPayload(group, this.#o.uiUrl);
    const retry = this.#o.retry ?? DEFAULT_ALERT_RETRY;
    const errors: string[] = [];
    let attempts = 0;
    for (const target of rule.targets) {
      for (let attempt = 1; ; attempt++) {
        attempts = Math.max(attempts, attempt);
        try {
          await sendAlert(target, payload, { env: this.#o.env ?? process.env, signal: this.#stopped.signal });
          break;
        } catch (error) {
          const delay = retry.firstDelayMs * 4 ** (attempt - 1);
          const outOfTime = this.#deadline !== undefined && this.#now() + delay > this.#deadline;
          if (attempt >= retry.attempts || outOfTime) {
            errors.push(`${target.type}: ${(error as Error).message}`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
        }
      }
    }
    const failed = errors.length > 0;
    await storage.finishAlertDelivery(group.id, {
      status: failed ? 'failed' : 'delivered',
      attempts,
      lastError: failed ? errors.join('; ') : null,
      at: this.#now(),
    });
    if (failed)
      this.#o.notice(`alert ${rule.name} not delivered (${payload.summary}) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errors.join('; ')}`);
  }
}

/** Whether any run is queued or running, in any process. */
async function runsGoing(storage: Storage): Promise<boolean> {
  for (const status of ['running', 'queued'] as const) if ((await storage.listRuns({ status, limit: 1 })).length > 0) return true;
  return false;
}

/** A collected batch as storage takes it. */
function toRow(batch: OpenBatch): AlertEventBatch {
  const { rule, first } = batch;
  return {
    rule: rule.name,
    kind: first.kind,
    assetKey: first.assetKey,
    count: batch.count,
    firstAt: first.timestamp,
    lastAt: batch.lastAt,
    firstPartition: batch.firstPartition,
    lastPartition: batch.lastPartition,
    dueAt: first.timestamp + rule.windowMs,
    sample: {
      runId: first.runId,
      message: first.message,
      ...(first.partition === null ? {} : { partition: first.partition }),
      ...(first.error === undefined ? {} : { error: first.error }),
      ...(first.status === undefined ? {} : { status: first.status }),
    },
  };
}
