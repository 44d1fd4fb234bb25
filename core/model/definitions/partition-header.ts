import { daily, hourly, monthly, parseMapping, staticPartitions, weekly } from '../partitions/index.ts';
import type { PartitionMapping } from '../partitions/partition-mapping.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';
import type { BackfillPolicy } from './asset-spec.ts';

/**
 * Readers of the partition settings a SQL file's header may give:
 *
 * ```sql
 * -- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=Europe/Paris)
 * -- partition_column: business_date
 * -- partition_mapping: raw/orders = window(0, 1)
 * -- backfill_policy: single_run(max=31)
 * ```
 * Each throws an Error with a message fit for a definition error.
 */

const CADENCES = { hourly, daily, weekly, monthly } as const;
const CALL = /^([a-z_]+)\s*\((.*)\)$/s;

/** `daily(start=2025-01-01, timezone=UTC)` or `static(a, b, c)`. */
export function parsePartitionsText(text: string): PartitionsDefinition {
  const call = CALL.exec(text.trim());
  if (!call) throw new Error(`partitioned_by "${text}" is not of the form daily(start=YYYY-MM-DD, ...) or static(a, b)`);
  const [, name = '', argText = ''] = call;
  const args = argText
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (name === 'static') return staticPartitions(args);
  const factory = CADENCES[name as keyof typeof CADENCES];
  if (!factory) throw new Error(`partitioned_by: unknown partitions "${name}" (use hourly, daily, weekly, monthly or static)`);
  const options: { start?: string; end?: string; timezone?: string; endOffset?: number } = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const field = arg.slice(0, eq).trim();
    const value = arg.slice(eq + 1).trim();
    if (eq === -1) throw new Error(`partitioned_by: "${arg}" should be name=value`);
    if (field === 'start' || field === 'end' || field === 'timezone') options[field] = value;
    else if (field === 'end_offset' && /^-?\d+$/.test(value)) options.endOffset = Number(value);
    else throw new Error(`partitioned_by: unknown or invalid setting "${arg}" (use start, end, timezone, end_offset)`);
  }
  if (options.start === undefined) throw new Error(`partitioned_by: ${name}(...) needs start=YYYY-MM-DD`);
  return factory({ ...options, start: options.start });
}

/** `raw/orders = window(0, 1)` → the key and its mapping. */
export function parseMappingLine(text: string): { key: string; mapping: PartitionMapping } {
  const eq = text.indexOf('=');
  if (eq === -1) throw new Error(`partition_mapping "${text}" should be KEY = MAPPING, e.g. raw/orders = window(-6, 0)`);
  return { key: text.slice(0, eq).trim(), mapping: parseMapping(text.slice(eq + 1).trim()) };
}

/** `multi_run`, `single_run` or `single_run(max=31)`. */
export function parseBackfillPolicy(text: string): BackfillPolicy {
  const value = text.trim();
  if (value === 'multi_run') return { type: 'multi_run' };
  if (value === 'single_run') return { type: 'single_run' };
  const max = /^single_run\s*\(\s*max\s*=\s*(\d+)\s*\)$/.exec(value);
  if (max && Number(max[1]) > 0) return { type: 'single_run', maxPartitionsPerRun: Number(max[1]) };
  throw new Error(`backfill_policy must be multi_run, single_run or single_run(max=N), not "${value}"`);
}
