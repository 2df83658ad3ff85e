import type { BucketOptions } from './interval.ts';
import { assertTimeZone } from './zone.ts';

/** The `$dateTrunc` expression produced by `dateTruncExpression`. */
export interface DateTruncExpression {
  $dateTrunc: {
    date: string;
    unit: BucketOptions['interval'];
    timezone: string;
    startOfWeek?: 'sunday' | 'monday';
  };
}

const START_OF_WEEK = { 0: 'sunday', 1: 'monday' } as const;

/**
 * An aggregation expression that maps the date at `fieldPath` (e.g. "$timestamp") to the start of its
 * bucket: the same instant `bucketOf` returns for it. Only documented `$dateTrunc` arguments are used, so
 * it runs on MongoDB 5+ and on the embedded store.
 */
export function dateTruncExpression(fieldPath: string, { interval, timezone, weekStart }: BucketOptions): DateTruncExpression {
  if (typeof fieldPath !== 'string' || !fieldPath.startsWith('$') || fieldPath.length < 2) {
    throw new TypeError(`dateTruncExpression needs a field path such as "$timestamp", got ${JSON.stringify(fieldPath)}`);
  }
  assertTimeZone(timezone);
  return {
    $dateTrunc: {
      date: fieldPath,
      unit: interval,
      timezone,
      ...(interval === 'week' ? { startOfWeek: START_OF_WEEK[weekStart] } : {}),
    },
  };
}
