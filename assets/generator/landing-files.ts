/**
 * Turns simulated days into the files a POS back office drops each night: the four daily
 * exports and the two reference snapshots, with realistic mess left in on purpose.
 */
import { compactDate } from './dates.ts';
import { money, scuff, withDuplicateLines } from './mess.ts';
import { LOCATIONS, MENU_ITEMS } from './reference-data.ts';
import { toDelimitedText } from './delimited-text.ts';
import type { Rng } from './prng.ts';
import type { Order, Payment } from './simulate-orders.ts';
import type { Shift } from './simulate-shifts.ts';

/** A file to write into the landing zone. */
export interface LandingFile {
  readonly name: string;
  readonly text: string;
  /** Data rows (lines after the header). */
  readonly rows: number;
}

/** Column headers of each landing file. */
export const HEADERS = {
  orders: ['order_id', 'location_id', 'business_date', 'opened_at', 'closed_at', 'dining_option', 'server_id', 'guest_count', 'voided', 'tax_amount'],
  orderItems: ['order_item_id', 'order_id', 'menu_item_id', 'menu_item_name', 'quantity', 'unit_price', 'discount_amount'],
  payments: ['payment_id', 'order_id', 'location_id', 'paid_at', 'payment_type', 'card_brand', 'amount', 'tip_amount', 'status'],
  timeEntries: ['time_entry_id', 'location_id', 'employee_id', 'employee_name', 'job_title', 'hourly_rate', 'clock_in', 'clock_out', 'break_minutes'],
  menuItems: ['menu_item_id', 'item_name', 'category', 'menu_group', 'price', 'food_cost', 'is_active'],
  locations: ['location_id', 'location_name', 'city', 'state', 'timezone', 'opened_on', 'seats', 'opening_time', 'closing_time', 'tax_rate'],
} as const;

/** Share of lines an export writes twice. */
const DUPLICATE_LINE_RATE = 0.004;

/** Everything that goes into one day's files. */
export interface DayExport {
  readonly date: string;
  /** Orders whose business date is `date`. */
  readonly orders: readonly Order[];
  /** Yesterday's orders that were still open at export time, re-sent now that they are closed. */
  readonly resent: readonly Order[];
  readonly shifts: readonly Shift[];
}

/** The four daily files for one business day. */
export function dailyFiles(rng: Rng, day: DayExport): LandingFile[] {
  const exported = [...day.orders.map((o) => ({ order: o, open: o.closesLate })), ...day.resent.map((o) => ({ order: o, open: false }))];
  const orderRows = exported.map(({ order, open }) => orderRow(rng, order, open));
  const itemRows = exported.flatMap(({ order }) =>
    order.lines.map((line) => [
      line.id,
      order.id,
      line.item.id,
      scuff(rng, line.item.name, 0.05),
      String(line.quantity),
      money(line.item.priceCents),
      line.discountCents === 0 && rng.chance(0.1) ? '0.00' : money(line.discountCents, true),
    ]),
  );
  // Payments of an order that was still open at export time arrive with the re-sent order.
  const paymentRows = exported.filter(({ open }) => !open).flatMap(({ order }) => order.payments.map((p) => paymentRow(rng, order, p)));
  const shiftRows = day.shifts.map((s) => [
    s.id,
    rng.chance(0.03) ? ` ${s.location.id.toLowerCase()}` : s.location.id,
    s.employee.id,
    s.employee.name,
    scuff(rng, s.employee.role.title, 0.15),
    money(s.employee.rateCents),
    s.clockIn,
    s.clockOut ?? '',
    String(s.breakMinutes),
  ]);
  return [
    file(`orders_${day.date}.csv`, HEADERS.orders, withDuplicateLines(rng, orderRows, DUPLICATE_LINE_RATE), ','),
    file(`order_items_${day.date}.csv`, HEADERS.orderItems, withDuplicateLines(rng, itemRows, DUPLICATE_LINE_RATE), ','),
    file(`payments_${day.date}.tsv`, HEADERS.payments, withDuplicateLines(rng, paymentRows, DUPLICATE_LINE_RATE), '\t'),
    file(`time_entries_${day.date}.tsv`, HEADERS.timeEntries, withDuplicateLines(rng, shiftRows, DUPLICATE_LINE_RATE), '\t'),
  ];
}

/**
 * The reference snapshots: the menu (category spelled inconsistently, one line exported
 * twice) and the locations (padded names, some lower-case states).
 */
export function referenceFiles(rng: Rng): LandingFile[] {
  const menuRows = MENU_ITEMS.map((m) => [
    m.id,
    m.name,
    scuff(rng, m.category, 0.2),
    m.menuGroup,
    money(m.priceCents),
    money(Math.round(m.priceCents * m.costShare)),
    m.active ? rng.pick(['Y', 'Y', 'Y', 'yes']) : 'N',
  ]);
  const duplicated = menuRows[7];
  if (duplicated) menuRows.push(duplicated);
  const locationRows = LOCATIONS.map((l) => [
    l.id,
    rng.chance(0.3) ? ` ${l.name} ` : l.name,
    l.city,
    rng.chance(0.3) ? l.state.toLowerCase() : l.state,
    l.timezone,
    l.openedOn,
    String(l.seats),
    clock(l.opens),
    clock(l.closes),
    (l.taxBps / 10_000).toFixed(4),
  ]);
  return [file('menu_items.csv', HEADERS.menuItems, menuRows, ','), file('locations.csv', HEADERS.locations, locationRows, ',')];
}

function orderRow(rng: Rng, order: Order, stillOpen: boolean): string[] {
  return [
    order.id,
    rng.chance(0.02) ? order.location.id.toLowerCase() : order.location.id,
    compactDate(order.businessDate),
    order.openedAt,
    stillOpen ? '' : order.closedAt,
    scuff(rng, order.diningOption, 0.15),
    order.server.id,
    rng.chance(0.01) ? '' : String(order.guests),
    order.voided ? rng.pick(['true', 'TRUE', 'True']) : rng.chance(0.05) ? '' : rng.chance(0.1) ? 'FALSE' : 'false',
    money(order.taxCents),
  ];
}

const RAW_PAYMENT_TYPES: Record<Payment['type'], readonly (readonly [string, number])[]> = {
  card: [
    ['CREDIT', 70],
    ['Credit', 25],
    ['credit ', 5],
  ],
  cash: [
    ['CASH', 80],
    ['Cash', 15],
    [' cash', 5],
  ],
  gift_card: [
    ['GIFTCARD', 60],
    ['Gift Card', 40],
  ],
};

function paymentRow(rng: Rng, order: Order, p: Payment): string[] {
  const amount = money(p.amountCents);
  return [
    p.id,
    order.id,
    order.location.id,
    p.paidAt,
    rng.weighted(RAW_PAYMENT_TYPES[p.type], ([, w]) => w)[0],
    p.cardBrand === undefined ? '' : scuff(rng, p.cardBrand, 0.1),
    rng.chance(0.03) ? `$${amount}` : amount,
    money(p.tipCents, true),
    scuff(rng, p.status, 0.1),
  ];
}

/** Decimal hours as `HH:MM`. */
function clock(hours: number): string {
  const minutes = Math.round(hours * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function file(name: string, header: readonly string[], rows: readonly (readonly string[])[], delimiter: ',' | '\t'): LandingFile {
  return { name, text: toDelimitedText(header, rows, delimiter), rows: rows.length };
}
