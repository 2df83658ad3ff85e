/**
 * A deliberately naive clock for tests: it reads local wall-clock parts with Intl.DateTimeFormat and
 * finds boundaries by walking instants (a day, an hour, then a minute at a time), sharing no code with the
 * implementation. Slow and obviously right is the point.
 */
import type { BucketOptions } from './interval.ts';

export const TEST_ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
] as const;

/** Zones whose clocks jump at midnight, so some local days do not start at 00:00. */
export const MIDNIGHT_DST_ZONES = ['America/Santiago', 'America/Havana'] as const;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export interface NaiveParts {
  /** "YYYY-MM-DD" */
  date: string;
  /** "hh:mm:ss" */
  time: string;
  weekday: number;
  year: number;
  month: number;
  day: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

export function localParts(timeZone: string, instant: number): NaiveParts {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(instant))) p[part.type] = part.value;
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    time: `${p.hour}:${p.minute}:${p.second}`,
    weekday: WEEKDAYS.indexOf(p.weekday!),
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
  };
}

/** "YYYY-MM-DD hh:mm:ss" local. */
export function localReading(timeZone: string, instant: number): string {
  const p = localParts(timeZone, instant);
  return `${p.date} ${p.time}`;
}

function civilDate(year: number, month: number, day: number): string {
  return new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);
}

/** The earliest instant whose local date is `date` or later, found by walking back from `from`. */
function walkBackToDate(timeZone: string, from: number, date: string): number {
  let c = Math.floor(from / MIN) * MIN;
  for (const step of [DAY, HOUR, MIN]) {
    while (localParts(timeZone, c - step).date >= date) c -= step;
  }
  return c;
}

const hourReferences = new Map<string, number>();

/** The instant at which the zone's clock first read 2000-01-01 00:00:00, found minute by minute. */
export function naiveHourReference(timeZone: string): number {
  let ref = hourReferences.get(timeZone);
  if (ref === undefined) {
    for (let c = Date.UTC(1999, 11, 31, 9); c <= Date.UTC(2000, 0, 1, 13); c += MIN) {
      if (localReading(timeZone, c) === '2000-01-01 00:00:00') {
        ref = c;
        break;
      }
    }
    if (ref === undefined) throw new Error(`no local midnight on 2000-01-01 in ${timeZone}`);
    hourReferences.set(timeZone, ref);
  }
  return ref;
}

/**
 * The bucket start MongoDB's documented `$dateTrunc` gives: for hours, 1-hour bins counted from local
 * 2000-01-01T00:00; otherwise the first instant of the local day, week or month holding the instant.
 */
export function naiveBucketOf(instant: number, { interval, timezone, weekStart }: BucketOptions): number {
  if (interval === 'hour') {
    const ref = naiveHourReference(timezone);
    return ref + Math.floor((instant - ref) / HOUR) * HOUR;
  }
  const p = localParts(timezone, instant);
  let target: string;
  if (interval === 'day') target = p.date;
  else if (interval === 'week') target = civilDate(p.year, p.month, p.day - ((p.weekday - weekStart + 7) % 7));
  else target = civilDate(p.year, p.month, 1);
  return walkBackToDate(timezone, instant, target);
}

/** Instants (on a 15-minute grid) where the zone's UTC offset changes, between two years. */
export function naiveTransitions(timeZone: string, fromYear: number, toYear: number): number[] {
  const offset = (t: number) => {
    const p = localParts(timeZone, t);
    const [h, m, s] = p.time.split(':').map(Number) as [number, number, number];
    return Date.UTC(p.year, p.month - 1, p.day, h, m, s) - t;
  };
  const out: number[] = [];
  let prev = offset(Date.UTC(fromYear, 0, 1));
  for (let t = Date.UTC(fromYear, 0, 1) + HOUR; t < Date.UTC(toYear, 0, 1); t += HOUR) {
    const o = offset(t);
    if (o !== prev) {
      let c = t;
      while (offset(c - 15 * MIN) === o) c -= 15 * MIN;
      out.push(c);
      prev = o;
    }
  }
  return out;
}

const transitionCache = new Map<string, number[]>();

/** Offset changes of the zone in 2022–2026 (cached; empty for zones without DST). */
export function recentTransitions(timeZone: string): number[] {
  let list = transitionCache.get(timeZone);
  if (!list) {
    list = naiveTransitions(timeZone, 2022, 2027);
    transitionCache.set(timeZone, list);
  }
  return list;
}
