/** Simulates each location's staff roster and the shifts they clock in and out of. */
import { localTimestamp } from './dates.ts';
import { FIRST_NAMES, LAST_NAMES, ROLES } from './reference-data.ts';
import type { Rng } from './prng.ts';
import type { Location, Role } from './reference-data.ts';

/** One person on a location's payroll. */
export interface Employee {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly rateCents: number;
}

/** One clock-in/clock-out pair. `clockOut` is absent when the employee forgot to clock out. */
export interface Shift {
  readonly id: string;
  readonly location: Location;
  readonly employee: Employee;
  readonly clockIn: string;
  readonly clockOut?: string;
  readonly breakMinutes: number;
}

/** Builds a location's roster: headcount per role scaled by the location's volume. */
export function buildRoster(rng: Rng, location: Location): Employee[] {
  const roster: Employee[] = [];
  for (const role of ROLES) {
    const headcount = Math.max(1, Math.round(role.headcount * location.volume));
    for (let i = 0; i < headcount; i++) {
      const rate = rng.int(role.minRateCents / 25, role.maxRateCents / 25) * 25;
      roster.push({
        id: `E${location.id.slice(1)}${String(roster.length + 1).padStart(2, '0')}`,
        name: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`,
        role,
        rateCents: rate,
      });
    }
  }
  return roster;
}

/**
 * Simulates one day of shifts at a location: opening and closing shifts per role, with
 * realistic jitter, unpaid breaks on long shifts and the odd missing clock-out.
 */
export function simulateShifts(rng: Rng, location: Location, roster: readonly Employee[], date: string, busyness: number): Shift[] {
  const shifts: Shift[] = [];
  for (const role of ROLES) {
    const staff = roster.filter((e) => e.role === role);
    const wanted = Math.max(1, Math.round(role.shiftsPerDay * location.volume * Math.sqrt(busyness)));
    const onShift = shuffle(rng, staff).slice(0, Math.min(wanted, staff.length));
    onShift.forEach((employee, i) => {
      const [start, end] = shiftWindow(rng, location, role, i % 2 === 0 ? 'open' : 'close');
      const hours = end - start;
      const forgotToClockOut = rng.chance(0.012);
      shifts.push({
        id: `T-${location.id}-${date.replaceAll('-', '')}-${String(shifts.length + 1).padStart(3, '0')}`,
        location,
        employee,
        clockIn: localTimestamp(date, start),
        ...(forgotToClockOut ? {} : { clockOut: localTimestamp(date, end) }),
        breakMinutes: hours > 6 ? 30 : 0,
      });
    });
  }
  return shifts;
}

/** Start and end (decimal local hours, whole minutes) of an opening or closing shift. */
function shiftWindow(rng: Rng, location: Location, role: Role, half: 'open' | 'close'): [number, number] {
  const jitter = (): number => rng.int(-15, 15) / 60;
  let start: number;
  let end: number;
  if (role.title === 'Prep Cook') {
    [start, end] = [8 + jitter(), 14.5 + jitter()];
  } else if (role.title === 'Manager') {
    [start, end] = half === 'open' ? [location.opens - 1 + jitter(), 19 + jitter()] : [14 + jitter(), location.closes + 0.75 + jitter()];
  } else if (half === 'open') {
    [start, end] = [location.opens - 0.75 + jitter(), 16 + jitter()];
  } else {
    [start, end] = [16 + jitter(), location.closes + 0.5 + jitter()];
  }
  return [Math.round(start * 60) / 60, Math.round(end * 60) / 60];
}

function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
