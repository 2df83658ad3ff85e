import { BadUserInputError } from '../../../graphql/errors.ts';
import { bucketOf, countBuckets } from './buckets.ts';
import { type ParsedDate, parseDateString } from './date-strings.ts';
import { type BucketOptions, type Interval, type TimeRange, isInterval } from './interval.ts';
import { isHourPrecise, resolveRelativeDate } from './relative-dates.ts';
import { DAY_MS, HOUR_MS, assertTimeZone, formatWallClock, instantAtWallClock, wallClockAt, wallDayStart } from './zone.ts';

/** At most this many buckets fit in one insight; longer ranges must use a longer interval. */
export const MAX_BUCKETS = 5_000;

/** A dateFrom left out means this many days before today's midnight (PostHog's `DEFAULT_DATE_FROM_DAYS`). */
export const DEFAULT_DATE_FROM_DAYS = 7;

/** `dateFrom: "all"` in a project without events starts this long before now (PostHog: one week). */
export const EMPTY_PROJECT_LOOKBACK_MS = 7 * DAY_MS;

/** The earliest and latest instants a date range may reach. */
export const EARLIEST_SUPPORTED_DATE = new Date(Date.UTC(1900, 0, 1));
export const LATEST_SUPPORTED_DATE = new Date(Date.UTC(9999, 11, 31));

/** PostHog's `dateRange` of an insight query. */
export interface DateRangeInput {
  /** Start: relative ("-7d"), ISO ("2024-01-31") or "all"; left out: 7 days before today. */
  dateFrom?: string | null;
  /** End: relative or ISO; left out: now. */
  dateTo?: string | null;
  /** Use the dates exactly as given instead of widening them to whole intervals. @default false */
  explicitDate?: boolean | null;
}

/** Everything a date range is resolved against. */
export interface DateRangeContext extends BucketOptions {
  /** The current instant. */
  now: Date;
  /** The project's first event, for `dateFrom: "all"`; absent when the project has none. */
  earliest?: Date | null;
}

const INTERVAL_ADJECTIVE: Record<Interval, string> = { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' };

/**
 * Resolves a PostHog `dateRange` into the instants an insight covers: `from` inclusive, `to` exclusive.
 *
 * Unless `explicitDate` is set, the range is widened to whole intervals the way PostHog's
 * `QueryDateRange` does (posthog/hogql_queries/utils/query_date_range.py):
 * - `to` becomes the end of its local day (hourly insights: the end of its hour, when `to` is relative or
 *   left out); so a daily "-7d" covers today and the 7 days before it: 8 buckets.
 * - a relative `from` is cut to the start of its hour ("-24h") or day (every other unit), then widened to
 *   the start of its interval: hour, day, day for weekly insights (the first week bucket holds only the
 *   days from `from` on, as in PostHog) and month. A "-Nh" `from` on a daily insight stays at its hour.
 * - an ISO `from` is widened the same way; an ISO `to` on an hourly insight is kept as it is.
 * With `explicitDate`, only a relative `from` is still cut to its hour or day (as PostHog does), and `to`
 * ends just after the instant given (PostHog compares `timestamp <= date_to`).
 *
 * Throws `BadUserInputError` for strings that are not dates, for a `from` not before `to`, for dates
 * outside 1900–9999 and for ranges of more than `MAX_BUCKETS` buckets.
 */
export function resolveDateRange(input: DateRangeInput, context: DateRangeContext): TimeRange {
  const { now, timezone, interval, weekStart } = context;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('resolveDateRange needs a valid `now`');
  if (!isInterval(interval)) {
    throw new BadUserInputError(`Unknown interval "${String(interval)}": use hour, day, week or month.`, { interval });
  }
  if (weekStart !== 0 && weekStart !== 1) throw new BadUserInputError('weekStart must be 0 (Sunday) or 1 (Monday).');
  assertTimeZone(timezone);
  const explicit = input.explicitDate === true;
  const options: BucketOptions = { interval, timezone, weekStart };

  const from = resolveFrom(input.dateFrom, explicit, context);
  const to = resolveTo(input.dateTo, explicit, context);
  checkSupported(from, 'dateFrom', input.dateFrom);
  checkSupported(to - 1, 'dateTo', input.dateTo);
  if (from >= to) {
    throw new BadUserInputError(
      `The date range ends before it starts: dateFrom is ${formatWallClock(timezone, from)} and dateTo is ` +
        `${formatWallClock(timezone, to - 1)} (${timezone}). Swap them or pick a later dateTo.`,
      { dateFrom: input.dateFrom ?? null, dateTo: input.dateTo ?? null },
    );
  }
  const range = { from: new Date(from), to: new Date(to) };
  if (countBuckets(range, options, MAX_BUCKETS) > MAX_BUCKETS) {
    throw new BadUserInputError(
      `This date range needs more than ${MAX_BUCKETS.toLocaleString('en-US')} ${INTERVAL_ADJECTIVE[interval]} ` +
        `intervals (${formatWallClock(timezone, from)} to ${formatWallClock(timezone, to - 1)}). ` +
        'Choose a shorter date range or a longer interval.',
      { maxBuckets: MAX_BUCKETS, interval },
    );
  }
  return range;
}

function parse(value: string | null | undefined, field: 'dateFrom' | 'dateTo'): ParsedDate | undefined {
  return value === undefined || value === null ? undefined : parseDateString(value, field);
}

function absoluteInstant(date: Extract<ParsedDate, { kind: 'absolute' }>, timezone: string): number {
  return date.offsetMs === undefined ? instantAtWallClock(timezone, date.wall) : date.wall - date.offsetMs;
}

function startOfDay(t: number, timezone: string): number {
  return instantAtWallClock(timezone, wallDayStart(wallClockAt(timezone, t)));
}

function resolveFrom(value: string | null | undefined, explicit: boolean, context: DateRangeContext): number {
  const { now, timezone, interval, weekStart } = context;
  const date = parse(value, 'dateFrom');
  let from: number;
  let widen: boolean;
  if (date === undefined) {
    from = instantAtWallClock(timezone, wallDayStart(wallClockAt(timezone, now.getTime())) - DEFAULT_DATE_FROM_DAYS * DAY_MS);
    widen = true;
  } else if (date.kind === 'all') {
    from = context.earliest ? context.earliest.getTime() : now.getTime() - EMPTY_PROJECT_LOOKBACK_MS;
    widen = !explicit && interval !== 'hour';
  } else if (date.kind === 'relative') {
    const t = resolveRelativeDate(date, { now, timezone, weekStart });
    if (!isSupported(t)) throw outOfRange('dateFrom', value!);
    from = isHourPrecise(date.unit) ? bucketOf(new Date(t), { interval: 'hour', timezone, weekStart }).getTime() : startOfDay(t, timezone);
    widen = !explicit && interval !== 'hour' && !(interval === 'day' && isHourPrecise(date.unit));
  } else {
    from = absoluteInstant(date, timezone);
    widen = !explicit;
  }
  if (!widen || !isSupported(from)) return from;
  // Weekly insights start at `from`'s day, not its week: PostHog counts only events from dateFrom on.
  const unit = interval === 'week' ? 'day' : interval;
  return bucketOf(new Date(from), { interval: unit, timezone, weekStart }).getTime();
}

function resolveTo(value: string | null | undefined, explicit: boolean, context: DateRangeContext): number {
  const { now, timezone, interval, weekStart } = context;
  const date = parse(value, 'dateTo');
  let inclusive: number;
  let relative = true;
  if (date === undefined) {
    inclusive = now.getTime();
  } else if (date.kind === 'relative') {
    inclusive = resolveRelativeDate(date, { now, timezone, weekStart });
    if (!isSupported(inclusive)) throw outOfRange('dateTo', value!);
  } else if (date.kind === 'absolute') {
    inclusive = absoluteInstant(date, timezone);
    relative = false;
  } else {
    throw new Error('unreachable: parseDateString refuses "all" as dateTo');
  }
  if (explicit || !isSupported(inclusive)) return inclusive + 1;
  if (interval !== 'hour') return instantAtWallClock(timezone, wallDayStart(wallClockAt(timezone, inclusive)) + DAY_MS);
  if (relative) return bucketOf(new Date(inclusive), { interval: 'hour', timezone, weekStart }).getTime() + HOUR_MS;
  return inclusive + 1;
}

function isSupported(t: number): boolean {
  return Number.isFinite(t) && t >= EARLIEST_SUPPORTED_DATE.getTime() && t <= LATEST_SUPPORTED_DATE.getTime();
}

function outOfRange(field: 'dateFrom' | 'dateTo', value: string): BadUserInputError {
  return new BadUserInputError(`${field} "${value}" is outside the supported dates (the years 1900 to 9999).`, { field, value });
}

function checkSupported(t: number, field: 'dateFrom' | 'dateTo', value: string | null | undefined): void {
  if (!isSupported(t)) throw outOfRange(field, value ?? (field === 'dateFrom' ? '(default)' : '(now)'));
}
