import type { Output } from './output.ts';

/** One `assets` sub-command. */
export interface Command {
  readonly name: string;
  /** The full `--help` text. */
  readonly help: string;
  /** Runs the command and returns its exit code (0 ok, 1 run failed); throws StrataErrors for bad input. */
  run(argv: readonly string[], out: Output, err: Output): Promise<number>;
}
