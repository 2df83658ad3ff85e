import { describe, expect, it } from 'vitest';
import { parseDateString } from './date-strings.ts';
import type { WeekStart } from './interval.ts';
import { localReading } from './naive-clock.test-support.ts';
import { type RelativeDate, resolveRelativeDate } from './relative-dates.ts';

/** Resolves `input` at `now` and shows the result as the zone's wall clock ("YYYY-MM-DD hh:mm:ss"). */
function at(input: string, now: string, timezone = 'UTC', weekStart: WeekStart = 0): string {
  const t = resolveRelativeDate(parseDateString(input, 'dateFrom') as RelativeDate, { now: new Date(now), timezone, weekStart });
  return localReading(timezone, t);
}

describe('resolveRelativeDate', () => {
  // Friday 2024-03-15 10:20:30 UTC.
  const now = '2024-03-15T10:20:30.456Z';

  it('goes back whole units from now, keeping the time of day', () => {
    expect(at('-7d', now)).toBe('2024-03-08 10:20:30');
    expect(at('-24h', now)).toBe('2024-03-14 10:20:30');
    expect(at('-2w', now)).toBe('2024-03-01 10:20:30');
    expect(at('-1m', now)).toBe('2024-02-15 10:20:30');
    expect(at('-1q', now)).toBe('2023-12-15 10:20:30'); // 13 weeks = 91 days
    expect(at('-1y', now)).toBe('2023-03-15 10:20:30');
    expect(at('-30M', now)).toBe('2024-03-15 09:50:30');
    expect(at('-90s', now)).toBe('2024-03-15 10:19:00');
    expect(at('-0d', now)).toBe('2024-03-15 10:20:30');
  });

  it('keeps the milliseconds of now', () => {
    const t = resolveRelativeDate({ kind: 'relative', amount: 1, unit: 'd' }, { now: new Date(now), timezone: 'UTC', weekStart: 0 });
    expect(new Date(t).toISOString()).toBe('2024-03-14T10:20:30.456Z');
  });

  it('snaps days and hours to their start and end', () => {
    expect(at('dStart', now)).toBe('2024-03-15 00:00:00');
    expect(at('-1dStart', now)).toBe('2024-03-14 00:00:00');
    expect(at('-1dEnd', now)).toBe('2024-03-14 23:59:59');
    expect(at('-2hStart', now)).toBe('2024-03-15 08:00:00');
    expect(at('hEnd', now)).toBe('2024-03-15 10:59:59');
  });

  it('snaps months and years to their first or last day, keeping the time of day as PostHog does', () => {
    expect(at('mStart', now)).toBe('2024-03-01 10:20:30');
    expect(at('-1mStart', now)).toBe('2024-02-01 10:20:30');
    expect(at('-1mEnd', now)).toBe('2024-02-29 10:20:30');
    expect(at('-2mEnd', now)).toBe('2024-01-31 10:20:30');
    expect(at('yStart', now)).toBe('2024-01-01 10:20:30');
    expect(at('-1yStart', now)).toBe('2023-01-01 10:20:30');
    expect(at('-1yEnd', now)).toBe('2023-12-31 10:20:30');
  });

  it('clamps the day when the target month is shorter', () => {
    expect(at('-1m', '2024-03-31T12:00:00Z')).toBe('2024-02-29 12:00:00');
    expect(at('-13m', '2024-03-31T12:00:00Z')).toBe('2023-02-28 12:00:00');
    expect(at('-1y', '2024-02-29T12:00:00Z')).toBe('2023-02-28 12:00:00');
  });

  it('moves to the first or last day of the week by the project week start', () => {
    expect(at('wStart', now, 'UTC', 0)).toBe('2024-03-10 10:20:30'); // Sunday
    expect(at('wStart', now, 'UTC', 1)).toBe('2024-03-11 10:20:30'); // Monday
    expect(at('wEnd', now, 'UTC', 0)).toBe('2024-03-16 10:20:30'); // Saturday
    expect(at('wEnd', now, 'UTC', 1)).toBe('2024-03-17 10:20:30'); // Sunday
    expect(at('-1wStart', now, 'UTC', 1)).toBe('2024-03-04 10:20:30');
    // On a Sunday, a Monday week started six days ago.
    expect(at('wStart', '2024-03-17T09:00:00Z', 'UTC', 1)).toBe('2024-03-11 09:00:00');
    expect(at('wStart', '2024-03-17T09:00:00Z', 'UTC', 0)).toBe('2024-03-17 09:00:00');
  });

  it('counts on the local wall clock: "-24h" across a DST change is 24 local hours', () => {
    // Berlin 2024-03-31 14:00 CEST; 24 wall-clock hours earlier is 2024-03-30 14:00 CET, only 23 real hours.
    const t = resolveRelativeDate({ kind: 'relative', amount: 24, unit: 'h' }, { now: new Date('2024-03-31T12:00:00Z'), timezone: 'Europe/Berlin', weekStart: 1 });
    expect(new Date(t).toISOString()).toBe('2024-03-30T13:00:00.000Z');
    // The local day in Kolkata and Chatham, not the UTC one.
    expect(at('dStart', '2024-03-15T20:00:00Z', 'Asia/Kolkata')).toBe('2024-03-16 00:00:00');
    expect(at('-1dStart', '2024-03-15T20:00:00Z', 'Pacific/Chatham')).toBe('2024-03-15 00:00:00');
  });

  it('reads a skipped wall time with the offset before the change (New York, 2024-03-10 02:30 -> 03:30 EDT)', () => {
    // now = 2024-03-11 02:30 EDT; one day earlier is 02:30 on 2024-03-10, which never happened.
    const t = resolveRelativeDate({ kind: 'relative', amount: 1, unit: 'd' }, { now: new Date('2024-03-11T06:30:00Z'), timezone: 'America/New_York', weekStart: 0 });
    expect(new Date(t).toISOString()).toBe('2024-03-10T07:30:00.000Z');
  });

  it('returns NaN when the amount leaves the calendar', () => {
    expect(resolveRelativeDate({ kind: 'relative', amount: 9_999_999, unit: 'y' }, { now: new Date(now), timezone: 'UTC', weekStart: 0 })).toBeNaN();
  });
});
