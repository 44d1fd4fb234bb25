import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  project: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly; unknown flags and missing values become
 * {@link UsageError}s naming the argument.
 */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`assets ${command}: ${message} (see assets ${command} --help)`);
  }
}

/** Parses a positive integer flag value, naming the flag when it is not one. */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`, flag);
  return Number(value);
}
