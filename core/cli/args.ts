import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.ts';

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  project: { type: 'string' },
  /** dbt vars overriding those of dbt_project.yml, as a YAML mapping (commands that load the project render with them). */
  vars: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly; unknown flags and missing values become
 * {@link UsageError}s naming the argument.
 */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: readonly string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`assets ${command}: ${message} (see assets ${command} --help)`, undefined, { cause: error });
  }
}

/** Parses a positive integer flag value, naming the flag when it is not one. */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`, flag);
  return Number(value);
}

/** The command line split at the command name, with options given before it moved after it. */
export interface CommandLine {
  /** The command name, or `undefined` when there is none. */
  readonly name: string | undefined;
  /** The command's arguments, starting with the global options that came before its name. */
  readonly rest: readonly string[];
  /** `--help`/`-h` came before the command name (or without one). */
  readonly help: boolean;
}

/**
 * Splits `assets [GLOBAL OPTIONS] COMMAND [ARGS]`: the options every command takes
 * (`--project DIR`, `--json`, `--help`) may come before the command name, as in
 * `assets --project ./shop list`; they are handed to the command like its own arguments.
 * Anything else before the command name is a {@link UsageError}.
 *
 * @example
 * splitCommandLine(['--project', '.', 'list']); // { name: 'list', rest: ['--project', '.'], help: false }
 */
export function splitCommandLine(argv: readonly string[]): CommandLine {
  const leading: string[] = [];
  let help = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) break;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--json' || arg.startsWith('--project=')) leading.push(arg);
    else if (arg === '--project') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`option --project needs a folder (assets --project DIR COMMAND)`, '--project');
      leading.push(arg, value);
      i++;
    } else throw new UsageError(`unknown option "${arg}" before the command (only --project, --json and --help may come first)`, arg);
  }
  const [name, ...after] = argv.slice(i);
  // Options after `--` would be positionals: keep the moved ones before it.
  const end = after.indexOf('--');
  const rest = end < 0 ? [...after, ...leading] : [...after.slice(0, end), ...leading, ...after.slice(end)];
  return { name, rest, help };
}

/**
 * Refuses `--vars` (accepted by every command, see {@link COMMON_OPTIONS}) on a command that
 * renders no dbt model with it; `why` says so.
 */
export function refuseVars(command: string, values: { readonly vars?: string | undefined }, why: string): void {
  if (values.vars !== undefined) throw new UsageError(`assets ${command} takes no --vars: ${why}`, '--vars');
}
