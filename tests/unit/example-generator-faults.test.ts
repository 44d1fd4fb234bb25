import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  formatFaultSpecs,
  generateLanding,
  injectFaults,
  parseFaultSpecs,
  resolveGenerateOptions,
  restoreDays,
  simulateLanding,
} from '../../assets/generator/index.ts';
import type { FaultKind, FaultSpec, GenerateOptions } from '../../assets/generator/index.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = '2025-01-02';
const RUN = { startDate: '2025-01-01', days: 3 } as const;
const DAILY = ['orders', 'order_items', 'payments', 'time_entries'] as const;

type Files = Map<string, string>;

function simulate(options: GenerateOptions = RUN): Files {
  return new Map([...simulateLanding(options)].map((f) => [f.name, f.text]));
}

const CLEAN = simulate();

/** One parsed landing file: header and rows as objects keyed by column. */
function table(files: Files, name: string): Record<string, string>[] {
  const text = files.get(name);
  if (text === undefined) throw new Error(`no file ${name}`);
  const delimiter = name.endsWith('.tsv') ? '\t' : ',';
  const [header = [], ...rows] = text
    .trimEnd()
    .split('\n')
    .map((line) => splitLine(line, delimiter));
  return rows.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i] ?? ''])));
}

/** Splits one line, honouring CSV quotes (menu item names may hold commas). */
function splitLine(line: string, delimiter: string): string[] {
  if (delimiter === '\t') return line.split('\t');
  return [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map(([, field = '']) =>
    field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field,
  );
}

/** Names of the files whose content differs between two landing zones. */
function changedFiles(a: Files, b: Files): string[] {
  expect([...b.keys()]).toEqual([...a.keys()]);
  return [...a.keys()].filter((name) => a.get(name) !== b.get(name)).sort();
}

/** The columns that differ between same-length versions of a file, compared row by row. */
function changedColumns(clean: Record<string, string>[], faulty: Record<string, string>[]): string[] {
  expect(faulty).toHaveLength(clean.length);
  const columns = new Set<string>();
  clean.forEach((row, i) => {
    for (const [column, value] of Object.entries(row)) if (faulty[i]?.[column] !== value) columns.add(column);
  });
  return [...columns].sort();
}

const dayFile = (kind: (typeof DAILY)[number], date = DAY) => `${kind}_${date}.${kind === 'payments' || kind === 'time_entries' ? 'tsv' : 'csv'}`;
const withFault = (kind: FaultKind, extra: GenerateOptions = {}) => simulate({ ...RUN, ...extra, faults: [{ date: DAY, kind }] });
const isCaptured = (status: string) => status.trim().toUpperCase() === 'CAPTURED';
const amountOf = (value: string) => Number(value.replace('$', ''));

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-faults-'));
  tempDirs.push(dir);
  return dir;
}

async function readAll(dir: string): Promise<Files> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, n), 'utf8')] as const)));
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('landing generator faults: clean output', () => {
  it('writes the same bytes as before faults existed when none are given', () => {
    const hash = createHash('sha256');
    for (const file of simulateLanding({ days: 2 })) hash.update(file.name).update('\0').update(file.text).update('\0');
    // The default two days, seed 42, as generated before fault injection was added.
    expect(hash.digest('hex')).toBe('25db377464e8fbfd9d2125c3e033de2f5c4654c1be22ab099f2b947e8c2eb854');
    expect(simulate({ ...RUN, faults: [] })).toEqual(CLEAN);
  });

  it('keeps faults out of the resolved defaults', () => {
    expect(resolveGenerateOptions()).toEqual({ startDate: '2025-01-01', days: 365, seed: 42 });
    expect(resolveGenerateOptions({ faults: [{ date: DAY, kind: 'null_keys' }] }).faults).toEqual([{ date: DAY, kind: 'null_keys' }]);
  });
});

describe('landing generator faults: each kind', () => {
  it('duplicate_order_ids: two different checks share an order_id in every file of the day', () => {
    const faulty = withFault('duplicate_order_ids');
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('order_items'), dayFile('orders'), dayFile('payments')]);

    const orders = table(faulty, dayFile('orders'));
    expect(changedColumns(table(CLEAN, dayFile('orders')), orders)).toEqual(['order_id']);
    // Exact doubled lines are normal mess; two different lines under one id are the defect.
    const linesById = new Map<string, Set<string>>();
    for (const row of orders) linesById.set(row.order_id ?? '', (linesById.get(row.order_id ?? '') ?? new Set()).add(JSON.stringify(row)));
    const shared = [...linesById].filter(([, lines]) => lines.size > 1);
    expect(shared.length).toBeGreaterThanOrEqual(3);
    for (const [, lines] of shared) {
      const [a, b] = [...lines].map((l) => JSON.parse(l) as Record<string, string>);
      expect(a?.opened_at).not.toBe(b?.opened_at);
      expect((a?.location_id ?? '').trim().toUpperCase()).toBe((b?.location_id ?? '').trim().toUpperCase());
    }
    const cleanLines = new Map<string, Set<string>>();
    for (const row of table(CLEAN, dayFile('orders')))
      cleanLines.set(row.order_id ?? '', (cleanLines.get(row.order_id ?? '') ?? new Set()).add(JSON.stringify(row)));
    expect([...cleanLines.values()].every((lines) => lines.size === 1)).toBe(true);

    // The merged checks share a menu item: unique(order_id, menu_item_id) on items fails after dedup.
    const duplicatedItems = (files: Files) => {
      const items = new Map(table(files, dayFile('order_items')).map((r) => [r.order_item_id, r]));
      const pairs = [...items.values()].map((r) => `${r.order_id}|${r.menu_item_id}`);
      return pairs.length - new Set(pairs).size;
    };
    expect(duplicatedItems(faulty)).toBeGreaterThan(0);
    expect(duplicatedItems(CLEAN)).toBe(0);
    expect(changedColumns(table(CLEAN, dayFile('payments')), table(faulty, dayFile('payments')))).toEqual(['order_id']);
  });

  it('negative_amounts: captured payments with a negative amount', () => {
    const faulty = withFault('negative_amounts');
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('payments')]);
    const clean = table(CLEAN, dayFile('payments'));
    const payments = table(faulty, dayFile('payments'));
    expect(changedColumns(clean, payments)).toEqual(['amount']);
    const negative = payments.filter((p) => amountOf(p.amount ?? '') < 0);
    expect(new Set(negative.map((p) => p.payment_id)).size).toBeGreaterThanOrEqual(3);
    expect(negative.every((p) => isCaptured(p.status ?? ''))).toBe(true);
    expect(clean.some((p) => amountOf(p.amount ?? '') < 0)).toBe(false);
    // Every copy of a doubled line carries the same bad amount, so deduplication cannot hide it.
    const amounts = new Map<string, Set<string>>();
    for (const p of payments) amounts.set(p.payment_id ?? '', (amounts.get(p.payment_id ?? '') ?? new Set()).add(p.amount ?? ''));
    expect([...amounts.values()].every((values) => values.size === 1)).toBe(true);
  });

  it('orphan_payments: payments whose order is in no orders file', () => {
    const faulty = withFault('orphan_payments');
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('payments')]);
    const payments = table(faulty, dayFile('payments'));
    expect(changedColumns(table(CLEAN, dayFile('payments')), payments)).toEqual(['order_id']);
    const allOrderIds = (files: Files) =>
      new Set([...files.keys()].filter((n) => n.startsWith('orders_')).flatMap((n) => table(files, n).map((o) => o.order_id)));
    const known = allOrderIds(faulty);
    const orphans = payments.filter((p) => !known.has(p.order_id));
    expect(new Set(orphans.map((p) => p.payment_id)).size).toBeGreaterThanOrEqual(3);
    expect(orphans.every((p) => isCaptured(p.status ?? ''))).toBe(true);
    const cleanKnown = allOrderIds(CLEAN);
    expect(table(CLEAN, dayFile('payments')).every((p) => cleanKnown.has(p.order_id))).toBe(true);
  });

  it('truncated_file: the orders file keeps only its first few rows', () => {
    const faulty = withFault('truncated_file');
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('orders')]);
    const cleanLines = (CLEAN.get(dayFile('orders')) ?? '').trimEnd().split('\n');
    const lines = (faulty.get(dayFile('orders')) ?? '').trimEnd().split('\n');
    expect(lines).toEqual(cleanLines.slice(0, lines.length)); // whole lines, header kept
    const share = (lines.length - 1) / (cleanLines.length - 1);
    expect(share).toBeGreaterThanOrEqual(0.04);
    expect(share).toBeLessThanOrEqual(0.15);
  });

  it('null_keys: order_items lines with a blank order_id', () => {
    const faulty = withFault('null_keys');
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('order_items')]);
    const clean = table(CLEAN, dayFile('order_items'));
    const items = table(faulty, dayFile('order_items'));
    expect(changedColumns(clean, items)).toEqual(['order_id']);
    expect(items.filter((i) => (i.order_id ?? '').trim() === '').length).toBeGreaterThanOrEqual(3);
    expect(clean.some((i) => (i.order_id ?? '').trim() === '')).toBe(false);
  });
});

describe('landing generator faults: determinism and scope', () => {
  it('injects the same bytes on every run, whatever order the faults are given in', () => {
    const kinds = Object.keys(FAULT_KINDS) as FaultKind[];
    const forward = simulate({ ...RUN, faults: kinds.map((kind) => ({ date: DAY, kind })) });
    const backward = simulate({ ...RUN, faults: [...kinds].reverse().map((kind) => ({ date: DAY, kind })) });
    expect(backward).toEqual(forward);
    expect(changedFiles(CLEAN, forward)).toEqual([dayFile('order_items'), dayFile('orders'), dayFile('payments')]);
    expect(withFault('negative_amounts', { seed: 42 })).toEqual(withFault('negative_amounts'));
  });

  it('picks other rows with another seed', () => {
    const a = table(withFault('negative_amounts', { seed: 1 }), dayFile('payments')).filter((p) => amountOf(p.amount ?? '') < 0);
    const b = table(withFault('negative_amounts', { seed: 2 }), dayFile('payments')).filter((p) => amountOf(p.amount ?? '') < 0);
    expect(a.map((p) => p.payment_id)).not.toEqual(b.map((p) => p.payment_id));
  });

  it('changes only the files of the faulted days', () => {
    const faulty = simulate({ ...RUN, faults: parseFaultSpecs('2025-01-01:null_keys,2025-01-03:negative_amounts') });
    expect(changedFiles(CLEAN, faulty)).toEqual([dayFile('order_items', '2025-01-01'), dayFile('payments', '2025-01-03')]);
  });
});

describe('landing generator faults: specs', () => {
  it('parses and prints DATE:KIND lists', () => {
    const text = '2025-03-14:duplicate_order_ids, 2025-03-15:negative_amounts';
    const faults = parseFaultSpecs(text);
    expect(faults).toEqual([
      { date: '2025-03-14', kind: 'duplicate_order_ids' },
      { date: '2025-03-15', kind: 'negative_amounts' },
    ]);
    expect(formatFaultSpecs(faults)).toBe('2025-03-14:duplicate_order_ids,2025-03-15:negative_amounts');
    expect(Object.isFrozen(faults)).toBe(true);
  });

  it('rejects bad specs with a message naming the bad part', () => {
    expect(() => parseFaultSpecs('2025-03-14:negative_amount')).toThrow(/"negative_amount".*did you mean negative_amounts\?/);
    expect(() => parseFaultSpecs('2025-03-14:duplicate_orders')).toThrow(/unknown kind "duplicate_orders".*did you mean duplicate_order_ids/);
    expect(() => parseFaultSpecs('2025-03-14:bogus')).toThrow(/unknown kind "bogus"; kinds: duplicate_order_ids, negative_amounts/);
    expect(() => parseFaultSpecs('2025-02-30:null_keys')).toThrow(/"2025-02-30" is not a date/);
    expect(() => parseFaultSpecs('2025-03-14')).toThrow(/fault "2025-03-14" is not DATE:KIND/);
    expect(() => parseFaultSpecs('2025-03-14:null_keys,,2025-03-15:null_keys')).toThrow(/empty fault/);
    expect(() => parseFaultSpecs('')).toThrow(/no faults given/);
    expect(() => parseFaultSpecs('2025-03-14:null_keys,2025-03-14:null_keys')).toThrow(/"2025-03-14:null_keys" is given twice/);
  });

  it('rejects faults on days the run does not generate', () => {
    expect(() => resolveGenerateOptions({ ...RUN, faults: [{ date: '2025-01-04', kind: 'null_keys' }] })).toThrow(
      /fault "2025-01-04:null_keys": 2025-01-04 is not one of the generated days 2025-01-01 \.\. 2025-01-03/,
    );
    expect(() => resolveGenerateOptions({ faults: [{ date: DAY, kind: 'typo' as FaultKind }] })).toThrow(/unknown kind "typo"/);
  });
});

describe('landing generator faults: re-delivering days of an existing landing zone', () => {
  it('injectFaults rewrites only the changed files of the day, as a faulted run writes them, and restoreDays undoes it', async () => {
    const dir = path.join(await tempDir(), 'landing');
    await generateLanding(dir, RUN);
    const clean = await readAll(dir);
    const faults: FaultSpec[] = [
      { date: DAY, kind: 'negative_amounts' },
      { date: DAY, kind: 'truncated_file' },
    ];

    const summary = await injectFaults(dir, faults);
    expect(summary.days).toEqual([DAY]);
    expect([...summary.written].sort()).toEqual([dayFile('orders'), dayFile('payments')]);
    expect(summary.effects.map((e) => e.kind)).toEqual(['negative_amounts', 'truncated_file']);
    const injected = await readAll(dir);
    expect(changedFiles(clean, injected)).toEqual([dayFile('orders'), dayFile('payments')]);
    const reference = simulate({ ...RUN, faults });
    for (const name of DAILY.map((k) => dayFile(k))) expect(injected.get(name), name).toBe(reference.get(name));

    // Idempotent: the same faults again change nothing (they do not stack).
    expect((await injectFaults(dir, faults)).written).toEqual([]);
    expect([...(await restoreDays(dir, [DAY])).written].sort()).toEqual([dayFile('orders'), dayFile('payments')]);
    expect(await readAll(dir)).toEqual(clean);
  });

  it("re-delivers a run's first day without re-sent orders", async () => {
    const dir = path.join(await tempDir(), 'landing');
    await generateLanding(dir, { startDate: DAY, days: 2 });
    const clean = await readAll(dir);
    await injectFaults(dir, [{ date: DAY, kind: 'null_keys' }], { startDate: DAY });
    expect(changedFiles(clean, await readAll(dir))).toEqual([dayFile('order_items')]);
    await restoreDays(dir, [DAY], { startDate: DAY });
    expect(await readAll(dir)).toEqual(clean);
  });

  it('refuses a zone of another seed, a missing zone and days before the start, writing nothing', async () => {
    const dir = path.join(await tempDir(), 'landing');
    await generateLanding(dir, { ...RUN, seed: 7 });
    const before = await readAll(dir);
    await expect(injectFaults(dir, [{ date: DAY, kind: 'null_keys' }])).rejects.toThrow(/not what seed 42 generates/);
    expect(await readAll(dir)).toEqual(before);
    await expect(injectFaults(path.join(dir, 'nope'), [{ date: DAY, kind: 'null_keys' }], { seed: 7 })).rejects.toThrow(/no landing zone at/);
    await expect(restoreDays(dir, ['2024-12-31'], { seed: 7 })).rejects.toThrow(/2024-12-31 is before 2025-01-01/);
    await expect(injectFaults(dir, [])).rejects.toThrow(/no faults given/);
  });
});

describe('landing generator CLI with faults', () => {
  const cli = (args: readonly string[]) => {
    const child = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'assets/generator/cli.ts', ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
  };

  it('documents the fault syntax and kinds in --help', () => {
    const { status, stdout } = cli(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('--inject-faults');
    expect(stdout).toContain('--only-faulty-days');
    expect(stdout).toContain('--restore');
    for (const kind of Object.keys(FAULT_KINDS)) expect(stdout).toContain(kind);
  });

  it('exits with code 2 naming the bad part of a fault spec or a bad combination', async () => {
    const out = path.join(await tempDir(), 'landing');
    const bad = cli(['--out', out, '--inject-faults', '2025-03-14:negative_amounts,2025-03-15:negativ_amounts']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/fault "2025-03-15:negativ_amounts": unknown kind "negativ_amounts" \(did you mean negative_amounts\?\)/);
    const alone = cli(['--out', out, '--only-faulty-days']);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/--only-faulty-days needs --inject-faults/);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('re-delivers a bad day into an existing landing zone with --only-faulty-days', async () => {
    const dir = path.join(await tempDir(), 'landing');
    await generateLanding(dir, RUN);
    await writeFile(path.join(dir, 'keep.txt'), 'untouched\n');
    const clean = await readAll(dir);
    const { status, stdout, stderr } = cli(['--out', dir, '--inject-faults', `${DAY}:orphan_payments`, '--only-faulty-days']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`Re-delivered ${DAY} .*rewrote ${dayFile('payments')}`));
    expect(stdout).toMatch(/orphan_payments: \d+ payments pointing at orders that do not exist/);
    expect(changedFiles(clean, await readAll(dir))).toEqual([dayFile('payments')]);
  });
});
