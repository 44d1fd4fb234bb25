/**
 * Re-delivers single days of an existing landing zone, the way a POS back office re-sends a
 * night's export: with injected bad data ({@link injectFaults}) or clean again
 * ({@link restoreDays}). A day's files are simulated again from the seed (with the day before,
 * whose late orders it re-sends), so re-delivering is idempotent and never stacks faults.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { addDays, isIsoDate } from './dates.ts';
import { checkFaultSpecs, faultsByDate } from './fault-spec.ts';
import { writeAtomically } from './generate-landing.ts';
import { applyFaults } from './landing-faults.ts';
import { resolveGenerateOptions, simulateLanding } from './simulate-landing.ts';
import type { FaultKind, FaultSpec } from './fault-spec.ts';
import type { FaultEffect } from './landing-faults.ts';
import type { LandingFile } from './landing-files.ts';

/** How the landing zone was generated, so a re-delivered day matches its neighbours. */
export interface RedeliverOptions {
  /** The seed the zone was generated with (default 42). */
  seed?: number;
  /** The first day the zone was generated from (default `2025-01-01`); that day re-sends no orders. */
  startDate?: string;
}

/** What a re-delivery did. */
export interface RedeliverSummary {
  /** The days re-delivered, sorted. */
  readonly days: readonly string[];
  /** The files rewritten: those whose content changed (unchanged files keep their modification time). */
  readonly written: readonly string[];
  /** What each injected fault did (empty for {@link restoreDays}). */
  readonly effects: readonly FaultEffect[];
}

/**
 * Re-writes the files of each faulted day in the existing landing zone `dir` with the faults
 * injected. A later build sees new content for those days only, so their raw, staging and mart
 * partitions become stale and their checks run on the bad data.
 *
 * @example
 * await injectFaults('assets/landing', parseFaultSpecs('2025-03-14:negative_amounts'));
 */
export async function injectFaults(dir: string, faults: readonly FaultSpec[], options: RedeliverOptions = {}): Promise<RedeliverSummary> {
  const checked = checkFaultSpecs(faults);
  if (checked.length === 0) throw new RangeError('no faults given: write DATE:KIND, e.g. 2025-03-14:negative_amounts');
  const kinds = faultsByDate(checked);
  return redeliver(dir, [...kinds.keys()], kinds, options);
}

/**
 * Re-writes the files of `dates` in the existing landing zone `dir` as the generator makes
 * them, without faults: the good re-delivery after a bad one.
 *
 * @example
 * await restoreDays('assets/landing', ['2025-03-14']);
 */
export async function restoreDays(dir: string, dates: readonly string[], options: RedeliverOptions = {}): Promise<RedeliverSummary> {
  if (dates.length === 0) throw new RangeError('no days given to restore');
  return redeliver(dir, dates, new Map(), options);
}

async function redeliver(
  dir: string,
  dates: readonly string[],
  kindsByDate: ReadonlyMap<string, readonly FaultKind[]>,
  options: RedeliverOptions,
): Promise<RedeliverSummary> {
  const { seed, startDate } = resolveGenerateOptions({ seed: options.seed, startDate: options.startDate });
  for (const date of dates) {
    if (!isIsoDate(date)) throw new RangeError(`"${date}" is not a date written YYYY-MM-DD`);
    if (date < startDate) throw new RangeError(`${date} is before ${startDate}, the first generated day (pass the start the landing zone was generated from)`);
  }
  const target = path.resolve(dir);
  if (!(await isDirectory(target))) throw new Error(`no landing zone at ${target}: generate it first, then re-deliver days into it`);

  // Simulate and check every day before writing any, so a bad day leaves the zone untouched.
  const days = [...new Set(dates)].sort();
  const planned: LandingFile[] = [];
  const effects: FaultEffect[] = [];
  for (const date of days) {
    const clean = cleanDayFiles(date, seed, startDate);
    await checkSameSeed(target, clean, date, seed);
    const kinds = kindsByDate.get(date) ?? [];
    const faulted = kinds.length === 0 ? { files: clean, effects: [] } : applyFaults(clean, date, kinds, seed);
    planned.push(...faulted.files);
    effects.push(...faulted.effects);
  }
  const written: string[] = [];
  for (const file of planned) {
    if ((await readIfExists(path.join(target, file.name))) === file.text) continue;
    await writeAtomically(target, file.name, file.text);
    written.push(file.name);
  }
  return { days, written, effects };
}

/** The four files of `date` as a run from `startDate` writes them (simulating the day before too, for its re-sent orders). */
function cleanDayFiles(date: string, seed: number, startDate: string): LandingFile[] {
  const from = date === startDate ? date : addDays(date, -1);
  const files = [...simulateLanding({ startDate: from, days: date === startDate ? 1 : 2, seed })];
  return files.filter((f) => f.name.endsWith(`_${date}.csv`) || f.name.endsWith(`_${date}.tsv`));
}

/**
 * Refuses to re-deliver into a zone generated with another seed, where the day would no longer
 * match its neighbours. No fault touches the time entries, so they must match exactly.
 */
async function checkSameSeed(dir: string, clean: readonly LandingFile[], date: string, seed: number): Promise<void> {
  const witness = clean.find((f) => f.name === `time_entries_${date}.tsv`);
  if (!witness) return;
  const existing = await readIfExists(path.join(dir, witness.name));
  if (existing !== undefined && existing !== witness.text) {
    throw new Error(
      `${witness.name} in ${dir} is not what seed ${seed} generates: the landing zone was generated with other options ` +
        '(pass the seed it was generated with)',
    );
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
