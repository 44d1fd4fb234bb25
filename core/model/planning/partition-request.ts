import type { AssetSpec } from '../definitions/asset-spec.ts';
import { StrataError } from '../errors.ts';

/** Which partitions of the selected assets to build: one key, or an inclusive range. */
export type PartitionRequest = { readonly key: string } | { readonly from: string; readonly to: string };

const TIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:-(\d{2}):(\d{2}))?$/;

/**
 * The partitions of one asset a request covers, in order. A single key must be a partition of
 * the asset. A range `from..to` of dates (or hourly keys) takes every time window that overlaps
 * it — so a monthly asset in a daily range gets the months touched; a static range takes the
 * keys from `from` to `to` in list order. Errors name the asset and the partition.
 */
export function partitionsInRange(spec: AssetSpec, request: PartitionRequest, now: Date): readonly string[] {
  const definition = spec.partitions;
  if (!definition) return [];
  const fail = (message: string, partition: string, cause?: unknown) =>
    new StrataError('partition_invalid', message, { assetKey: spec.key, partition }, true, { cause });
  if ('key' in request) {
    try {
      definition.validateKey(request.key, now);
    } catch (error) {
      throw fail(`${spec.key}: ${(error as Error).message}`, request.key, error);
    }
    return [request.key];
  }
  const { from, to } = request;
  if (definition.type === 'static') {
    try {
      return definition.keysBetween(from, to, now);
    } catch (error) {
      throw fail(`${spec.key}: ${(error as Error).message}`, `${from}..${to}`, error);
    }
  }
  for (const [text, flag] of [
    [from, '--from'],
    [to, '--to'],
  ] as const) {
    if (!isCalendarTime(text)) throw fail(`${flag} "${text}" is not a date (YYYY-MM-DD) or an hourly key (YYYY-MM-DD-HH:mm)`, text);
  }
  if (from > to) throw fail(`the range starts after it ends: --from ${from} is after --to ${to}`, `${from}..${to}`);
  // Time-window keys sort as text in time order: a window overlaps the range when it starts
  // no later than `to` and ends (where the next window starts) after `from`.
  const keys = definition.keys(now);
  const chosen = keys.filter(
    (key, i) => key <= `${to}\uffff` && (keys[i + 1] === undefined ? windowEndsAfter(definition, key, from) : (keys[i + 1] as string) > from),
  );
  if (chosen.length === 0) {
    const span = keys.length === 0 ? 'it has no complete partitions yet' : `its partitions run from ${keys[0]} to ${keys.at(-1)}`;
    throw fail(`${spec.key} has no partitions between ${from} and ${to} (${span})`, `${from}..${to}`);
  }
  return chosen;
}

function windowEndsAfter(definition: NonNullable<AssetSpec['partitions']>, key: string, from: string): boolean {
  const local = definition.localWindow(key);
  return local === undefined ? key >= from : local.end.slice(0, from.length).replace(' ', '-') > from || key >= from;
}

/** True for a real calendar date or hour (`2025-02-30` is not one). */
export function isCalendarTime(text: string): boolean {
  const match = TIME_TEXT.exec(text);
  if (!match) return false;
  const [y = 0, m = 0, d = 0, hh = 0, mm = 0] = match.slice(1).map((part) => Number(part ?? 0));
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && hh < 24 && mm < 60;
}
