/**
 * Writes a landing zone from the command line, or re-delivers single days of one (with
 * injected bad data, or clean again). Bad arguments exit with code 2.
 *
 * @example
 * npx tsx assets/generator/cli.ts --out /tmp/landing --days 7 --start 2025-03-01 --seed 7
 * npx tsx assets/generator/cli.ts --out assets/landing --inject-faults 2025-03-14:negative_amounts --only-faulty-days
 * npx tsx assets/generator/cli.ts --out assets/landing --restore 2025-03-14
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addDays } from './dates.ts';
import { FAULT_KINDS, formatFaultSpecs, parseFaultSpecs } from './fault-spec.ts';
import { generateLanding } from './generate-landing.ts';
import { injectFaults, restoreDays } from './redeliver-days.ts';
import { resolveGenerateOptions } from './simulate-landing.ts';
import type { RedeliverSummary } from './redeliver-days.ts';

const KIND_WIDTH = Math.max(...Object.keys(FAULT_KINDS).map((k) => k.length));

const USAGE = `usage: npx tsx assets/generator/cli.ts --out DIR [--days N] [--start YYYY-MM-DD] [--seed N]
                                       [--inject-faults DATE:KIND[,DATE:KIND...] [--only-faulty-days]]
       npx tsx assets/generator/cli.ts --out DIR --restore DATE[,DATE...] [--start YYYY-MM-DD] [--seed N]

  --out DIR             the landing folder (created when it does not exist)
  --days N              business days to generate (default 365)
  --start YYYY-MM-DD    first business day (default 2025-01-01)
  --seed N              PRNG seed (default 42)
  --inject-faults SPEC  inject bad data into the files of the given days, as DATE:KIND items
                        separated by commas, e.g. 2025-03-14:duplicate_order_ids,2025-03-15:negative_amounts
  --only-faulty-days    rewrite only the files of the faulted days in the existing DIR (re-deliver a
                        bad day); --start and --seed must be those DIR was generated with
  --restore DATES       rewrite the files of the given days in the existing DIR clean again
  -h, --help            print this help

fault kinds:
${Object.entries(FAULT_KINDS)
  .map(([kind, text]) => `  ${kind.padEnd(KIND_WIDTH)}  ${text}`)
  .join('\n')}`;

/** A bad command line: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      days: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      'inject-faults': { type: 'string' },
      'only-faulty-days': { type: 'boolean' },
      restore: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined) throw new UsageError('--out is required');
  const faults = values['inject-faults'] === undefined ? undefined : parseFaultSpecs(values['inject-faults']);
  const redelivering = values['only-faulty-days'] === true || values.restore !== undefined;
  if (values['only-faulty-days'] && faults === undefined) throw new UsageError('--only-faulty-days needs --inject-faults');
  if (values.restore !== undefined && faults !== undefined) throw new UsageError('--restore cannot be combined with --inject-faults');
  if (redelivering && values.days !== undefined) throw new UsageError('--days does not apply when re-delivering single days');

  const seedAndStart = {
    ...(values.start === undefined ? {} : { startDate: values.start }),
    ...(values.seed === undefined ? {} : { seed: integer('--seed', values.seed) }),
  };
  const out = path.resolve(values.out);
  if (redelivering) {
    const summary = faults ? await injectFaults(out, faults, seedAndStart) : await restoreDays(out, dateList(values.restore ?? ''), seedAndStart);
    console.log(redeliveryReport(out, summary, resolveGenerateOptions(seedAndStart).seed));
    return 0;
  }

  const options = resolveGenerateOptions({
    ...seedAndStart,
    ...(values.days === undefined ? {} : { days: integer('--days', values.days) }),
    ...(faults === undefined ? {} : { faults }),
  });
  const summary = await generateLanding(out, options);
  const last = addDays(options.startDate, options.days - 1);
  console.log(
    `Wrote ${summary.files} files (${summary.rows.toLocaleString('en-US')} rows) to ${out}\n` +
      `  business days ${options.startDate} .. ${last} (${options.days}), seed ${options.seed}` +
      (faults === undefined ? '' : `\n  faults injected: ${formatFaultSpecs(faults)}`),
  );
  return 0;
}

function redeliveryReport(out: string, summary: RedeliverSummary, seed: number): string {
  const files = summary.written.length === 0 ? 'no file changed' : `rewrote ${summary.written.join(', ')}`;
  const lines = [`Re-delivered ${summary.days.join(', ')} into ${out} (seed ${seed}): ${files}`];
  for (const effect of summary.effects) lines.push(`  ${effect.date} ${effect.kind}: ${effect.summary}`);
  return lines.join('\n');
}

function dateList(value: string): string[] {
  const dates = value.split(',').map((d) => d.trim());
  if (dates.some((d) => d === '')) throw new UsageError(`--restore takes dates separated by single commas, got "${value}"`);
  return dates;
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
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof UsageError ? `${message}\n(see --help)` : message);
    process.exitCode = 2;
  },
);
