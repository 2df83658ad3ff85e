import { BadUserInputError } from '../../../graphql/errors.ts';

/**
 * Wall-clock arithmetic for IANA time zones, on top of the runtime's Intl data.
 *
 * A "wall" value is a local date and time encoded as the milliseconds since the epoch at which a UTC
 * clock would show the same reading: 2024-03-31 02:30 local is `Date.UTC(2024, 2, 31, 2, 30)`. That lets
 * calendar arithmetic use `Date`'s UTC methods while instants stay plain numbers.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
// No zone is further than 14h from UTC, so every instant showing a given wall reading lies within this window.
const WINDOW_BEFORE_MS = 15 * HOUR_MS;
const WINDOW_AFTER_MS = 13 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | undefined {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return undefined;
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws `BadUserInputError` unless the runtime knows the IANA time zone name. */
export function assertTimeZone(timeZone: string): void {
  if (typeof timeZone !== 'string' || timeZone === '' || !formatterFor(timeZone)) {
    throw new BadUserInputError(`Unknown time zone "${String(timeZone)}": use an IANA name such as "Europe/Berlin" or "UTC".`, {
      timezone: timeZone,
    });
  }
}

function requireFormatter(timeZone: string): Intl.DateTimeFormat {
  const formatter = formatterFor(timeZone);
  if (!formatter) assertTimeZone(timeZone);
  return formatter!;
}

/** How far the zone's wall clock is ahead of UTC at the instant, in milliseconds (negative west of UTC). */
export function zoneOffsetAt(timeZone: string, instant: number): number {
  if (timeZone === 'UTC') return 0;
  const parts: Record<string, string> = {};
  for (const part of requireFormatter(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  const wall = new Date(0);
  wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
  // Intl shows whole seconds; compare against the instant floored to its second.
  return wall.getTime() - Math.floor(instant / 1000) * 1000;
}

/** The zone's wall-clock reading at the instant (see the module comment for the encoding). */
export function wallClockAt(timeZone: string, instant: number): number {
  return instant + zoneOffsetAt(timeZone, instant);
}

/**
 * The instant at which the zone's clock shows `wall`. A reading that happens twice (clocks turned back)
 * resolves to the earlier instant; a reading that never happens (clocks turned forward) is read with the
 * offset in force before the change, so 02:30 in a 02:00→03:00 gap becomes 03:30 after it. That is what
 * Python's zoneinfo does with `fold=0` (PostHog) and what MongoDB's timelib does.
 */
export function instantAtWallClock(timeZone: string, wall: number): number {
  const before = zoneOffsetAt(timeZone, wall - WINDOW_BEFORE_MS);
  const after = zoneOffsetAt(timeZone, wall + WINDOW_AFTER_MS);
  if (before === after) return wall - before;
  const candidates = [wall - before, wall - after].filter((t) => zoneOffsetAt(timeZone, t) === wall - t);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

/** Start (wall) of the local calendar day holding the wall reading. */
export function wallDayStart(wall: number): number {
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** Wall reading of the first day of `months` months after the month holding `wall` (negative goes back). */
export function wallMonthStart(wall: number, months = 0): number {
  const d = new Date(wall);
  const start = new Date(0);
  start.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  return start.getTime();
}

/** Day of the week of a wall reading: 0 = Sunday … 6 = Saturday. */
export function wallWeekday(wall: number): number {
  return new Date(wall).getUTCDay();
}

/** Number of days in a month (1 = January) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/** Wall reading of a calendar date and time; months and days overflow into the next ones like `Date.UTC`. */
export function wallOf(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millisecond);
  return d.getTime();
}

/** "2024-01-31 13:45" in the zone, for messages. */
export function formatWallClock(timeZone: string, instant: number): string {
  return new Date(wallClockAt(timeZone, instant)).toISOString().slice(0, 16).replace('T', ' ');
}
