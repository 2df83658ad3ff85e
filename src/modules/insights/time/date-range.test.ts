import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../../graphql/errors.ts';
import { bucketStarts } from './buckets.ts';
import { type DateRangeContext, type DateRangeInput, MAX_BUCKETS, resolveDateRange } from './date-range.ts';
import { instantNearDst } from './instant-arbitraries.test-support.ts';
import type { Interval, WeekStart } from './interval.ts';
import { TEST_ZONES, localParts, naiveBucketOf } from './naive-clock.test-support.ts';

const NOW = '2024-03-15T10:20:30.456Z'; // a Friday
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function resolve(input: DateRangeInput, interval: Interval, extra: Partial<DateRangeContext> = {}) {
  const context: DateRangeContext = { now: new Date(NOW), timezone: 'UTC', weekStart: 0, interval, ...extra };
  const range = resolveDateRange(input, context);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    buckets: bucketStarts(range, context).map((d) => d.toISOString()),
  };
}

function errorOf(fn: () => unknown): BadUserInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadUserInputError);
    expect((e as BadUserInputError).extensions.code).toBe('BAD_USER_INPUT');
    return e as BadUserInputError;
  }
  throw new Error('expected a BadUserInputError');
}

describe('resolveDateRange: PostHog rounding to whole intervals', () => {
  it('covers today and the 7 days before for a daily "-7d": 8 buckets', () => {
    const r = resolve({ dateFrom: '-7d' }, 'day');
    expect(r).toMatchObject({ from: '2024-03-08T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    expect(r.buckets).toHaveLength(8);
  });

  it('counts days on the project clock: a Berlin "-7d" over the spring change ends at local midnight', () => {
    const r = resolve({ dateFrom: '-7d' }, 'day', { now: new Date('2024-03-31T10:00:00Z'), timezone: 'Europe/Berlin' });
    expect(r).toMatchObject({ from: '2024-03-23T23:00:00.000Z', to: '2024-03-31T22:00:00.000Z' });
    expect(r.buckets).toHaveLength(8);
  });

  it('covers the current hour and the 24 before it for an hourly "-24h": 25 buckets', () => {
    const r = resolve({ dateFrom: '-24h' }, 'hour');
    expect(r).toMatchObject({ from: '2024-03-14T10:00:00.000Z', to: '2024-03-15T11:00:00.000Z' });
    expect(r.buckets).toHaveLength(25);
  });

  it('keeps a "-24h" start at its hour on a daily insight, so the first day is partial', () => {
    const r = resolve({ dateFrom: '-24h' }, 'day');
    expect(r).toMatchObject({ from: '2024-03-14T10:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    expect(r.buckets).toEqual(['2024-03-14T00:00:00.000Z', '2024-03-15T00:00:00.000Z']);
  });

  it('starts an hourly "-7d" at midnight seven days ago and ends with the current hour', () => {
    const r = resolve({ dateFrom: '-7d' }, 'hour');
    expect(r).toMatchObject({ from: '2024-03-08T00:00:00.000Z', to: '2024-03-15T11:00:00.000Z' });
    expect(r.buckets).toHaveLength(7 * 24 + 11);
  });

  it('starts a weekly range at its first day, inside the first week bucket', () => {
    const r = resolve({ dateFrom: '-30d' }, 'week');
    expect(r).toMatchObject({ from: '2024-02-14T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    expect(r.buckets).toEqual([
      '2024-02-11T00:00:00.000Z',
      '2024-02-18T00:00:00.000Z',
      '2024-02-25T00:00:00.000Z',
      '2024-03-03T00:00:00.000Z',
      '2024-03-10T00:00:00.000Z',
    ]);
    expect(resolve({ dateFrom: '-30d' }, 'week', { weekStart: 1 }).buckets[0]).toBe('2024-02-12T00:00:00.000Z');
  });

  it('widens a monthly range to the first of its first month', () => {
    const r = resolve({ dateFrom: '-30d' }, 'month');
    expect(r).toMatchObject({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    expect(r.buckets).toEqual(['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
  });

  it('defaults to the last 7 days and now', () => {
    expect(resolve({}, 'day')).toMatchObject({ from: '2024-03-08T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    expect(resolve({ dateFrom: null, dateTo: null }, 'hour')).toMatchObject({ from: '2024-03-08T00:00:00.000Z', to: '2024-03-15T11:00:00.000Z' });
  });

  it('reads yesterday, this month and last month', () => {
    expect(resolve({ dateFrom: '-1dStart', dateTo: '-1dEnd' }, 'day').buckets).toEqual(['2024-03-14T00:00:00.000Z']);
    expect(resolve({ dateFrom: 'mStart' }, 'day')).toMatchObject({ from: '2024-03-01T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z' });
    const lastMonth = resolve({ dateFrom: '-1mStart', dateTo: '-1mEnd' }, 'day');
    expect(lastMonth).toMatchObject({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' });
    expect(lastMonth.buckets).toHaveLength(29);
    expect(resolve({ dateFrom: 'yStart' }, 'month').buckets).toEqual(['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
  });

  it('ends an hourly range with a relative dateTo at the end of that hour', () => {
    expect(resolve({ dateFrom: '-3h', dateTo: '-1h' }, 'hour')).toMatchObject({ from: '2024-03-15T07:00:00.000Z', to: '2024-03-15T10:00:00.000Z' });
  });

  it('widens ISO dates: the whole days of a daily range in the project zone', () => {
    const r = resolve({ dateFrom: '2024-01-01', dateTo: '2024-01-31' }, 'day', { timezone: 'Europe/Berlin' });
    expect(r).toMatchObject({ from: '2023-12-31T23:00:00.000Z', to: '2024-01-31T23:00:00.000Z' });
    expect(r.buckets).toHaveLength(31);
    expect(resolve({ dateFrom: '2024-01-10T15:30', dateTo: '2024-01-12T08:00' }, 'day')).toMatchObject({
      from: '2024-01-10T00:00:00.000Z',
      to: '2024-01-13T00:00:00.000Z',
    });
    expect(resolve({ dateFrom: '2024-01-10', dateTo: '2024-01-12' }, 'month')).toMatchObject({ from: '2024-01-01T00:00:00.000Z' });
  });

  it('honours an offset written in an ISO date and then widens on the project clock', () => {
    // 00:30Z is 01:30 in Berlin on 2024-01-01, whose day starts at 2023-12-31T23:00Z.
    expect(resolve({ dateFrom: '2024-01-01T00:30:00Z', dateTo: '2024-01-01' }, 'day', { timezone: 'Europe/Berlin' })).toMatchObject({
      from: '2023-12-31T23:00:00.000Z',
      to: '2024-01-01T23:00:00.000Z',
    });
  });

  it('keeps an ISO dateTo of an hourly range as given, including that instant (PostHog compares <=)', () => {
    const r = resolve({ dateFrom: '2024-01-10T15:30', dateTo: '2024-01-10T18:00' }, 'hour');
    expect(r).toMatchObject({ from: '2024-01-10T15:00:00.000Z', to: '2024-01-10T18:00:00.001Z' });
    expect(r.buckets).toHaveLength(4);
  });

  it('"all" starts with the first event: at its day on a daily insight, exactly on an hourly one', () => {
    const earliest = new Date('2024-02-20T13:14:15Z');
    expect(resolve({ dateFrom: 'all' }, 'day', { earliest }).from).toBe('2024-02-20T00:00:00.000Z');
    expect(resolve({ dateFrom: 'all' }, 'week', { earliest }).from).toBe('2024-02-20T00:00:00.000Z');
    expect(resolve({ dateFrom: 'all' }, 'month', { earliest }).from).toBe('2024-02-01T00:00:00.000Z');
    expect(resolve({ dateFrom: 'all' }, 'hour', { earliest }).from).toBe('2024-02-20T13:14:15.000Z');
    // A project without events looks back one week.
    expect(resolve({ dateFrom: 'all' }, 'day').from).toBe('2024-03-08T00:00:00.000Z');
    expect(resolve({ dateFrom: 'all' }, 'hour').from).toBe('2024-03-08T10:20:30.456Z');
  });

  it('with explicitDate uses the dates as given, still cutting a relative start to its day or hour', () => {
    expect(resolve({ dateFrom: '2024-01-10T15:30', dateTo: '2024-01-12T08:00', explicitDate: true }, 'day')).toMatchObject({
      from: '2024-01-10T15:30:00.000Z',
      to: '2024-01-12T08:00:00.001Z',
    });
    expect(resolve({ dateFrom: '-7d', explicitDate: true }, 'day')).toMatchObject({ from: '2024-03-08T00:00:00.000Z', to: '2024-03-15T10:20:30.457Z' });
    expect(resolve({ dateFrom: '-24h', explicitDate: true }, 'day').from).toBe('2024-03-14T10:00:00.000Z');
    expect(resolve({ dateFrom: '-30d', explicitDate: true }, 'month').from).toBe('2024-02-14T00:00:00.000Z');
    // A single instant is a valid explicit range.
    expect(resolve({ dateFrom: '2024-01-10T10:00', dateTo: '2024-01-10T10:00', explicitDate: true }, 'hour')).toMatchObject({
      from: '2024-01-10T10:00:00.000Z',
      to: '2024-01-10T10:00:00.001Z',
    });
  });

  it('uses MongoDB hour buckets for hourly rounding, also where they start at half past (Lord Howe winter)', () => {
    // 2024-06-15 13:40 local (+10:30). The current hour bucket runs 13:30–14:30 local.
    const r = resolve({ dateFrom: '-24h' }, 'hour', { now: new Date('2024-06-15T03:10:00Z'), timezone: 'Australia/Lord_Howe' });
    expect(r).toMatchObject({ from: '2024-06-14T03:00:00.000Z', to: '2024-06-15T04:00:00.000Z' });
    expect(r.buckets).toHaveLength(25);
  });
});

describe('resolveDateRange: refusals', () => {
  it('refuses a range that ends before it starts, saying which dates it read', () => {
    const e = errorOf(() => resolve({ dateFrom: '2024-02-01', dateTo: '2024-01-01' }, 'day'));
    expect(e.message).toMatch(/ends before it starts: dateFrom is 2024-02-01 00:00 and dateTo is 2024-01-01 23:59 \(UTC\)/);
    errorOf(() => resolve({ dateFrom: '2030-01-01' }, 'day'));
    errorOf(() => resolve({ dateFrom: '-1d', dateTo: '-3d' }, 'day'));
  });

  it(`refuses ranges of more than ${MAX_BUCKETS} buckets and accepts exactly that many`, () => {
    const e = errorOf(() => resolve({ dateFrom: '-1y' }, 'hour'));
    expect(e.message).toMatch(/more than 5,000 hourly intervals/);
    expect(e.message).toMatch(/shorter date range or a longer interval/);
    expect(e.extensions).toMatchObject({ maxBuckets: MAX_BUCKETS, interval: 'hour' });
    const lastDay = (days: number) => new Date(Date.UTC(2000, 0, days)).toISOString().slice(0, 10);
    expect(resolve({ dateFrom: '2000-01-01', dateTo: lastDay(MAX_BUCKETS) }, 'day').buckets).toHaveLength(MAX_BUCKETS);
    errorOf(() => resolve({ dateFrom: '2000-01-01', dateTo: lastDay(MAX_BUCKETS + 1) }, 'day'));
    expect(resolve({ dateFrom: 'all' }, 'month', { earliest: new Date('2001-01-01T00:00:00Z') }).buckets).toHaveLength(279);
  });

  it('refuses strings that are not dates, naming the field', () => {
    expect(errorOf(() => resolve({ dateFrom: 'last week' }, 'day')).message).toMatch(/^dateFrom "last week"/);
    expect(errorOf(() => resolve({ dateTo: 'all' }, 'day')).message).toMatch(/^dateTo "all"/);
  });

  it('refuses dates outside 1900–9999 and unknown intervals or zones', () => {
    expect(errorOf(() => resolve({ dateFrom: '1899-12-31' }, 'month')).message).toMatch(/outside the supported dates/);
    errorOf(() => resolve({ dateFrom: '-9999999y' }, 'month'));
    errorOf(() => resolve({ dateFrom: '-200y' }, 'month'));
    errorOf(() => resolve({ dateFrom: '-7d' }, 'minute' as Interval));
    errorOf(() => resolve({ dateFrom: '-7d' }, 'day', { timezone: 'Mars/Base' }));
    errorOf(() => resolve({ dateFrom: '-7d' }, 'day', { weekStart: 3 as WeekStart }));
  });
});

describe('resolveDateRange against the naive clock', () => {
  /** The first instant of the local day `n` days before the one holding `t`, by stepping back day by day. */
  function naiveDayStartBefore(zone: string, t: number, n: number): number {
    let start = naiveBucketOf(t, { interval: 'day', timezone: zone, weekStart: 0 });
    for (let i = 0; i < n; i++) start = naiveBucketOf(start - 1, { interval: 'day', timezone: zone, weekStart: 0 });
    return start;
  }
  /** The first instant of the local day after the one holding `t`, walking forward an hour at a time. */
  function naiveNextDayStart(zone: string, t: number): number {
    const today = localParts(zone, t).date;
    let c = t;
    while (localParts(zone, c).date === today) c += HOUR;
    return naiveBucketOf(c, { interval: 'day', timezone: zone, weekStart: 0 });
  }

  it('gives a daily "-Nd" N+1 whole local days ending with today, in every test zone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEST_ZONES).chain((zone) => fc.tuple(fc.constant(zone), instantNearDst(zone, 24 * 20), fc.integer({ min: 0, max: 40 }))),
        ([zone, now, n]) => {
          const context: DateRangeContext = { now: new Date(now), timezone: zone, weekStart: 0, interval: 'day' };
          const range = resolveDateRange({ dateFrom: `-${n}d` }, context);
          expect(range.from.toISOString()).toBe(new Date(naiveDayStartBefore(zone, now, n)).toISOString());
          expect(range.to.toISOString()).toBe(new Date(naiveNextDayStart(zone, now)).toISOString());
          expect(bucketStarts(range, context)).toHaveLength(n + 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives a monthly "-Nm" the months from N months ago to this one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEST_ZONES).chain((zone) => fc.tuple(fc.constant(zone), instantNearDst(zone, 24 * 40), fc.integer({ min: 0, max: 30 }))),
        ([zone, now, n]) => {
          const context: DateRangeContext = { now: new Date(now), timezone: zone, weekStart: 0, interval: 'month' };
          const range = resolveDateRange({ dateFrom: `-${n}m` }, context);
          let monthStart = naiveBucketOf(now, context);
          for (let i = 0; i < n; i++) monthStart = naiveBucketOf(monthStart - 1, context);
          expect(range.from.toISOString()).toBe(new Date(monthStart).toISOString());
          expect(range.to.toISOString()).toBe(new Date(naiveNextDayStart(zone, now)).toISOString());
          expect(bucketStarts(range, context)).toHaveLength(n + 1);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives a weekly "-Nw" the weeks from the one holding the day 7N days ago, starting at that day', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEST_ZONES).chain((zone) =>
          fc.tuple(fc.constant(zone), instantNearDst(zone, 24 * 30), fc.integer({ min: 0, max: 20 }), fc.constantFrom<WeekStart>(0, 1)),
        ),
        ([zone, now, n, weekStart]) => {
          const context: DateRangeContext = { now: new Date(now), timezone: zone, weekStart, interval: 'week' };
          const range = resolveDateRange({ dateFrom: `-${n}w` }, context);
          const from = naiveDayStartBefore(zone, now, 7 * n);
          expect(range.from.toISOString()).toBe(new Date(from).toISOString());
          const starts = bucketStarts(range, context).map((d) => d.getTime());
          expect(starts[0]).toBe(naiveBucketOf(from, context));
          expect(starts[starts.length - 1]).toBe(naiveBucketOf(now, context));
          expect([n, n + 1]).toContain(starts.length - 1);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives an hourly "-Nh" N+1 hour buckets in zones without DST', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Asia/Kolkata'),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.integer({ min: 0, max: 200 }),
        (zone, now, n) => {
          const context: DateRangeContext = { now: new Date(now), timezone: zone, weekStart: 0, interval: 'hour' };
          const range = resolveDateRange({ dateFrom: `-${n}h` }, context);
          expect(range.from.getTime()).toBe(naiveBucketOf(now - n * HOUR, context));
          expect(range.to.getTime()).toBe(naiveBucketOf(now, context) + HOUR);
          expect(bucketStarts(range, context)).toHaveLength(n + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never ends before it starts and always fits its buckets', () => {
    const dateString = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 400 }), fc.constantFrom('h', 'd', 'w', 'm', 'q', 'y', 'M', 's')).map(([n, u]) => `-${n}${u}`),
      fc.constantFrom('dStart', 'mStart', 'yStart', '-1dStart', '-1dEnd', '-1mStart', '-1mEnd', 'wStart', '-1wEnd', '-1yEnd', 'hStart'),
      fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2026, 0, 1) }).map((t) => new Date(t).toISOString().slice(0, 16)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...TEST_ZONES),
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2026, 0, 1) }),
        fc.option(dateString, { nil: undefined }),
        fc.option(dateString, { nil: undefined }),
        fc.constantFrom<Interval>('hour', 'day', 'week', 'month'),
        fc.boolean(),
        (zone, now, dateFrom, dateTo, interval, explicitDate) => {
          const context: DateRangeContext = { now: new Date(now), timezone: zone, weekStart: 1, interval, earliest: new Date(now - 90 * DAY) };
          let range;
          try {
            range = resolveDateRange({ dateFrom, dateTo, explicitDate }, context);
          } catch (e) {
            expect(e).toBeInstanceOf(BadUserInputError);
            return;
          }
          expect(range.from.getTime()).toBeLessThan(range.to.getTime());
          const starts = bucketStarts(range, context);
          expect(starts.length).toBeGreaterThan(0);
          expect(starts.length).toBeLessThanOrEqual(MAX_BUCKETS);
          expect(starts[0]!.getTime()).toBeLessThanOrEqual(range.from.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});
