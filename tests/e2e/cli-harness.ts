/**
 * Shared harness of the end-to-end tests: runs the real `assets` CLI (`node bin/assets.js`) as
 * a child process against throwaway project folders, and reads what it wrote with the real
 * DuckDB and SQLite drivers.
 *
 * Where the projects live: every sandbox is a folder from `fs.mkdtempSync` under the OS temp
 * dir, removed by {@link Sandbox.cleanup}. The bundled example can be copied anywhere because it
 * is self-contained: its asset modules import the engine as `'strata'` (mapped to the engine
 * the CLI runs by its resolve hook, core/engine/project/asset-module-hooks.js), the rest of its
 * imports are relative to its own folder, and its package.json marks the `.ts` files as ES modules (without it,
 * Node/tsx would load them as CommonJS). So a copy is the example folder minus its generated
 * `landing/` and `.strata/`; each sandbox generates a small landing zone once and every copy
 * reuses it, and a copied project with a filled landing folder never regenerates it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import BetterSqlite3 from 'better-sqlite3';
import { generateLanding } from '../../assets/generator/index.ts';

/** The repository root: the CLI runs from here, as `node bin/assets.js`. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The bundled example project. */
export const EXAMPLE_DIR = path.join(REPO_ROOT, 'assets');

/** What one CLI invocation did. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI child: colours off, no STRATA_* variable of ours (tests pass --project). */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('STRATA_')) delete env[name];
  return env;
}

const CLI = path.join('bin', 'assets.js');

/** Runs `node bin/assets.js ...args` from the repository root and waits for it; `env` adds variables. */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): CliResult {
  const child = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...cliEnv(), ...env }, encoding: 'utf8', timeout: 60_000 });
  if (child.error) throw child.error;
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/**
 * Starts `node bin/assets.js ...args` without waiting (to signal it); `done` resolves when it
 * exits. `detached` starts it in a process group of its own, whose id is the child's pid; `env` adds variables.
 */
export function startCli(
  args: readonly string[],
  { detached = false, env = {} }: { readonly detached?: boolean; readonly env?: Readonly<Record<string, string>> } = {},
): { readonly child: ChildProcess; readonly done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...cliEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done };
}

/** Waits until `file` exists (polling), failing after `timeoutMs`. */
export async function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Parses a CLI's JSON output, showing the output when it is not JSON. */
export function parseJson<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${result.status}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Lines of `text` that look like a JavaScript stack frame. */
export function stackFrames(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s/.test(line));
}

/** A temp folder holding project folders for one test file. */
export class Sandbox {
  readonly root: string;
  #landing: string | undefined;

  private constructor(root: string) {
    this.root = root;
  }

  static create(): Sandbox {
    return new Sandbox(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-')));
  }

  /**
   * Generates the example's landing zone (a few days from 2025-01-01, the first of its daily
   * partitions) once for all copies of this sandbox.
   */
  async generateLanding(days = 2): Promise<void> {
    const dir = path.join(this.root, '.landing-template');
    await generateLanding(dir, { days });
    this.#landing = dir;
  }

  /**
   * Copies the example project to `name` (without its generated landing zone and state) and
   * fills its landing folder from {@link generateLanding}. `edit` may change files first.
   */
  copyExample(name: string, edit?: (dir: string) => void): string {
    const dir = this.copyProject(EXAMPLE_DIR, name, ['landing']);
    if (this.#landing) fs.cpSync(this.#landing, path.join(dir, 'landing'), { recursive: true });
    edit?.(dir);
    return dir;
  }

  /** Copies the project folder `source` to `name`, without its state (`.strata/`) and the top-level folders in `skip`. */
  copyProject(source: string, name: string, skip: readonly string[] = []): string {
    const dir = path.join(this.root, name);
    fs.cpSync(source, dir, {
      recursive: true,
      filter: (file) => {
        const top = path.relative(source, file).split(path.sep)[0] ?? '';
        return top !== '.strata' && !skip.includes(top);
      },
    });
    return dir;
  }

  /** Writes a project folder from `files` (relative path → content). */
  writeProject(name: string, files: Readonly<Record<string, string>>): string {
    const dir = path.join(this.root, name);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    }
    return dir;
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Replaces `search` in a project file, failing loudly when it is not there. */
export function editFile(file: string, search: string, replacement: string): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(search)) throw new Error(`${file} does not contain ${JSON.stringify(search)}`);
  fs.writeFileSync(file, text.replace(search, replacement));
}

/** The warehouse and storage files of a project with the default strata.json paths. */
export function stateFiles(projectDir: string): { readonly warehouse: string; readonly storage: string } {
  return { warehouse: path.join(projectDir, '.strata', 'warehouse.duckdb'), storage: path.join(projectDir, '.strata', 'strata.db') };
}

/** Runs statements on a project's DuckDB file as a tool outside Strata would (creating it when missing), then lets go of it. */
export async function writeDuckDb(projectDir: string, sql: string): Promise<void> {
  const file = stateFiles(projectDir).warehouse;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Runs one query against a DuckDB file opened read-only, closing it afterwards; BIGINTs become numbers. */
export async function queryDuckDb(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Every table and view of a DuckDB file with a checksum of its contents: row count and the sum
 * of the row hashes, so equal contents give equal checksums whatever the row order. Strata's own
 * `_strata` schema (the commit log) is left out: it is not data.
 */
export async function tableChecksums(file: string): Promise<Record<string, string>> {
  const tables = await queryDuckDb(
    file,
    `select table_schema || '.' || table_name as name from information_schema.tables where table_schema <> '_strata' order by 1`,
  );
  if (tables.length === 0) return {};
  const sums = await queryDuckDb(
    file,
    tables.map((t) => `select '${t.name}' as name, count(*) || ' ' || coalesce(sum(hash(x)::hugeint), 0) as sum from ${t.name} as x`).join(' union all '),
  );
  const pairs = sums.map((r): [string, string] => [String(r.name), String(r.sum)]);
  return Object.fromEntries(pairs.sort(([a], [b]) => a.localeCompare(b)));
}

/** Runs one query against a SQLite file opened read-only. */
export function querySqlite<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
