import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLanding, generateLanding, HEADERS, resolveGenerateOptions } from '../../assets/generator/index.ts';

const DAYS = 2;
const EXPECTED_FILES = [
  'locations.csv',
  'menu_items.csv',
  'order_items_2025-01-01.csv',
  'order_items_2025-01-02.csv',
  'orders_2025-01-01.csv',
  'orders_2025-01-02.csv',
  'payments_2025-01-01.tsv',
  'payments_2025-01-02.tsv',
  'time_entries_2025-01-01.tsv',
  'time_entries_2025-01-02.tsv',
];

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-example-'));
  tempDirs.push(dir);
  return dir;
}

/** Generates a landing zone into a fresh temp folder and returns its path. */
async function generate(seed = 42): Promise<string> {
  const dir = path.join(await tempDir(), 'landing');
  await generateLanding(dir, { days: DAYS, seed });
  return dir;
}

async function readAll(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, n), 'utf8')] as const)));
}

/** Data lines of a file (header excluded, trailing newline ignored). */
function dataLines(text: string): string[] {
  return text.trimEnd().split('\n').slice(1);
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('example landing generator', () => {
  it('writes byte-identical files for the same seed', async () => {
    const [a, b] = await Promise.all([generate(7), generate(7)]);
    expect(await readAll(a)).toEqual(await readAll(b));
  });

  it('writes different data for a different seed', async () => {
    const [a, b] = await Promise.all([readAll(await generate(1)), readAll(await generate(2))]);
    expect([...a.keys()]).toEqual([...b.keys()]);
    expect(a.get('orders_2025-01-01.csv')).not.toEqual(b.get('orders_2025-01-01.csv'));
    expect(a.get('payments_2025-01-02.tsv')).not.toEqual(b.get('payments_2025-01-02.tsv'));
  });

  it('writes the expected files with plausible row counts', async () => {
    const dir = path.join(await tempDir(), 'landing');
    const summary = await generateLanding(dir, { days: DAYS });
    const files = await readAll(dir);
    expect([...files.keys()]).toEqual(EXPECTED_FILES);
    expect(summary.files).toBe(EXPECTED_FILES.length);
    const rows = (name: string) => dataLines(files.get(name) ?? '').length;
    expect(summary.rows).toBe(EXPECTED_FILES.reduce((sum, name) => sum + rows(name), 0));

    expect(rows('locations.csv')).toBe(6);
    expect(rows('menu_items.csv')).toBeGreaterThanOrEqual(55);
    for (const day of ['2025-01-01', '2025-01-02']) {
      expect(rows(`orders_${day}.csv`)).toBeGreaterThan(500);
      expect(rows(`orders_${day}.csv`)).toBeLessThan(1500);
      expect(rows(`order_items_${day}.csv`)).toBeGreaterThan(2000);
      expect(rows(`order_items_${day}.csv`)).toBeLessThan(7000);
      expect(rows(`payments_${day}.tsv`)).toBeGreaterThan(rows(`orders_${day}.csv`) * 0.9);
      expect(rows(`time_entries_${day}.tsv`)).toBeGreaterThan(60);
      expect(rows(`time_entries_${day}.tsv`)).toBeLessThan(200);
    }
  });

  it('writes payments and time entries as tab-separated files with the expected headers', async () => {
    const files = await readAll(await generate());
    for (const [name, header] of [
      ['payments_2025-01-01.tsv', HEADERS.payments],
      ['time_entries_2025-01-02.tsv', HEADERS.timeEntries],
    ] as const) {
      const [first, ...rest] = (files.get(name) ?? '').trimEnd().split('\n');
      expect(first).toBe(header.join('\t'));
      expect(first).toBe(
        name.startsWith('payments')
          ? 'payment_id\torder_id\tlocation_id\tpaid_at\tpayment_type\tcard_brand\tamount\ttip_amount\tstatus'
          : 'time_entry_id\tlocation_id\temployee_id\temployee_name\tjob_title\thourly_rate\tclock_in\tclock_out\tbreak_minutes',
      );
      for (const line of rest) expect(line.split('\t')).toHaveLength(header.length);
    }
    expect(files.get('orders_2025-01-01.csv')?.split('\n')[0]).toBe(HEADERS.orders.join(','));
  });

  it('leaves duplicates for staging to remove: doubled lines and orders re-sent the next day', async () => {
    const files = await readAll(await generate());
    const doubled = [...files]
      .filter(([name]) => /^(orders|order_items|payments|time_entries)_/.test(name))
      .reduce((sum, [, text]) => {
        const lines = dataLines(text);
        return sum + lines.length - new Set(lines).size;
      }, 0);
    expect(doubled).toBeGreaterThan(0);

    const resent = dataLines(files.get('orders_2025-01-02.csv') ?? '').filter((line) => line.split(',')[2] === '20250101');
    expect(resent.length).toBeGreaterThan(0);
    const firstDayIds = new Set(dataLines(files.get('orders_2025-01-01.csv') ?? '').map((line) => line.split(',')[0]));
    for (const line of resent) expect(firstDayIds.has(line.split(',')[0])).toBe(true);
  });

  it("writes a day's files the same whatever day the run starts on", async () => {
    // The day before a run's first day is not simulated: only that first day differs (no re-sent orders).
    const fromFirst = path.join(await tempDir(), 'from-first');
    const fromSecond = path.join(await tempDir(), 'from-second');
    await Promise.all([generateLanding(fromFirst, { startDate: '2025-01-01', days: 3 }), generateLanding(fromSecond, { startDate: '2025-01-02', days: 2 })]);
    const [a, b] = await Promise.all([readAll(fromFirst), readAll(fromSecond)]);
    for (const name of ['orders_2025-01-03.csv', 'order_items_2025-01-03.csv', 'payments_2025-01-03.tsv', 'time_entries_2025-01-03.tsv']) {
      expect(a.get(name), name).toBeDefined();
      expect(b.get(name), name).toBe(a.get(name));
    }
    expect(b.get('orders_2025-01-02.csv')).not.toBe(a.get('orders_2025-01-02.csv'));
  });

  it('includes voided orders and messy codes', async () => {
    const files = await readAll(await generate());
    const orders = [1, 2].flatMap((d) => dataLines(files.get(`orders_2025-01-0${d}.csv`) ?? ''));
    expect(orders.some((line) => /,true,/i.test(line))).toBe(true);
    const diningOptions = new Set(orders.map((line) => line.split(',')[5]));
    expect(diningOptions.size).toBeGreaterThan(3); // 'Dine In', 'DINE IN', ' Dine In', ...
  });

  it('ensureLanding generates once for concurrent callers and leaves a filled folder alone', async () => {
    const dir = path.join(await tempDir(), 'landing');
    const results = await Promise.all([ensureLanding(dir, { days: 1 }), ensureLanding(dir, { days: 1 }), ensureLanding(dir, { days: 1 })]);
    expect(results.filter((r) => r.generated)).toHaveLength(1);
    expect((await readdir(dir)).length).toBe(6);
    expect(await ensureLanding(dir, { days: 1 })).toEqual({ generated: false });

    const own = path.join(await tempDir(), 'own');
    await mkdir(own);
    await writeFile(path.join(own, 'orders_2025-12-31.csv'), 'order_id\n1\n');
    expect(await ensureLanding(own)).toEqual({ generated: false });
    expect(await readdir(own)).toEqual(['orders_2025-12-31.csv']);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => resolveGenerateOptions({ days: 0 })).toThrow(/days/);
    expect(() => resolveGenerateOptions({ startDate: '2026-02-30' })).toThrow(/startDate/);
    expect(() => resolveGenerateOptions({ seed: 1.5 })).toThrow(/seed/);
    expect(resolveGenerateOptions()).toEqual({ startDate: '2025-01-01', days: 365, seed: 42 });
  });
});
