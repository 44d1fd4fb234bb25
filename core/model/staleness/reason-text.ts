import { GONE_DATA_VERSION } from '../definitions/source-asset.ts';
import { countText } from '../format/count-text.ts';
import type { StalePartition, StaleReason } from './stale-partition.ts';

/**
 * One line for a reason, e.g. `upstream raw/orders@2025-03-14 changed (3f2a… → 9c1d…)`. For a
 * seed (`seed`), whose code version is its file's content, a code change reads as a file change.
 */
export function describeReason(reason: StaleReason, seed = false): string {
  switch (reason.kind) {
    case 'missing':
      return 'never materialized';
    case 'failed':
      return `last attempt failed (run ${reason.runId.slice(0, 8)}): ${firstLine(reason.message)}`;
    case 'code_changed':
      if (seed) return `seed file or column types changed (${reason.recorded} → ${reason.current})`;
      return `code changed (${reason.recorded} → ${reason.current})`;
    case 'dependencies_changed': {
      const parts = [...reason.added.map((k) => `+${k}`), ...reason.removed.map((k) => `-${k}`)];
      return `dependencies changed${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
    }
    case 'upstream_changed':
      if (reason.current === GONE_DATA_VERSION) {
        return `upstream ${reason.upstream} is gone: its data${reason.consumed === null ? '' : ` (${short(reason.consumed)})`} is no longer there`;
      }
      return reason.consumed === null
        ? `upstream ${reason.upstream} has data it did not read`
        : `upstream ${reason.upstream} changed (${short(reason.consumed)} → ${short(reason.current)})`;
    case 'upstream_stale':
      return `upstream ${reason.upstream} is stale`;
  }
}

/** Short names of reason kinds, as the summaries print them. */
export const REASON_LABELS: Readonly<Record<StaleReason['kind'], string>> = {
  missing: 'missing',
  failed: 'failed',
  code_changed: 'code changed',
  dependencies_changed: 'deps changed',
  upstream_changed: 'upstream changed',
  upstream_stale: 'upstream stale',
};

/** `12 missing, 3 upstream changed`: stale partitions counted by their first (most direct) reason. */
export function countByReason(stale: readonly StalePartition[]): string {
  const counts = new Map<StaleReason['kind'], number>();
  for (const p of stale) {
    const kind = p.reasons[0]?.kind;
    if (kind !== undefined) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${countText(n)} ${REASON_LABELS[kind]}`).join(', ');
}

function short(version: string): string {
  return version.length > 10 ? `${version.slice(0, 8)}…` : version;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
