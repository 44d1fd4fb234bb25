import type { EventRecord } from '../../storage/storage.ts';

/** `staging/orders`, `staging/orders@2025-01-01` or `staging/orders@2025-01-01..2025-01-31`. */
export function stepLabel(event: EventRecord): string {
  const range = event.data?.partitions as { from?: string; to?: string } | undefined;
  if (range?.from) return `${event.assetKey}@${range.from}..${range.to}`;
  if (event.partition) return `${event.assetKey}@${event.partition}`;
  return event.assetKey ?? '';
}
