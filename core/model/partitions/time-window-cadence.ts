/**
 * Calendar arithmetic for time-window partitions, in wall-clock time (see ./time-zone-rules.ts):
 * each cadence numbers its windows ("slots") consecutively and converts between slot numbers,
 * wall-clock starts and partition keys. No time zone is involved here.
 */

/** How long each time-window partition is. */
export type Cadence = 'hourly' | 'daily' | 'weekly' | 'monthly';

/** Every cadence, in order of window length. */
export const CADENCES: readonly Cadence[] = Object.freeze(['hourly', 'daily', 'weekly', 'monthly']);

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday: day `d` is a Monday when `(d + 3) % 7 === 0`. */
const MONDAY_SHIFT = 3;

/** `-00:00` .. `-23:00`, and `00` .. `99`: formatting keys is the hot loop of `keys(now)`. */
const HOUR_SUFFIXES: readonly string[] = Array.from({ length: 24 }, (_, hour) => `-${String(hour).padStart(2, '0')}:00`);
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_KEY = /^(\d{4})-(\d{2})-(\d{2})-(\d{2}):00$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})-(\d{2}):(\d{2})$/;

/** Slot arithmetic of one cadence. Slots are consecutive integers; slot `s + 1` follows `s`. */
export interface CadenceCalendar {
  readonly cadence: Cadence;
  /** How a key is written, for error messages. */
  readonly keyFormat: string;
  /** The wall-clock start of `slot`. */
  slotWall(slot: number): number;
  /** The slot whose wall-clock span contains `wall`. */
  slotOfWall(wall: number): number;
  /** The partition key of `slot`. */
  keyOf(slot: number): string;
  /** The slot a key names, `undefined` when the key is malformed for this cadence. */
  parseKey(key: string): number | undefined;
}

const hourly: CadenceCalendar = {
  cadence: 'hourly',
  keyFormat: 'YYYY-MM-DD-HH:00',
  slotWall: (slot) => slot * HOUR_MS,
  slotOfWall: (wall) => Math.floor(wall / HOUR_MS),
  keyOf: (slot) => {
    const day = Math.floor(slot / 24);
    return `${formatDay(day)}${HOUR_SUFFIXES[slot - day * 24]}`;
  },
  parseKey: (key) => {
    const match = HOUR_KEY.exec(key);
    if (!match) return undefined;
    const day = dayOf(match[1], match[2], match[3]);
    const hour = Number(match[4]);
    return day === undefined || hour > 23 ? undefined : day * 24 + hour;
  },
};

const daily: CadenceCalendar = {
  cadence: 'daily',
  keyFormat: 'YYYY-MM-DD',
  slotWall: (slot) => slot * DAY_MS,
  slotOfWall: (wall) => Math.floor(wall / DAY_MS),
  keyOf: (slot) => formatDay(slot),
  parseKey: (key) => {
    const match = DATE.exec(key);
    return match ? dayOf(match[1], match[2], match[3]) : undefined;
  },
};

const weekly: CadenceCalendar = {
  cadence: 'weekly',
  keyFormat: 'YYYY-MM-DD, a Monday',
  slotWall: (slot) => (slot * 7 - MONDAY_SHIFT) * DAY_MS,
  slotOfWall: (wall) => Math.floor((Math.floor(wall / DAY_MS) + MONDAY_SHIFT) / 7),
  keyOf: (slot) => formatDay(slot * 7 - MONDAY_SHIFT),
  parseKey: (key) => {
    const match = DATE.exec(key);
    const day = match ? dayOf(match[1], match[2], match[3]) : undefined;
    return day === undefined || mod(day + MONDAY_SHIFT, 7) !== 0 ? undefined : (day + MONDAY_SHIFT) / 7;
  },
};

const monthly: CadenceCalendar = {
  cadence: 'monthly',
  keyFormat: 'YYYY-MM-01',
  slotWall: (slot) => {
    const year = Math.floor(slot / 12);
    return daysFromCivil(year, slot - year * 12 + 1, 1) * DAY_MS;
  },
  slotOfWall: (wall) => {
    const { year, month } = civilFromDays(Math.floor(wall / DAY_MS));
    return year * 12 + month - 1;
  },
  keyOf: (slot) => {
    const year = Math.floor(slot / 12);
    return `${pad(year, 4)}-${pad(slot - year * 12 + 1, 2)}-01`;
  },
  parseKey: (key) => {
    const match = DATE.exec(key);
    if (match?.[3] !== '01' || dayOf(match[1], match[2], match[3]) === undefined) return undefined;
    return Number(match[1]) * 12 + Number(match[2]) - 1;
  },
};

const CALENDARS: Readonly<Record<Cadence, CadenceCalendar>> = Object.freeze({ hourly, daily, weekly, monthly });

/** The slot arithmetic of `cadence`. */
export function calendarOf(cadence: Cadence): CadenceCalendar {
  return CALENDARS[cadence];
}

/**
 * The wall-clock time a `start`/`end` option names: `YYYY-MM-DD` (midnight), and for hourly
 * partitions also `YYYY-MM-DD-HH:mm`; `undefined` when malformed.
 */
export function parseBoundary(text: string, cadence: Cadence): number | undefined {
  const date = DATE.exec(text);
  if (date) {
    const day = dayOf(date[1], date[2], date[3]);
    return day === undefined ? undefined : day * DAY_MS;
  }
  const dateTime = cadence === 'hourly' ? DATE_TIME.exec(text) : null;
  if (!dateTime) return undefined;
  const day = dayOf(dateTime[1], dateTime[2], dateTime[3]);
  const hour = Number(dateTime[4]);
  const minute = Number(dateTime[5]);
  if (day === undefined || hour > 23 || minute > 59) return undefined;
  return day * DAY_MS + hour * HOUR_MS + minute * 60_000;
}

/** A wall value printed as `YYYY-MM-DD HH:mm:ss`. */
export function formatWall(wall: number): string {
  const day = Math.floor(wall / DAY_MS);
  const seconds = Math.floor((wall - day * DAY_MS) / 1000);
  const hour = Math.floor(seconds / 3600);
  const minute = Math.floor((seconds % 3600) / 60);
  return `${formatDay(day)} ${pad(hour, 2)}:${pad(minute, 2)}:${pad(seconds % 60, 2)}`;
}

/** Day number (days since 1970-01-01) of a valid date given as digit strings, else `undefined`. */
function dayOf(yearText: string | undefined, monthText: string | undefined, dayText: string | undefined): number | undefined {
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function formatDay(dayNumber: number): string {
  const { year, month, day } = civilFromDays(dayNumber);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date of a day number (inverse of {@link daysFromCivil}). */
function civilFromDays(dayNumber: number): { year: number; month: number; day: number } {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function pad(value: number, width: number): string {
  return width === 2 && value < 100 ? (TWO_DIGITS[value] as string) : String(value).padStart(width, '0');
}

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
