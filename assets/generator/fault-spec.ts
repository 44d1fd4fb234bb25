/**
 * Fault specs: which kind of bad data to inject into which day's landing files, as frozen data
 * parsed from and printed back to one text form, `2025-03-14:negative_amounts,2025-03-15:null_keys`.
 */
import { isIsoDate } from './dates.ts';

/**
 * The kinds of bad data the generator can inject, each with what it does to the day's files
 * (the text `--help` prints).
 */
export const FAULT_KINDS = Object.freeze({
  duplicate_order_ids: 'two different checks of one location exported under one order_id (orders, items and payments)',
  negative_amounts: 'captured payments (not refunds) with a negative amount',
  orphan_payments: 'payments whose order_id matches no order in any orders file',
  truncated_file: "the day's orders file cut to 5-15% of its rows",
  null_keys: 'order_items lines with a blank order_id',
} as const);

/** One kind of injected bad data. */
export type FaultKind = keyof typeof FAULT_KINDS;

/** A fault to inject into one day's landing files. */
export interface FaultSpec {
  /** The business day whose files get the fault, `YYYY-MM-DD`. */
  readonly date: string;
  readonly kind: FaultKind;
}

/** Fault kinds in the order they are applied when one day has several (whatever order they are given in). */
export const FAULT_KIND_ORDER: readonly FaultKind[] = Object.freeze(Object.keys(FAULT_KINDS) as FaultKind[]);

const EXAMPLE = '2025-03-14:negative_amounts';

/**
 * Parses `DATE:KIND[,DATE:KIND...]` into fault specs, throwing a `RangeError` that quotes the
 * bad part.
 *
 * @example
 * parseFaultSpecs('2025-03-14:duplicate_order_ids,2025-03-15:negative_amounts');
 * // [{ date: '2025-03-14', kind: 'duplicate_order_ids' }, { date: '2025-03-15', kind: 'negative_amounts' }]
 */
export function parseFaultSpecs(text: string): FaultSpec[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.every((part) => part === '')) throw new RangeError(`no faults given: write DATE:KIND, e.g. ${EXAMPLE}`);
  const faults = parts.map((part) => {
    if (part === '') throw new RangeError(`empty fault in "${text}": separate DATE:KIND items with single commas`);
    const colon = part.indexOf(':');
    if (colon === -1) throw new RangeError(`fault "${part}" is not DATE:KIND, e.g. ${EXAMPLE}`);
    return { date: part.slice(0, colon).trim(), kind: part.slice(colon + 1).trim() as FaultKind };
  });
  return checkFaultSpecs(faults);
}

/** The text form of fault specs, as {@link parseFaultSpecs} reads it. */
export function formatFaultSpecs(faults: readonly FaultSpec[]): string {
  return faults.map((f) => `${f.date}:${f.kind}`).join(',');
}

/**
 * Checks fault specs (real dates, known kinds, no fault given twice) and returns a frozen copy;
 * throws a `RangeError` naming the bad fault. With `range`, every date must be one of its days.
 */
export function checkFaultSpecs(faults: readonly FaultSpec[], range?: { readonly first: string; readonly last: string }): FaultSpec[] {
  if (!Array.isArray(faults)) throw new RangeError('faults must be a list of { date, kind }');
  const seen = new Set<string>();
  const checked = faults.map((fault) => {
    const text = `${String(fault?.date)}:${String(fault?.kind)}`;
    if (typeof fault?.date !== 'string' || !isIsoDate(fault.date)) {
      throw new RangeError(`fault "${text}": "${String(fault?.date)}" is not a date written YYYY-MM-DD`);
    }
    if (!Object.hasOwn(FAULT_KINDS, fault.kind)) {
      const suggestion = closest(String(fault.kind), FAULT_KIND_ORDER);
      throw new RangeError(
        `fault "${text}": unknown kind "${String(fault.kind)}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}; ` +
          `kinds: ${FAULT_KIND_ORDER.join(', ')}`,
      );
    }
    if (seen.has(text)) throw new RangeError(`fault "${text}" is given twice`);
    seen.add(text);
    if (range && (fault.date < range.first || fault.date > range.last)) {
      throw new RangeError(`fault "${text}": ${fault.date} is not one of the generated days ${range.first} .. ${range.last}`);
    }
    return Object.freeze({ date: fault.date, kind: fault.kind });
  });
  return Object.freeze(checked) as FaultSpec[];
}

/** The kinds to inject on each date, in {@link FAULT_KIND_ORDER}. */
export function faultsByDate(faults: readonly FaultSpec[]): Map<string, FaultKind[]> {
  const byDate = new Map<string, FaultKind[]>();
  for (const kind of FAULT_KIND_ORDER) {
    for (const fault of faults) if (fault.kind === kind) byDate.set(fault.date, [...(byDate.get(fault.date) ?? []), kind]);
  }
  return byDate;
}

/** The nearest candidate by edit distance, if near enough to be a typo of `value` (for "did you mean"). */
function closest(value: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(3, Math.floor(value.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(value.toLowerCase(), name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
