/**
 * Simulates one location's orders for one business day: when guests come in, what they
 * order, discounts, tax, and how they pay (card, cash or gift card, with tips).
 */
import { compactDate, localTimestamp } from './dates.ts';
import { MENU_ITEMS } from './reference-data.ts';
import type { Rng } from './prng.ts';
import type { Location, MenuItem } from './reference-data.ts';
import type { Employee } from './simulate-shifts.ts';

/** One line of an order. */
export interface OrderLine {
  readonly id: string;
  readonly item: MenuItem;
  readonly quantity: number;
  readonly discountCents: number;
}

/** How an order (or part of it) was paid. */
export interface Payment {
  readonly id: string;
  readonly type: 'card' | 'cash' | 'gift_card';
  readonly cardBrand?: string;
  readonly amountCents: number;
  readonly tipCents: number;
  readonly status: 'CAPTURED' | 'VOIDED';
  readonly paidAt: string;
}

/** Dine-in, take-out or delivery. */
export type DiningOption = 'Dine In' | 'Take Out' | 'Delivery';

/** A check. `closesLate` orders were still open when the nightly export ran. */
export interface Order {
  readonly id: string;
  readonly location: Location;
  readonly businessDate: string;
  readonly openedAt: string;
  readonly closedAt: string;
  readonly diningOption: DiningOption;
  readonly server: Employee;
  readonly guests: number;
  readonly voided: boolean;
  readonly closesLate: boolean;
  readonly taxCents: number;
  readonly lines: readonly OrderLine[];
  readonly payments: readonly Payment[];
}

/** What drives one location-day: its busyness and each menu item's current popularity. */
export interface DayDemand {
  /** Multiplier on the location's base volume (weekday pattern and noise). */
  readonly busyness: number;
  /** Popularity weight of each menu item id on this day. */
  readonly popularity: ReadonlyMap<string, number>;
}

const BASE_ORDERS_PER_DAY = 130;
const ENTREES = ['Mains', 'Burgers & Sandwiches', 'Pizza', 'Salads'];
const DRINKS_DINE_IN = ['Non-Alcoholic', 'Beer', 'Wine', 'Cocktails'];
const DINING_OPTIONS = [
  ['Dine In', 70],
  ['Take Out', 20],
  ['Delivery', 10],
] as const;
const PARTY_SIZES = [
  [1, 14],
  [2, 42],
  [3, 16],
  [4, 18],
  [5, 5],
  [6, 5],
] as const;
const CARD_BRANDS = [
  ['Visa', 55],
  ['Mastercard', 28],
  ['Amex', 12],
  ['Discover', 5],
] as const;
const PAYMENT_TYPES = [
  ['card', 78],
  ['cash', 15],
  ['gift_card', 7],
] as const;

/** Simulates every order of `location` on `date`, sorted by the time it was opened. */
export function simulateOrders(rng: Rng, location: Location, date: string, servers: readonly Employee[], demand: DayDemand): Order[] {
  const count = Math.round(BASE_ORDERS_PER_DAY * location.volume * demand.busyness);
  const openHours = Array.from({ length: count }, () => orderHour(rng, location)).sort((a, b) => a - b);
  const prefix = `${location.id}-${compactDate(date)}-`;
  return openHours.map((opened, i) => {
    const id = `${prefix}${String(i + 1).padStart(4, '0')}`;
    return simulateOrder(rng, { location, date, id, opened, server: rng.pick(servers) }, demand);
  });
}

/** Who, where and when of one order, fixed before its contents are sampled. */
interface OrderSlot {
  readonly location: Location;
  readonly date: string;
  readonly id: string;
  /** Local hour the check was opened (decimal). */
  readonly opened: number;
  readonly server: Employee;
}

function simulateOrder(rng: Rng, slot: OrderSlot, demand: DayDemand): Order {
  const { location, date, id, opened } = slot;
  const diningOption = rng.weighted(DINING_OPTIONS, ([, weight]) => weight)[0];
  const guests = diningOption === 'Dine In' ? rng.weighted(PARTY_SIZES, ([, weight]) => weight)[0] : rng.int(1, 2);
  const lines = orderLines(rng, id, diningOption, guests, opened >= 16, demand);
  const minutes = diningOption === 'Dine In' ? rng.int(35, 95) : rng.int(6, 25);
  const closedAt = localTimestamp(date, opened + minutes / 60);
  const voided = rng.chance(0.012);
  const closesLate = !voided && opened > location.closes - 1 && rng.chance(0.25);
  const netCents = lines.reduce((sum, l) => sum + l.item.priceCents * l.quantity - l.discountCents, 0);
  const taxCents = Math.round((netCents * location.taxBps) / 10_000);
  const payments = voided
    ? voidedPayments(rng, id, diningOption, netCents + taxCents, closedAt)
    : splitPayments(rng, id, diningOption, netCents, taxCents, closedAt);
  return {
    id,
    location,
    businessDate: date,
    openedAt: localTimestamp(date, opened),
    closedAt,
    diningOption,
    server: slot.server,
    guests,
    voided,
    closesLate,
    taxCents,
    lines,
    payments,
  };
}

/** Lunch and dinner rushes, kept inside opening hours (last orders 15 minutes before close). */
function orderHour(rng: Rng, location: Location): number {
  for (;;) {
    const hour = rng.chance(0.42) ? rng.normal(12.6, 0.7) : rng.normal(19, 1.2);
    if (hour >= location.opens && hour <= location.closes - 0.25) return hour;
  }
}

/** Each guest takes an entrée and maybe a drink, side or dessert; the table may share starters. */
function orderLines(rng: Rng, orderId: string, option: DiningOption, guests: number, dinner: boolean, demand: DayDemand): OrderLine[] {
  const dineIn = option === 'Dine In';
  const picks: MenuItem[] = [];
  const starters = (rng.chance(dineIn ? 0.45 : 0.2) ? 1 : 0) + (dineIn && guests > 2 && rng.chance(0.3) ? 1 : 0);
  for (let i = 0; i < starters; i++) picks.push(pickItem(rng, ['Starters'], demand));
  for (let g = 0; g < guests; g++) {
    picks.push(pickItem(rng, ENTREES, demand));
    if (rng.chance(dineIn ? 0.65 : 0.3)) {
      const drinks = dineIn && (dinner || rng.chance(0.3)) ? DRINKS_DINE_IN : ['Non-Alcoholic'];
      picks.push(pickItem(rng, drinks, demand));
    }
    if (rng.chance(0.1)) picks.push(pickItem(rng, ['Sides'], demand));
    if (rng.chance(dineIn ? 0.14 : 0.05)) picks.push(pickItem(rng, ['Desserts'], demand));
  }
  const quantities = new Map<MenuItem, number>();
  for (const item of picks) quantities.set(item, (quantities.get(item) ?? 0) + 1);
  return [...quantities].map(([item, quantity], i) => ({
    id: `${orderId}-${String(i + 1).padStart(2, '0')}`,
    item,
    quantity,
    discountCents: lineDiscount(rng, item, quantity),
  }));
}

function pickItem(rng: Rng, categories: readonly string[], demand: DayDemand): MenuItem {
  const category = rng.pick(categories);
  const choice = choicesOf(demand).get(category);
  if (!choice) throw new RangeError(`no active menu items in category "${category}"`);
  // The same draw as rng.weighted(items, popularity), with the weights summed once a day.
  let r = rng.next() * choice.total;
  for (let i = 0; i < choice.items.length; i++) {
    r -= choice.weights[i] as number;
    if (r < 0) return choice.items[i] as MenuItem;
  }
  return choice.items[choice.items.length - 1] as MenuItem;
}

/** The active items of one category with their popularity weights on one day. */
interface CategoryChoice {
  readonly items: readonly MenuItem[];
  readonly weights: readonly number[];
  readonly total: number;
}

/** Active items by category; picking filters nothing per order. */
const ACTIVE_BY_CATEGORY: ReadonlyMap<string, readonly MenuItem[]> = (() => {
  const map = new Map<string, MenuItem[]>();
  for (const item of MENU_ITEMS.filter((m) => m.active)) map.set(item.category, [...(map.get(item.category) ?? []), item]);
  return map;
})();

/** Weights per category for a day's demand, computed once per popularity map (every location of a day shares it). */
const choicesByDemand = new WeakMap<ReadonlyMap<string, number>, ReadonlyMap<string, CategoryChoice>>();

function choicesOf(demand: DayDemand): ReadonlyMap<string, CategoryChoice> {
  const cached = choicesByDemand.get(demand.popularity);
  if (cached) return cached;
  const choices = new Map<string, CategoryChoice>();
  for (const [category, items] of ACTIVE_BY_CATEGORY) {
    const weights = items.map((m) => demand.popularity.get(m.id) ?? m.popularity);
    choices.set(category, { items, weights, total: weights.reduce((sum, w) => sum + w, 0) });
  }
  choicesByDemand.set(demand.popularity, choices);
  return choices;
}

/** About 1 line in 25 carries a discount: a happy-hour 20% on drinks or a manager comp. */
function lineDiscount(rng: Rng, item: MenuItem, quantity: number): number {
  if (!rng.chance(0.04)) return 0;
  const gross = item.priceCents * quantity;
  if (item.menuGroup !== 'Food' && rng.chance(0.7)) return Math.round(gross * 0.2);
  return rng.chance(0.3) ? gross : Math.round(gross * 0.5);
}

/** One payment for most checks; about one in ten is split evenly between two cards. */
function splitPayments(rng: Rng, orderId: string, option: DiningOption, netCents: number, taxCents: number, paidAt: string): Payment[] {
  const due = netCents + taxCents;
  if (due > 4000 && rng.chance(0.1)) {
    const first = Math.round(due / 2);
    return [
      payment(rng, `${orderId}-P1`, option, first, Math.round(netCents / 2), paidAt, 'card'),
      payment(rng, `${orderId}-P2`, option, due - first, netCents - Math.round(netCents / 2), paidAt, 'card'),
    ];
  }
  return [payment(rng, `${orderId}-P1`, option, due, netCents, paidAt)];
}

/** Half the voided checks had a payment run before the void; it is exported as VOIDED. */
function voidedPayments(rng: Rng, orderId: string, option: DiningOption, dueCents: number, paidAt: string): Payment[] {
  if (!rng.chance(0.5)) return [];
  return [{ ...payment(rng, `${orderId}-P1`, option, dueCents, 0, paidAt), status: 'VOIDED' }];
}

function payment(rng: Rng, id: string, option: DiningOption, amountCents: number, tipBaseCents: number, paidAt: string, forced?: Payment['type']): Payment {
  const type = forced ?? rng.weighted(PAYMENT_TYPES, ([, weight]) => weight)[0];
  return {
    id,
    type,
    ...(type === 'card' ? { cardBrand: rng.weighted(CARD_BRANDS, ([, w]) => w)[0] } : {}),
    amountCents,
    tipCents: Math.round(tipBaseCents * tipRate(rng, type, option)),
    status: 'CAPTURED',
    paidAt,
  };
}

/** Card and gift card tips: about 19% on dine-in, sometimes 10% on take-out; none recorded for cash or delivery. */
function tipRate(rng: Rng, type: Payment['type'], option: DiningOption): number {
  if (type === 'cash' || option === 'Delivery') return 0;
  if (option === 'Take Out') return rng.chance(0.35) ? 0.1 : 0;
  return Math.max(0.08, rng.normal(0.19, 0.035));
}
