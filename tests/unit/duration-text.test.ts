import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../core/model/definitions/duration.ts';
import { formatDuration } from '../../core/model/format/duration-text.js';
import { staticPages } from '../../ui/static-pages.ts';

/** Milliseconds that `text` (e.g. `1m05s`) stands for, parsing each part with the config parser. */
function millisecondsOf(text: string): number {
  const parts = text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g) ?? [];
  expect(parts.join('')).toBe(text);
  return parts.reduce((sum, part) => sum + (parseDuration(part) as number), 0);
}

/** The precision of `text`: half of its smallest unit's step (what rounding may move it by). */
function halfStep(text: string): number {
  if (text.endsWith('ms')) return 0.5;
  if (/^\d+(\.\d)?s$/.test(text)) return 50;
  const unit = text.at(-1) === 's' ? 1_000 : text.at(-1) === 'm' ? 60_000 : text.at(-1) === 'h' ? 3_600_000 : 86_400_000;
  return unit / 2;
}

const LIMITS: Readonly<Record<string, number>> = { ms: 1000, s: 60, m: 60, h: 24 };

describe('formatDuration', () => {
  it('writes one format: ms, tenths of seconds, then two units with a padded second part', () => {
    const cases: [number, string][] = [
      [0, '0ms'],
      [850, '850ms'],
      [999.4, '999ms'],
      [999.6, '1s'],
      [1_000, '1s'],
      [4_940, '4.9s'],
      [3_000, '3s'],
      [59_940, '59.9s'],
      [59_960, '1m'],
      [60_000, '1m'],
      [65_000, '1m05s'],
      [119_600, '2m'],
      [3_599_999, '1h'],
      [7_380_000, '2h03m'],
      [86_400_000, '1d'],
      [93_600_000, '1d02h'],
      [-5, '0ms'],
    ];
    for (const [ms, text] of cases) expect([ms, formatDuration(ms)]).toEqual([ms, text]);
  });

  it('never shows a part equal to its carry limit (no 60s, 60m, 1m60s, 1000ms, 24h)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 400 * 86_400_000, noNaN: true }), (ms) => {
        const text = formatDuration(ms);
        const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
        expect(parts.length).toBeGreaterThan(0);
        expect(parts.length).toBeLessThanOrEqual(2);
        for (const [, value, unit] of parts) {
          const limit = LIMITS[unit as string];
          if (limit !== undefined) expect(Number(value), text).toBeLessThan(limit);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('rounds to the precision it shows, so it carries correctly and is monotone', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 400 * 86_400_000, noNaN: true }), fc.double({ min: 0, max: 400 * 86_400_000, noNaN: true }), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(Math.abs(millisecondsOf(formatDuration(low)) - low)).toBeLessThanOrEqual(halfStep(formatDuration(low)));
        expect(millisecondsOf(formatDuration(low))).toBeLessThanOrEqual(millisecondsOf(formatDuration(high)));
      }),
      { numRuns: 5_000 },
    );
    // Around every carry, where rounding moves into the next unit.
    for (const edge of [1_000, 60_000, 3_600_000, 86_400_000]) {
      for (let ms = edge - 1_000; ms <= edge + 1_000; ms += 7) {
        expect(millisecondsOf(formatDuration(ms))).toBeLessThanOrEqual(millisecondsOf(formatDuration(ms + 7)));
      }
    }
  });

  it('is the file the web UI loads as /static/shared/duration-text.js', async () => {
    const server = express().use(staticPages()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const served = await fetch(`${base}/static/shared/duration-text.js`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(await served.text()).toBe(readFileSync(new URL('../../core/model/format/duration-text.js', import.meta.url), 'utf8'));
      expect(await (await fetch(`${base}/static/js/format.js`)).text()).toContain(`from '../shared/duration-text.js'`);
    } finally {
      server.close();
    }
  });
});
