/**
 * `isPlainCron`: the crons `cronProblem` accepts without loading cron-parser must be crons
 * cron-parser accepts (with a next tick) in every time zone; anything else still goes to it.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as CronParser from 'cron-parser';
import { cronProblem, isPlainCron, timezoneProblem } from '../../core/model/definitions/cron-expression.ts';

const { CronExpressionParser } = createRequire(import.meta.url)('cron-parser') as typeof CronParser;
const ZONES = ['UTC', 'Europe/Paris', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];

/** A plain field over `[min, max]`: `*`, `*` with a step, or a list of values. */
function plainField(min: number, max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant('*'),
    fc.integer({ min: 1, max: max - min }).map((step) => `*/${step}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((values) => values.sort((a, b) => a - b).join(',')),
  );
}

const plainCron = fc.tuple(plainField(0, 59), plainField(0, 23), plainField(1, 28), plainField(1, 12), plainField(0, 6)).map((fields) => fields.join(' '));

describe('isPlainCron', () => {
  it('accepts only crons cron-parser accepts, with a next tick, in any zone', () => {
    expect(isPlainCron('30 4 * * *')).toBe(true);
    fc.assert(
      fc.property(plainCron, fc.constantFrom(...ZONES), (cron, zone) => {
        expect(isPlainCron(cron)).toBe(true);
        expect(() => CronExpressionParser.parse(cron, { tz: zone, currentDate: new Date(0), strict: false }).next()).not.toThrow();
        expect(cronProblem(cron, zone)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves everything else to cron-parser, which still names the problem', () => {
    for (const cron of [
      '0 0 31 2 *',
      '0 0 29 * *',
      '60 * * * *',
      '05 * * * *',
      '*/0 * * * *',
      '*/60 * * * *',
      '0  6 * * *',
      '1-5 * * * *',
      '0 0 * * MON',
      '0 0 0 * * *',
      '5,5 * * * *',
      '9,3 * * * *',
      '0 0 * * 7',
    ]) {
      expect(isPlainCron(cron)).toBe(false);
    }
    expect(cronProblem('60 * * * *', 'UTC')).toMatch(/^cron "60 \* \* \* \*": /);
    expect(cronProblem('0 0 31 2 *', 'UTC')).toMatch(/^cron "0 0 31 2 \*": /);
    expect(cronProblem('30 4 * * *', 'Not/AZone')).toMatch(/unknown time zone "Not\/AZone"/);
  });
});

describe('timezoneProblem', () => {
  it('accepts listed zones and aliases alike, and names an unknown zone', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'US/Pacific', 'Asia/Calcutta', 'America/Los_Angeles', 'europe/paris']) {
      expect(timezoneProblem(zone)).toBeUndefined();
    }
    expect(timezoneProblem('Not/AZone')).toBe('unknown time zone "Not/AZone" (use an IANA name such as "Europe/Paris" or "UTC")');
  });
});
