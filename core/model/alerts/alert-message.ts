/**
 * What an alert group says: one summary per group, whatever its size (`marts/daily failed 365
 * times, partitions 2024-01-01 … 2024-12-31`), as a webhook's JSON body, a Slack message and
 * an e-mail, each with a link to the asset's (or run's) page in the UI.
 */
import type { AlertDeliveryRecord } from '../../../storage/alert-delivery-store.ts';

/** The JSON body a webhook receives. */
export interface AlertPayload {
  readonly rule: string;
  readonly kind: string;
  readonly asset: string | null;
  /** How many events the group holds. */
  readonly count: number;
  /** The smallest and largest partition among them (`null`: none partitioned). */
  readonly partitions: { readonly first: string; readonly last: string } | null;
  readonly firstAt: string;
  readonly lastAt: string;
  /** The run of the first event (absent: none, as for a daemon error). */
  readonly runId?: string;
  /** The first event's message and error. */
  readonly message: string;
  readonly error?: string;
  /** The UI page of the asset (else of the run, else the UI's home). */
  readonly url: string;
  /** The summary in one line, as Slack and the e-mail subject show it. */
  readonly summary: string;
}

const WHAT: Readonly<Record<string, string>> = {
  run_failure: 'failed',
  check_failure: 'failed a check',
  check_warning: 'warned on a check',
  freshness_miss: 'missed its freshness policy',
  daemon_error: 'daemon tick failed',
  backfill_done: 'backfill ended',
};

/** The partitions of a group in words: `2025-01-01`, `2025-01-01 … 2025-12-31`, or nothing. */
function partitionText(group: AlertDeliveryRecord): string {
  if (group.firstPartition === null || group.lastPartition === null) return '';
  return group.firstPartition === group.lastPartition ? group.firstPartition : `${group.firstPartition} … ${group.lastPartition}`;
}

/** The UI page of an asset (`#/assets/a/b`) or a run. */
function pageOf(group: AlertDeliveryRecord, uiUrl: string): string {
  const base = uiUrl.replace(/\/+$/, '');
  if (group.assetKey !== null) return `${base}/#/assets/${group.assetKey.split('/').map(encodeURIComponent).join('/')}`;
  const runId = group.sample.runId;
  return typeof runId === 'string' && runId !== '' ? `${base}/#/runs/${encodeURIComponent(runId)}` : `${base}/`;
}

/**
 * The payload of a group: counts, the partition range, the first event's message and error, and
 * the UI link (`uiUrl` is where the UI is served).
 *
 * @example
 * alertPayload(group, 'http://127.0.0.1:3000').summary; // 'marts/daily failed 365 times (partitions 2024-01-01 … 2024-12-31)'
 */
export function alertPayload(group: AlertDeliveryRecord, uiUrl: string): AlertPayload {
  const sample = group.sample;
  const status = group.kind === 'backfill_done' && typeof sample.status === 'string' ? ` (${sample.status})` : '';
  const subject = group.assetKey ?? (group.kind === 'run_failure' ? 'a run' : 'strata');
  const times = group.count === 1 ? '' : ` ${group.count} times`;
  const partitions = partitionText(group);
  const summary = `${subject} ${WHAT[group.kind] ?? group.kind}${status}${times}${partitions === '' ? '' : ` (partition${group.count === 1 ? '' : 's'} ${partitions})`}`;
  return {
    rule: group.rule,
    kind: group.kind,
    asset: group.assetKey,
    count: group.count,
    partitions: group.firstPartition === null || group.lastPartition === null ? null : { first: group.firstPartition, last: group.lastPartition },
    firstAt: new Date(group.firstAt).toISOString(),
    lastAt: new Date(group.lastAt).toISOString(),
    ...(typeof sample.runId === 'string' && sample.runId !== '' ? { runId: sample.runId } : {}),
    message: typeof sample.message === 'string' ? sample.message : '',
    ...(typeof sample.error === 'string' ? { error: sample.error } : {}),
    url: pageOf(group, uiUrl),
    summary,
  };
}

/** The message's text for Slack (mrkdwn) and e-mail bodies: summary, error, rule and link. */
export function alertText(payload: AlertPayload, format: 'slack' | 'plain'): string {
  const lines = [
    format === 'slack' ? `:rotating_light: *${payload.summary}*` : payload.summary,
    payload.asset === null ? undefined : `Asset: ${payload.asset}`,
    payload.partitions === null
      ? undefined
      : `Partition: ${payload.partitions.first === payload.partitions.last ? payload.partitions.first : `${payload.partitions.first} … ${payload.partitions.last}`}`,
    payload.error === undefined ? undefined : `Error: ${payload.error}`,
    payload.count > 1 ? `Events: ${payload.count} between ${payload.firstAt} and ${payload.lastAt}` : `At: ${payload.firstAt}`,
    `Rule: ${payload.rule} (${payload.kind})`,
    format === 'slack' ? `<${payload.url}|Open in Strata>` : `Open in Strata: ${payload.url}`,
  ];
  return lines.filter((line) => line !== undefined).join('\n');
}
