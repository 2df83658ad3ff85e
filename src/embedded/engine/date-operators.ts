import { evalExpr } from 'mingo/core';
import * as expressionOperators from 'mingo/operators/expression';
import type { Options } from 'mingo/types';
import { StoreError } from './errors.ts';
import { formatOffset, wallClockToInstant, zoneOffsetMs } from './timezones.ts';
import { isPlainObject } from './values.ts';

/**
 * Date expression operators where mingo and MongoDB 7 differ, replaced so that MongoDB's answer wins:
 * - mingo's `$dateTrunc` works out day/week/month bins in UTC and only then shifts by an offset, so events
 *   late in the evening west of UTC (or after a daylight-saving change) land in the wrong day;
 * - mingo reads named zones only in "Area/City" form ("UTC", "America/Argentina/Salta" are refused).
 * The other operators are right for a fixed offset, so they are called with the named zone resolved to
 * the offset in force at that instant.
 */

type Operator = (obj: unknown, expr: unknown, options: Options) => unknown;

const DAY = 86_400_000;
const UNIT_MS: Record<string, number> = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000 };
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
// MongoDB counts bins from 2000-01-01T00:00 in the given zone.
const REFERENCE_WALL = Date.UTC(2000, 0, 1);

const $dateTrunc: Operator = (obj, expr, options) => {
  const args = evalExpr(obj, expr, options) as Record<string, unknown>;
  const { date, unit, timezone } = args;
  if (date === null || date === undefined || unit === null || unit === undefined) return null;
  if (!(date instanceof Date)) throw new StoreError('Location5439012', "$dateTrunc requires 'date' to be a date");
  const binSize = args.binSize === undefined || args.binSize === null ? 1 : Number(args.binSize);
  if (!(binSize > 0) || !Number.isInteger(binSize)) throw new StoreError('BadValue', "$dateTrunc requires 'binSize' to be a positive integer");
  const zone = timezone as string | undefined;
  const instant = date.getTime();
  const fixed = UNIT_MS[String(unit)];
  if (fixed !== undefined) {
    // MongoDB bins units up to an hour in real time, counted from local 2000-01-01 00:00: a repeated hour
    // after a daylight-saving change is a bin of its own, and half-hour zones keep their bins on the grid.
    const reference = wallClockToInstant(zone, REFERENCE_WALL);
    return new Date(instant - mod(instant - reference, fixed * binSize));
  }
  const wall = instant + zoneOffsetMs(zone, instant);
  const truncated = truncateWall(wall, String(unit), binSize, String(args.startOfWeek ?? 'sunday'));
  return new Date(wallClockToInstant(zone, truncated));
};


function truncateWall(wall: number, unit: string, binSize: number, startOfWeek: string): number {
  const d = new Date(wall);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const dayStart = Date.UTC(year, month, d.getUTCDate());
  switch (unit) {
    case 'day':
      return dayStart - mod((dayStart - REFERENCE_WALL) / DAY, binSize) * DAY;
    case 'week': {
      const weekday = WEEKDAYS.indexOf(startOfWeek.toLowerCase().slice(0, 3));
      if (weekday < 0) throw new StoreError('BadValue', `$dateTrunc parameter 'startOfWeek' value cannot be recognized as a day of a week: ${startOfWeek}`);
      const weekStart = dayStart - mod(new Date(dayStart).getUTCDay() - weekday, 7) * DAY;
      // The reference week is the one holding 2000-01-01, starting on the chosen weekday.
      const refStart = REFERENCE_WALL - mod(new Date(REFERENCE_WALL).getUTCDay() - weekday, 7) * DAY;
      return weekStart - mod(Math.round((weekStart - refStart) / (7 * DAY)), binSize) * 7 * DAY;
    }
    case 'month':
    case 'quarter':
    case 'year': {
      const months = unit === 'month' ? binSize : unit === 'quarter' ? 3 * binSize : 12 * binSize;
      const index = (year - 2000) * 12 + month;
      const start = index - mod(index, months);
      return Date.UTC(2000 + Math.floor(start / 12), mod(start, 12), 1);
    }
    default:
      throw new StoreError('BadValue', `$dateTrunc parameter 'unit' value cannot be recognized as a time unit: ${unit}`);
  }
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Wraps an operator that handles fixed offsets correctly, resolving a named zone per instant. */
function withResolvedZone(original: Operator): Operator {
  return (obj, expr, options) => {
    const args = evalExpr(obj, expr, options);
    if (!isPlainObject(args) || args.timezone === undefined || args.timezone === null) return original(obj, expr, options);
    const date = args.date;
    if (!(date instanceof Date)) return original(obj, expr, options);
    const offset = formatOffset(zoneOffsetMs(String(args.timezone), date.getTime()));
    // Re-evaluating literal values is harmless: a Date and strings evaluate to themselves.
    return original(obj, { ...args, timezone: offset }, options);
  };
}

const INSTANT_OPERATORS = [
  '$year', '$month', '$dayOfMonth', '$dayOfWeek', '$dayOfYear', '$hour', '$minute', '$second', '$millisecond',
  '$week', '$isoWeek', '$isoWeekYear', '$isoDayOfWeek', '$dateToString', '$dateToParts',
] as const;

/** Expression operators that replace mingo's own. */
export function dateOperatorOverrides(): Record<string, Operator> {
  const ops = expressionOperators as unknown as Record<string, Operator>;
  const out: Record<string, Operator> = { $dateTrunc };
  for (const name of INSTANT_OPERATORS) {
    const original = ops[name];
    if (original) out[name] = withResolvedZone(original);
  }
  return out;
}
