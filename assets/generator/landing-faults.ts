/**
 * Injects realistic bad data into one day's landing files, so a data-quality check has
 * something to stop: pure text in, text out, seeded by the seed, the date and the fault kind.
 *
 * Every fault changes a row the same way wherever the export doubled it, so staging's
 * deduplication cannot pick a clean copy over a bad one.
 */
import { compactDate } from './dates.ts';
import { parseDelimitedText, toDelimitedText } from './delimited-text.ts';
import { FAULT_KIND_ORDER } from './fault-spec.ts';
import { createRng, deriveSeed } from './prng.ts';
import type { Delimiter } from './delimited-text.ts';
import type { FaultKind } from './fault-spec.ts';
import type { LandingFile } from './landing-files.ts';
import type { Rng } from './prng.ts';

/** What one injected fault did to a day's files. */
export interface FaultEffect {
  readonly date: string;
  readonly kind: FaultKind;
  /** The files it changed. */
  readonly files: readonly string[];
  /** One line for people, e.g. `17 captured payments made negative`. */
  readonly summary: string;
}

/** Share of the day's orders that end up sharing an order_id with another check. */
const DUPLICATE_ORDER_RATE = 0.01;
/** Share of the day's payments made negative or pointed at a missing order. */
const BAD_PAYMENT_RATE = 0.02;
/** Share of the day's order_items lines whose order_id is blanked. */
const NULL_KEY_RATE = 0.01;
/** Fewest rows a fault touches, so even a quiet day shows the defect. */
const MIN_AFFECTED = 3;
/** A truncated orders file keeps between these shares of its rows. */
const TRUNCATED_KEEP = [0.05, 0.15] as const;

/**
 * Applies `kinds` (in {@link FAULT_KIND_ORDER}) to the daily files of `date` and returns the
 * changed files (others are returned as they are) with what each fault did.
 *
 * @example
 * const { files, effects } = applyFaults(dayFiles, '2025-03-14', ['negative_amounts'], 42);
 */
export function applyFaults(
  files: readonly LandingFile[],
  date: string,
  kinds: readonly FaultKind[],
  seed: number,
): { files: LandingFile[]; effects: FaultEffect[] } {
  const day = new DayTables(files, date);
  const effects = FAULT_KIND_ORDER.filter((kind) => kinds.includes(kind)).map((kind) => {
    const rng = createRng(deriveSeed(seed, `fault:${date}:${kind}`));
    const { files: changed, summary } = INJECT[kind](rng, day);
    return { date, kind, files: changed, summary };
  });
  return { files: day.render(), effects };
}

/** One fault: changes the day's tables and says what it changed. */
type Injector = (rng: Rng, day: DayTables) => { files: string[]; summary: string };

const INJECT: Record<FaultKind, Injector> = {
  duplicate_order_ids: duplicateOrderIds,
  negative_amounts: negativeAmounts,
  orphan_payments: orphanPayments,
  truncated_file: truncatedFile,
  null_keys: nullKeys,
};

/**
 * A location's POS hands out a check number twice: a second check, with its own items and
 * payments, is exported under the order_id of another check of the same location and day.
 * The two share a menu item, so the merged order has two lines of one item.
 */
function duplicateOrderIds(rng: Rng, day: DayTables): { files: string[]; summary: string } {
  const orders = day.table('orders');
  const items = day.table('orderItems');
  const [id, businessDate, closedAt, voided] = [orders.column('order_id'), orders.column('business_date'), orders.column('closed_at'), orders.column('voided')];
  const [itemOrderId, menuItemId] = [items.column('order_id'), items.column('menu_item_id')];
  const menuItemsOf = new Map<string, Set<string>>();
  for (const row of items.rows) {
    const orderId = row[itemOrderId] as string;
    menuItemsOf.set(orderId, (menuItemsOf.get(orderId) ?? new Set()).add(row[menuItemId] as string));
  }
  // Closed, not voided checks of the day itself (not the re-sent ones of the day before).
  const candidates = distinct(
    orders.rows
      .filter((r) => r[businessDate] === compactDate(day.date) && r[closedAt] !== '' && !/true/i.test(r[voided] as string))
      .map((r) => r[id] as string),
  );
  const wanted = Math.max(MIN_AFFECTED, Math.round(candidates.length * DUPLICATE_ORDER_RATE));
  const shuffled = sample(rng, candidates, candidates.length);
  const used = new Set<string>();
  const renamed = new Map<string, string>();
  for (const kept of shuffled) {
    if (renamed.size >= wanted) break;
    if (used.has(kept)) continue;
    const keptItems = menuItemsOf.get(kept) ?? new Set();
    const other = shuffled.find(
      (o) => o !== kept && !used.has(o) && locationOf(o) === locationOf(kept) && [...(menuItemsOf.get(o) ?? [])].some((m) => keptItems.has(m)),
    );
    if (other === undefined) continue;
    used.add(kept).add(other);
    renamed.set(other, kept);
  }
  if (renamed.size === 0) throw new Error(`duplicate_order_ids: no two checks of ${day.date} can share an order_id`);
  const changed = ['orders', 'orderItems', 'payments'].map((name) => {
    const table = day.table(name as TableName);
    table.update('order_id', (value) => renamed.get(value) ?? value);
    return table.name;
  });
  return { files: changed, summary: `${renamed.size} order_ids each used by two different checks (with their items and payments)` };
}

/** Captured payments, not refunds, exported with a negative amount (a sign bug in one terminal). */
function negativeAmounts(rng: Rng, day: DayTables): { files: string[]; summary: string } {
  const payments = day.table('payments');
  const [paymentId, amount, status] = [payments.column('payment_id'), payments.column('amount'), payments.column('status')];
  const candidates = distinct(
    payments.rows.filter((r) => isCaptured(r[status] as string) && Number((r[amount] as string).replace('$', '')) > 0).map((r) => r[paymentId] as string),
  );
  const chosen = new Set(sample(rng, candidates, affected(candidates.length, BAD_PAYMENT_RATE)));
  payments.updateWhere('payment_id', chosen, 'amount', (value) => `-${value.replace('$', '')}`);
  return { files: [payments.name], summary: `${chosen.size} captured payments with a negative amount` };
}

/**
 * Captured payments whose order_id points at no order: the check number of another terminal
 * range (`L01-20250314-0042` becomes `L01-20250314-90042`, which no export ever uses). Their
 * real orders are left without a payment.
 */
function orphanPayments(rng: Rng, day: DayTables): { files: string[]; summary: string } {
  const payments = day.table('payments');
  const [paymentId, status] = [payments.column('payment_id'), payments.column('status')];
  const candidates = distinct(payments.rows.filter((r) => isCaptured(r[status] as string)).map((r) => r[paymentId] as string));
  const chosen = new Set(sample(rng, candidates, affected(candidates.length, BAD_PAYMENT_RATE)));
  payments.updateWhere('payment_id', chosen, 'order_id', (value) => {
    const cut = value.lastIndexOf('-');
    return `${value.slice(0, cut)}-9${value.slice(cut + 1).padStart(4, '0')}`;
  });
  return { files: [payments.name], summary: `${chosen.size} payments pointing at orders that do not exist` };
}

/** The orders export stopped early: only its first 5-15% of lines arrived (each line whole). */
function truncatedFile(rng: Rng, day: DayTables): { files: string[]; summary: string } {
  const orders = day.table('orders');
  const before = orders.rows.length;
  const [low, high] = TRUNCATED_KEEP;
  const kept = Math.max(1, Math.floor(before * (low + rng.next() * (high - low))));
  orders.rows = orders.rows.slice(0, kept);
  orders.changed = true;
  return { files: [orders.name], summary: `${orders.name} cut from ${before} to ${kept} rows` };
}

/** order_items lines exported without their order_id. */
function nullKeys(rng: Rng, day: DayTables): { files: string[]; summary: string } {
  const items = day.table('orderItems');
  const itemId = items.column('order_item_id');
  const candidates = distinct(items.rows.map((r) => r[itemId] as string));
  const chosen = new Set(sample(rng, candidates, affected(candidates.length, NULL_KEY_RATE)));
  items.updateWhere('order_item_id', chosen, 'order_id', () => '');
  return { files: [items.name], summary: `${chosen.size} order_items lines with a blank order_id` };
}

/** The daily files a fault can change, by their key in `HEADERS`. */
type TableName = 'orders' | 'orderItems' | 'payments';

const FILE_NAMES: Record<TableName, (date: string) => string> = {
  orders: (date) => `orders_${date}.csv`,
  orderItems: (date) => `order_items_${date}.csv`,
  payments: (date) => `payments_${date}.tsv`,
};

/** One landing file parsed into rows, rendered again only if a fault changed it. */
class Table {
  changed = false;
  constructor(
    readonly name: string,
    readonly delimiter: Delimiter,
    readonly header: readonly string[],
    public rows: string[][],
  ) {}

  /** Index of the named column. */
  column(name: string): number {
    const index = this.header.indexOf(name);
    if (index === -1) throw new Error(`${this.name} has no column ${name} (header: ${this.header.join(this.delimiter)})`);
    return index;
  }

  /** Replaces every value of `column` with `change(value)`. */
  update(column: string, change: (value: string) => string): void {
    this.updateRows(() => true, column, change);
  }

  /** Replaces `column` with `change(value)` on every row whose `keyColumn` is one of `keys`. */
  updateWhere(keyColumn: string, keys: ReadonlySet<string>, column: string, change: (value: string) => string): void {
    const key = this.column(keyColumn);
    this.updateRows((row) => keys.has(row[key] as string), column, change);
  }

  private updateRows(match: (row: readonly string[]) => boolean, column: string, change: (value: string) => string): void {
    const index = this.column(column);
    this.rows = this.rows.map((row) => {
      if (!match(row)) return row;
      const copy = [...row];
      copy[index] = change(row[index] as string);
      return copy;
    });
    this.changed = true;
  }

  render(): LandingFile {
    return { name: this.name, text: toDelimitedText(this.header, this.rows, this.delimiter), rows: this.rows.length };
  }
}

/** A day's daily files, parsed on first use. */
class DayTables {
  private readonly parsed = new Map<string, Table>();

  constructor(
    private readonly files: readonly LandingFile[],
    readonly date: string,
  ) {}

  table(name: TableName): Table {
    const fileName = FILE_NAMES[name](this.date);
    const cached = this.parsed.get(fileName);
    if (cached) return cached;
    const file = this.files.find((f) => f.name === fileName);
    if (!file) throw new Error(`cannot inject a fault into ${fileName}: it is not among the files of ${this.date}`);
    const delimiter = fileName.endsWith('.tsv') ? '\t' : ',';
    const [header = [], ...rows] = parseDelimitedText(file.text, delimiter);
    const table = new Table(fileName, delimiter, header, rows);
    this.parsed.set(fileName, table);
    return table;
  }

  /** The day's files, the changed ones rendered again. */
  render(): LandingFile[] {
    return this.files.map((file) => {
      const table = this.parsed.get(file.name);
      return table?.changed ? table.render() : file;
    });
  }
}

function isCaptured(status: string): boolean {
  return status.trim().toUpperCase() === 'CAPTURED';
}

/** `L01-20250314-0042` → `L01`. */
function locationOf(orderId: string): string {
  return orderId.slice(0, orderId.indexOf('-'));
}

function affected(candidates: number, rate: number): number {
  return Math.min(candidates, Math.max(MIN_AFFECTED, Math.round(candidates * rate)));
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** `count` items of `items`, drawn without replacement (a partial Fisher–Yates shuffle). */
function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const copy = [...items];
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = rng.int(i, copy.length - 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}
