import { StrataError, DefinitionErrors } from '../model/errors.ts';
import { splitCommandLine, type CommandLine } from './args.ts';
import { COMMANDS } from './command-registry.ts';
import { Output } from './output.ts';
import { closeAssetModules } from '../engine/project/asset-modules.ts';

const USAGE = `Usage: assets <command> [options]

Strata materializes software-defined assets (DuckDB tables, views, files) in dependency
order and records every run, event and materialization in SQLite.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(13)} ${c.summary}`).join('\n')}

Every command takes --project DIR (default: the current folder if it has strata.json,
else the bundled example) and --help, before or after its name; the commands that load
a dbt project take --vars '{name: value}' (YAML), overriding dbt_project.yml's vars.
Exit codes: 0 ok, 1 run failed, 2 bad input.`;

/**
 * Runs the `assets` CLI and returns the exit code. User errors (bad arguments, bad
 * definitions, unknown keys) print one clear message and return 2; nothing else prints a
 * stack trace unless STRATA_DEBUG is set.
 */
export async function main(argv: readonly string[], out = new Output(process.stdout), err = new Output(process.stderr)): Promise<number> {
  if (argv[0] === '--version') {
    out.line('0.1.0');
    return 0;
  }
  let line: CommandLine;
  try {
    line = splitCommandLine(argv);
  } catch (error) {
    return reportError(error, err);
  }
  const { name, rest } = line;
  if (name === undefined || name === 'help') {
    out.line(USAGE);
    return name === undefined && !line.help ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    err.line(`${err.paint('red', 'error:')} unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const command = await entry.load();
  if (line.help || rest.includes('--help') || rest.includes('-h')) {
    out.line(command.help);
    return 0;
  }
  try {
    return await command.run(rest, out, err);
  } catch (error) {
    return reportError(error, err);
  }
}

/** Prints an error for a person and returns its exit code. */
export function reportError(error: unknown, err: Output): number {
  if (process.env.STRATA_DEBUG) printStacks(error, err);
  if (error instanceof DefinitionErrors) {
    err.line(`${err.paint('red', 'error:')} ${error.message}`);
    return 2;
  }
  if (error instanceof StrataError) {
    const where = [error.context.assetKey, error.context.file].filter(Boolean).join(' in ');
    err.line(`${err.paint('red', 'error:')} ${where && !error.message.includes(where) ? `${where}: ` : ''}${error.message}`);
    return error.userError ? 2 : 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  err.line(`${err.paint('red', 'error:')} ${message}`);
  return 1;
}

/** The stack of `error`, then of each error it wraps (its `cause`, at most 10 deep). */
function printStacks(error: unknown, err: Output): void {
  let current = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++, current = current.cause) {
    err.line(`${depth === 0 ? '' : 'caused by: '}${current.stack ?? current.message}`);
  }
}

/** A closed pipe (`assets runs | head`) ends output quietly instead of crashing. */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}

/**
 * How long the process may linger once a command has finished. User code can leave the event
 * loop alive (an asset's `setInterval`, an open socket) after its run was canceled or ended:
 * the command's result is recorded by then, so the process exits anyway.
 */
export const EXIT_GRACE_MS = 1_000;

/**
 * Runs the CLI as the process (`bin/assets.js`): sets the exit code from {@link main}, then
 * exits within {@link EXIT_GRACE_MS} even if something still holds the event loop open.
 */
export async function runAsProcess(argv: readonly string[]): Promise<void> {
  exitQuietlyOnClosedPipe();
  process.exitCode = await main(argv);
  await closeAssetModules();
  // Unref'd: a process with nothing left to do exits at once, as before.
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) await runAsProcess(process.argv.slice(2));
