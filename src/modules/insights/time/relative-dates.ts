import type { ParsedDate, RelativeUnit } from './date-strings.ts';
import type { WeekStart } from './interval.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, daysInMonth, instantAtWallClock, wallClockAt, wallOf, wallWeekday } from './zone.ts';

/** A relative date string, parsed. */
export type RelativeDate = Extract<ParsedDate, { kind: 'relative' }>;

/** What a relative date is measured from. */
export interface RelativeDateClock {
  /** The current instant. */
  now: Date;
  /** IANA time zone whose wall clock the units are counted on. */
  timezone: string;
  /** First day of the week, for `wStart` / `wEnd`. */
  weekStart: WeekStart;
}

/**
 * PostHog's dateutil `relativedelta`: fields to overwrite, then an amount to go back. Overwriting happens
 * first, months and years move the calendar month (the day is clamped to the month's length), and the
 * rest is subtracted from the wall clock, so "-24h" across a daylight-saving change is 24 wall-clock hours
 * (23 or 25 real ones), as in Python's aware-datetime arithmetic.
 */
interface WallDelta {
  years: number;
  months: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
  set: { month?: number; day?: number; hour?: number; minute?: number; second?: number; millisecond?: number };
}

const MAX_DATE_MS = 8.64e15;
const END_OF_HOUR = { minute: 59, second: 59, millisecond: 999 };
const START_OF_HOUR = { minute: 0, second: 0, millisecond: 0 };

function deltaFor({ amount: n, unit, position }: RelativeDate): WallDelta {
  const delta: WallDelta = { years: 0, months: 0, days: 0, hours: 0, minutes: 0, seconds: 0, set: {} };
  switch (unit) {
    case 'h':
      delta.hours = n;
      if (position) delta.set = position === 'Start' ? START_OF_HOUR : END_OF_HOUR;
      break;
    case 'd':
      delta.days = n;
      if (position) delta.set = position === 'Start' ? { hour: 0, ...START_OF_HOUR } : { hour: 23, ...END_OF_HOUR };
      break;
    case 'w':
      delta.days = 7 * n;
      break;
    case 'm':
      delta.months = n;
      if (position) delta.set = { day: position === 'Start' ? 1 : 31 };
      break;
    case 'q':
      delta.days = 7 * 13 * n;
      break;
    case 'y':
      delta.years = n;
      // PostHog's yEnd only sets day=31 (the end of the current month, a year ago); we take it to mean
      // December 31st, the end of the year, as yStart means January 1st.
      if (position) delta.set = position === 'Start' ? { month: 1, day: 1 } : { month: 12, day: 31 };
      break;
    case 'M':
      delta.minutes = n;
      break;
    case 's':
      delta.seconds = n;
      break;
  }
  return delta;
}

function subtractFromWall(wall: number, delta: WallDelta): number {
  const d = new Date(wall);
  const monthIndex = d.getUTCFullYear() * 12 + ((delta.set.month ?? d.getUTCMonth() + 1) - 1) - delta.years * 12 - delta.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12 + 1;
  const day = Math.min(daysInMonth(year, month), delta.set.day ?? d.getUTCDate());
  const replaced = wallOf(
    year,
    month,
    day,
    delta.set.hour ?? d.getUTCHours(),
    delta.set.minute ?? d.getUTCMinutes(),
    delta.set.second ?? d.getUTCSeconds(),
    delta.set.millisecond ?? d.getUTCMilliseconds(),
  );
  return replaced - delta.days * DAY_MS - delta.hours * HOUR_MS - delta.minutes * MINUTE_MS - delta.seconds * 1000;
}

/**
 * The instant a relative date string means (no rounding to intervals; that is the date range's job).
 * `-7d` is now minus 7 wall-clock days; `-1mStart` is the first day of last month at the current time of
 * day; `dStart` is today's midnight; `-1dEnd` is 23:59:59.999 yesterday; `wStart` is the first day of this
 * week (per `weekStart`) at the current time of day. May return NaN for absurd amounts (`-9999999y`).
 */
export function resolveRelativeDate(date: RelativeDate, { now, timezone, weekStart }: RelativeDateClock): number {
  let wall = wallClockAt(timezone, now.getTime());
  if (date.unit === 'w' && date.position) {
    const daysIntoWeek = (wallWeekday(wall) - weekStart + 7) % 7;
    wall += (date.position === 'Start' ? -daysIntoWeek : 6 - daysIntoWeek) * DAY_MS;
  }
  const target = subtractFromWall(wall, deltaFor(date));
  // Beyond what a Date can hold (minus a day of margin for the zone lookups) nothing is meaningful.
  if (!Number.isFinite(target) || Math.abs(target) > MAX_DATE_MS - DAY_MS) return Number.NaN;
  return instantAtWallClock(timezone, target);
}

/** Whether PostHog truncates this relative date to the hour rather than to the day (`always_truncate`). */
export function isHourPrecise(unit: RelativeUnit): boolean {
  return unit === 'h';
}
