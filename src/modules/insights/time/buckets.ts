import type { BucketOptions, TimeRange } from './interval.ts';
import {
  DAY_MS,
  HOUR_MS,
  assertTimeZone,
  instantAtWallClock,
  wallClockAt,
  wallDayStart,
  wallMonthStart,
  wallWeekday,
  zoneOffsetAt,
} from './zone.ts';

/**
 * Buckets as MongoDB's `$dateTrunc` draws them (src/mongo/db/query/datetime/date_time_support.cpp), so a
 * bucket computed here is the same instant the database groups by:
 * - day, week, month: the bucket starts at local midnight of its first day. Days are 23, 24 or 25 hours
 *   long (23.5/24.5 in Australia/Lord_Howe) across daylight-saving changes; a midnight that does not exist
 *   is read with the offset before the change (see `instantAtWallClock`).
 * - hour: buckets are exactly 3,600,000 ms long and one of them starts at 2000-01-01T00:00 local time
 *   (MongoDB's reference point, read with the zone's offset at that moment). When clocks are turned back
 *   the repeated local hour therefore forms two buckets, and in a zone whose offset has changed by a
 *   fraction of an hour since January 2000 (Australia/Lord_Howe in winter, +10:30 against +11:00) hour
 *   buckets start at half past the local hour, exactly as MongoDB's do.
 */

const REFERENCE_INSTANT = Date.UTC(2000, 0, 1);

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function hourReference(timezone: string): number {
  return REFERENCE_INSTANT - zoneOffsetAt(timezone, REFERENCE_INSTANT);
}

/** The start of the bucket holding `instant`. */
export function bucketOf(instant: Date, options: BucketOptions): Date {
  assertTimeZone(options.timezone);
  return new Date(bucketStartMs(instant.getTime(), options));
}

function bucketStartMs(t: number, { interval, timezone, weekStart }: BucketOptions): number {
  if (interval === 'hour') return t - mod(t - hourReference(timezone), HOUR_MS);
  const day = wallDayStart(wallClockAt(timezone, t));
  switch (interval) {
    case 'day':
      return instantAtWallClock(timezone, day);
    case 'week':
      return instantAtWallClock(timezone, day - mod(wallWeekday(day) - weekStart, 7) * DAY_MS);
    case 'month':
      return instantAtWallClock(timezone, wallMonthStart(day));
    default:
      throw new TypeError(`Unknown interval: ${String(interval)}`);
  }
}

/** The start of the bucket after the one starting at `bucketStart` (which must be a bucket start). */
function nextBucketStartMs(bucketStart: number, { interval, timezone }: BucketOptions): number {
  if (interval === 'hour') return bucketStart + HOUR_MS;
  const day = wallDayStart(wallClockAt(timezone, bucketStart));
  const nextWall = interval === 'day' ? day + DAY_MS : interval === 'week' ? day + 7 * DAY_MS : wallMonthStart(day, 1);
  const next = instantAtWallClock(timezone, nextWall);
  if (!(next > bucketStart)) throw new Error(`Bucket after ${new Date(bucketStart).toISOString()} in ${timezone} does not advance`);
  return next;
}

/** Bucket starts covering `range`, lazily: the bucket holding `range.from`, then each one starting before `range.to`. */
export function* eachBucketStart(range: TimeRange, options: BucketOptions): Generator<Date> {
  assertTimeZone(options.timezone);
  const end = range.to.getTime();
  const startMs = range.from.getTime();
  if (!(startMs < end)) return;
  for (let t = bucketStartMs(startMs, options); t < end; t = nextBucketStartMs(t, options)) yield new Date(t);
}

/**
 * The start of every bucket that overlaps `range` (from inclusive, to exclusive), in order: the first is
 * the bucket holding `range.from` (which may start before it), the last is the bucket holding the last
 * instant before `range.to`. An empty or inverted range has no buckets.
 */
export function bucketStarts(range: TimeRange, options: BucketOptions): Date[] {
  return [...eachBucketStart(range, options)];
}

/** How many buckets overlap `range`, counting no further than `limit + 1` (enough to tell "too many"). */
export function countBuckets(range: TimeRange, options: BucketOptions, limit = Number.POSITIVE_INFINITY): number {
  let count = 0;
  for (const _ of eachBucketStart(range, options)) {
    if (++count > limit) break;
  }
  return count;
}
