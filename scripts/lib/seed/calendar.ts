import type { Rng, Weighted } from './random.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock time minus UTC at instant `ms` in `timeZone` (e.g. +3,600,000 for Berlin in winter). */
export function offsetMs(timeZone: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return local - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight starting calendar date `y-m-d` (m 0-based) in `timeZone`. */
export function localMidnight(timeZone: string, y: number, m: number, d: number): number {
  const wall = Date.UTC(y, m, d);
  const first = wall - offsetMs(timeZone, wall);
  const second = wall - offsetMs(timeZone, first);
  return second;
}

/** Today's calendar date in `timeZone`, as YYYY-MM-DD. */
export function todayIn(timeZone: string, now = Date.now()): string {
  return new Date(now + offsetMs(timeZone, now)).toISOString().slice(0, 10);
}

/** Throws unless `timeZone` is an IANA zone this Node knows. */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/**
 * The seeded period: `days` calendar days of the project's time zone ending just before `end`
 * (YYYY-MM-DD, exclusive). Day `i` is the same calendar date everywhere; {@link dayStart} gives its
 * local midnight in any zone, so a user in New York lives through "day 3" on New York's clock.
 */
export class Calendar {
  /** First instant of the period (local midnight of day 0 in the project's zone). */
  readonly start: number;
  /** First instant after the period. */
  readonly end: number;
  private readonly dates: { y: number; m: number; d: number }[] = [];
  private readonly starts = new Map<string, number[]>();

  constructor(
    readonly timeZone: string,
    readonly days: number,
    readonly endDate: string,
  ) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(endDate);
    if (match === null) throw new Error(`--end must be a date like 2025-06-01, got ${endDate}`);
    const endUtc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    for (let i = 0; i <= days; i++) {
      const date = new Date(endUtc - (days - i) * DAY_MS);
      this.dates.push({ y: date.getUTCFullYear(), m: date.getUTCMonth(), d: date.getUTCDate() });
    }
    this.start = this.dayStart(timeZone, 0);
    this.end = this.dayStart(timeZone, days);
  }

  /** Local midnight of day `i` (0..days) in `timeZone`. */
  dayStart(timeZone: string, i: number): number {
    let starts = this.starts.get(timeZone);
    if (starts === undefined) {
      starts = this.dates.map(({ y, m, d }) => localMidnight(timeZone, y, m, d));
      this.starts.set(timeZone, starts);
    }
    return starts[i]!;
  }

  /** Day of the week of day `i`: 0 Sunday … 6 Saturday. */
  weekday(i: number): number {
    const { y, m, d } = this.dates[i]!;
    return new Date(Date.UTC(y, m, d)).getUTCDay();
  }

  /** Day `i` as YYYY-MM-DD. */
  label(i: number): string {
    const { y, m, d } = this.dates[i]!;
    return new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
  }
}

/** Relative activity by local hour (0..23), as weights over the hours. */
export type HourRhythm = Weighted<number>;

const byHour = (weights: number[]): HourRhythm => weights.map((w, h) => [h, w] as const);

/** People at work: a morning peak, a lunch dip, a second peak, a quiet night. */
export const WORK_HOURS: HourRhythm = byHour([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 7, 10, 11, 10, 7, 8, 10, 10, 9, 7, 5, 4, 4, 3.5, 2.5, 1.5]);
/** People reading a marketing site and blog: flatter, with an evening shoulder. */
export const LEISURE_HOURS: HourRhythm = byHour([1.5, 0.8, 0.5, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6, 6.5, 6.5, 6, 6.5, 6.5, 6, 6, 6, 6, 6.5, 7, 6.5, 5, 3]);

/** A moment of a local day (ms after local midnight) following `rhythm`. */
export function drawTimeOfDay(rng: Rng, rhythm: HourRhythm): number {
  const hour = rng.weighted(rhythm);
  return hour * HOUR_MS + rng.int(HOUR_MS);
}

/** Relative activity by weekday (0 Sunday … 6 Saturday). */
export const WORK_WEEK = [0.35, 1, 1.05, 1.05, 1, 0.85, 0.3] as const;
export const LEISURE_WEEK = [0.8, 1, 1, 1, 0.95, 0.85, 0.7] as const;
