/**
 * Writes a landing zone from the command line.
 *
 * @example
 * npx tsx assets/generator/cli.ts --out /tmp/landing --days 7 --start 2025-03-01 --seed 7
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addDays } from './dates.ts';
import { generateLanding } from './generate-landing.ts';
import { resolveGenerateOptions } from './simulate-landing.ts';

const USAGE = 'usage: npx tsx assets/generator/cli.ts --out DIR [--days N] [--start YYYY-MM-DD] [--seed N]';

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      days: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined) {
    console.error(`--out is required\n${USAGE}`);
    return 2;
  }
  const options = resolveGenerateOptions({
    ...(values.days === undefined ? {} : { days: integer('--days', values.days) }),
    ...(values.start === undefined ? {} : { startDate: values.start }),
    ...(values.seed === undefined ? {} : { seed: integer('--seed', values.seed) }),
  });
  const out = path.resolve(values.out);
  const summary = await generateLanding(out, options);
  const last = addDays(options.startDate, options.days - 1);
  console.log(
    `Wrote ${summary.files} files (${summary.rows.toLocaleString('en-US')} rows) to ${out}\n` +
      `  business days ${options.startDate} .. ${last} (${options.days}), seed ${options.seed}`,
  );
  return 0;
}

function integer(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new RangeError(`${flag} must be an integer, got "${value}"`);
  return Number(value);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  },
);
