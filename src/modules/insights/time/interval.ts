/** The bucket sizes insights plot by (PostHog's `IntervalType` minus `second` and `minute`). */
export type Interval = 'hour' | 'day' | 'week' | 'month';

/** Every supported interval, shortest first. */
export const INTERVALS: readonly Interval[] = ['hour', 'day', 'week', 'month'];

/** First day of the week: 0 = Sunday (PostHog's default), 1 = Monday (PostHog's `week_start_day`). */
export type WeekStart = 0 | 1;

/** How instants are grouped into buckets. */
export interface BucketOptions {
  /** Bucket size. */
  interval: Interval;
  /** IANA time zone of the project, e.g. "Europe/Berlin"; bucket boundaries follow its wall clock. */
  timezone: string;
  /** First day of a week bucket; ignored for other intervals. */
  weekStart: WeekStart;
}

/** A half-open span of time: `from` is inside, `to` is not. */
export interface TimeRange {
  from: Date;
  to: Date;
}

export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && (INTERVALS as readonly string[]).includes(value);
}
