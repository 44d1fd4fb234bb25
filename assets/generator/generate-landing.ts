/**
 * Writes a simulated landing zone to disk, safely when several processes (or several raw
 * assets in one process) race to create it.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveGenerateOptions, simulateLanding } from './simulate-landing.ts';
import type { GenerateOptions } from './simulate-landing.ts';

/** What {@link generateLanding} wrote. */
export interface GenerateSummary {
  readonly files: number;
  /** Data rows over all files (header lines excluded). */
  readonly rows: number;
}

/**
 * Generates a landing zone of daily POS exports into `dir`.
 *
 * When `dir` does not exist yet, the whole run is written into a temporary sibling folder that
 * is renamed into place, so readers never see a half-written zone; if another process wins
 * that race, its (identical) folder is kept. When `dir` exists, each file is written to a
 * temporary name and renamed, so every file is complete whenever it is visible.
 *
 * @example
 * await generateLanding('assets/landing', { days: 7, seed: 1 }); // { files: 30, rows: … }
 */
export async function generateLanding(dir: string, options: GenerateOptions = {}): Promise<GenerateSummary> {
  const resolved = resolveGenerateOptions(options);
  const target = path.resolve(dir);
  await mkdir(path.dirname(target), { recursive: true });
  if (await exists(target)) return writeFiles(target, resolved);

  const temp = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    await chmod(temp, 0o755); // mkdtemp creates the folder private (0700)
    const summary = await writeFiles(temp, resolved);
    try {
      await rename(temp, target);
    } catch (error) {
      // Another process renamed its complete landing zone into place first.
      if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
    }
    return summary;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const inFlight = new Map<string, Promise<{ generated: boolean }>>();

/**
 * Generates the default landing zone into `dir` unless it already holds files. Calls made
 * while a check or generation is in flight share its promise, so raw assets that run
 * concurrently in one process generate once (only the call that generated reports
 * `generated: true`); later calls look at the folder again.
 *
 * @example
 * await ensureLanding(ctx.landing.dir);
 */
export function ensureLanding(dir: string, options: GenerateOptions = {}): Promise<{ generated: boolean }> {
  const target = path.resolve(dir);
  const pending = inFlight.get(target);
  if (pending) return pending.then(() => ({ generated: false }));
  const promise = (async () => {
    if (await hasFiles(target)) return { generated: false };
    await generateLanding(target, options);
    return { generated: true };
  })().finally(() => inFlight.delete(target));
  inFlight.set(target, promise);
  return promise;
}

let tempCounter = 0;

/** Files written at once: simulating the next day overlaps writing the last ones. */
const WRITES_IN_FLIGHT = 8;

async function writeFiles(dir: string, options: GenerateOptions): Promise<GenerateSummary> {
  let files = 0;
  let rows = 0;
  let failure: { error: unknown } | undefined;
  const inFlight = new Set<Promise<void>>();
  for (const file of simulateLanding(options)) {
    if (failure) break;
    const write: Promise<void> = writeAtomically(dir, file.name, file.text)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
    files += 1;
    rows += file.rows;
    if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  return { files, rows };
}

/** Writes `text` to a temporary name and renames it, so the file is complete whenever it is visible. */
export async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  const temp = path.join(dir, `.${name}.${process.pid}.${tempCounter++}.tmp`);
  await writeFile(temp, text);
  await rename(temp, path.join(dir, name));
}

async function hasFiles(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.some((e) => e.isFile() && !e.name.startsWith('.'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function exists(target: string): Promise<boolean> {
  try {
    await readdir(target);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}
