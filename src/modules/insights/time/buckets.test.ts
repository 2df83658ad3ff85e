import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, bucketStarts, countBuckets } from './buckets.ts';
import { instantNearDst, zonedInstant } from './instant-arbitraries.test-support.ts';
import type { BucketOptions, Interval, WeekStart } from './interval.ts';
import { MIDNIGHT_DST_ZONES, TEST_ZONES, localReading, naiveBucketOf } from './naive-clock.test-support.ts';

const ZONES = [...TEST_ZONES, ...MIDNIGHT_DST_ZONES];
const HOUR = 3_600_000;
const iso = (d: Date | number) => new Date(d).toISOString();
const opts = (interval: Interval, timezone: string, weekStart: WeekStart = 0): BucketOptions => ({ interval, timezone, weekStart });
const COMBOS: Array<[Interval, WeekStart]> = [['hour', 0], ['day', 0], ['week', 0], ['week', 1], ['month', 0]];

describe('bucketOf', () => {
  for (const [interval, weekStart] of COMBOS) {
    it(`agrees with the naive clock for ${interval} buckets (week start ${weekStart}) in every test zone`, () => {
      fc.assert(
        fc.property(zonedInstant(ZONES), ([zone, t]) => {
          const o = opts(interval, zone, weekStart);
          expect(iso(bucketOf(new Date(t), o))).toBe(iso(naiveBucketOf(t, o)));
        }),
        { numRuns: interval === 'hour' ? 1500 : 400 },
      );
    });
  }

  it('starts day buckets at local midnight: 23 hours on the spring change and 25 on the autumn one (Berlin)', () => {
    const day = (t: string) => iso(bucketOf(new Date(t), opts('day', 'Europe/Berlin')));
    expect(day('2024-03-31T12:00:00Z')).toBe('2024-03-30T23:00:00.000Z');
    expect(day('2024-04-01T12:00:00Z')).toBe('2024-03-31T22:00:00.000Z');
    expect(day('2024-10-27T12:00:00Z')).toBe('2024-10-26T22:00:00.000Z');
    expect(day('2024-10-28T12:00:00Z')).toBe('2024-10-27T23:00:00.000Z');
  });

  it('gives Lord Howe days of 24.5 and 23.5 hours around its half-hour DST changes', () => {
    const starts = bucketStarts(
      { from: new Date('2024-04-06T00:00:00Z'), to: new Date('2024-04-08T00:00:00Z') },
      opts('day', 'Australia/Lord_Howe'),
    ).map(iso);
    // 2024-04-06 00:00 +11:00, 2024-04-07 00:00 +11:00, 2024-04-08 00:00 +10:30.
    expect(starts).toEqual(['2024-04-05T13:00:00.000Z', '2024-04-06T13:00:00.000Z', '2024-04-07T13:30:00.000Z']);
    const spring = bucketStarts(
      { from: new Date('2024-10-05T00:00:00Z'), to: new Date('2024-10-07T00:00:00Z') },
      opts('day', 'Australia/Lord_Howe'),
    ).map(iso);
    // 2024-10-05 00:00 +10:30, 2024-10-06 00:00 +10:30, 2024-10-07 00:00 +11:00.
    expect(spring).toEqual(['2024-10-04T13:30:00.000Z', '2024-10-05T13:30:00.000Z', '2024-10-06T13:00:00.000Z']);
  });

  it('splits the repeated hour into two hour buckets when clocks go back (New York, 2024-11-03)', () => {
    const hour = (t: string) => iso(bucketOf(new Date(t), opts('hour', 'America/New_York')));
    expect(hour('2024-11-03T05:30:00Z')).toBe('2024-11-03T05:00:00.000Z'); // 01:30 EDT
    expect(hour('2024-11-03T06:30:00Z')).toBe('2024-11-03T06:00:00.000Z'); // 01:30 EST
    const starts = bucketStarts(
      { from: new Date('2024-11-03T04:00:00Z'), to: new Date('2024-11-03T08:00:00Z') },
      opts('hour', 'America/New_York'),
    );
    expect(starts.map((s) => localReading('America/New_York', s.getTime()).slice(11, 16))).toEqual(['00:00', '01:00', '01:00', '02:00']);
  });

  it('draws hour buckets from local 2000-01-01T00:00 like MongoDB: at :30 in Kolkata, :15 UTC in Chatham', () => {
    expect(iso(bucketOf(new Date('2024-06-15T03:10:00Z'), opts('hour', 'Asia/Kolkata')))).toBe('2024-06-15T02:30:00.000Z');
    expect(iso(bucketOf(new Date('2024-06-15T03:10:00Z'), opts('hour', 'Pacific/Chatham')))).toBe('2024-06-15T02:15:00.000Z');
    // Lord Howe was at +11:00 on 2000-01-01, so hour buckets start on the UTC hour all year; in its
    // winter (+10:30) that is half past the local hour.
    const winter = bucketOf(new Date('2024-06-15T03:10:00Z'), opts('hour', 'Australia/Lord_Howe'));
    expect(iso(winter)).toBe('2024-06-15T03:00:00.000Z');
    expect(localReading('Australia/Lord_Howe', winter.getTime())).toBe('2024-06-15 13:30:00');
  });

  it('starts weeks on Sunday or Monday at local midnight', () => {
    // Wednesday 2024-01-03 12:00 in Berlin.
    const wednesday = new Date('2024-01-03T11:00:00Z');
    expect(iso(bucketOf(wednesday, opts('week', 'Europe/Berlin', 0)))).toBe('2023-12-30T23:00:00.000Z'); // Sun 31 Dec
    expect(iso(bucketOf(wednesday, opts('week', 'Europe/Berlin', 1)))).toBe('2023-12-31T23:00:00.000Z'); // Mon 1 Jan
    // Sunday 23:30 and Monday 00:30 in New York: the same Sunday week, different Monday weeks.
    const sunday = new Date('2024-03-11T03:30:00Z');
    const monday = new Date('2024-03-11T04:30:00Z');
    expect(iso(bucketOf(sunday, opts('week', 'America/New_York', 0)))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(bucketOf(monday, opts('week', 'America/New_York', 0)))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(bucketOf(sunday, opts('week', 'America/New_York', 1)))).toBe('2024-03-04T05:00:00.000Z');
    expect(iso(bucketOf(monday, opts('week', 'America/New_York', 1)))).toBe('2024-03-11T04:00:00.000Z');
  });

  it('starts a day whose midnight is skipped at its first instant (Santiago 2024-09-08 begins at 01:00)', () => {
    expect(iso(bucketOf(new Date('2024-09-08T04:30:00Z'), opts('day', 'America/Santiago')))).toBe('2024-09-08T04:00:00.000Z');
    expect(iso(bucketOf(new Date('2024-09-08T03:59:59.999Z'), opts('day', 'America/Santiago')))).toBe('2024-09-07T04:00:00.000Z');
  });

  it('starts months on the first at local midnight', () => {
    expect(iso(bucketOf(new Date('2024-03-31T22:30:00Z'), opts('month', 'America/New_York')))).toBe('2024-03-01T05:00:00.000Z');
    expect(iso(bucketOf(new Date('2024-03-31T22:30:00Z'), opts('month', 'Europe/Berlin')))).toBe('2024-03-31T22:00:00.000Z');
  });
});

describe('bucketStarts', () => {
  const rangeArb = (zone: string, maxSpanHours: number) =>
    fc.tuple(instantNearDst(zone), fc.integer({ min: 1, max: maxSpanHours * HOUR })).map(([from, span]) => ({ from, to: from + span }));
  const SPAN_HOURS: Record<Interval, number> = { hour: 60, day: 24 * 40, week: 24 * 7 * 20, month: 24 * 31 * 14 };

  for (const [interval, weekStart] of COMBOS) {
    it(`lists adjacent ${interval} buckets (week start ${weekStart}) from the one holding 'from' to the one holding the last instant`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...ZONES).chain((zone) => rangeArb(zone, SPAN_HOURS[interval]).map((r) => [zone, r] as const)),
          ([zone, { from, to }]) => {
            const o = opts(interval, zone, weekStart);
            const starts = bucketStarts({ from: new Date(from), to: new Date(to) }, o).map((d) => d.getTime());
            expect(starts[0]).toBe(naiveBucketOf(from, o));
            expect(starts[starts.length - 1]).toBe(naiveBucketOf(to - 1, o));
            for (let i = 1; i < starts.length; i++) {
              // Each start is a bucket start, and the instant before it belongs to the previous bucket.
              expect(naiveBucketOf(starts[i]!, o)).toBe(starts[i]);
              expect(naiveBucketOf(starts[i]! - 1, o)).toBe(starts[i - 1]);
            }
            expect(countBuckets({ from: new Date(from), to: new Date(to) }, o)).toBe(starts.length);
          },
        ),
        { numRuns: interval === 'hour' ? 150 : 40 },
      );
    });
  }

  it('has no buckets for an empty or inverted range', () => {
    const t = new Date('2024-01-01T00:00:00Z');
    expect(bucketStarts({ from: t, to: t }, opts('day', 'UTC'))).toEqual([]);
    expect(bucketStarts({ from: t, to: new Date(t.getTime() - 1) }, opts('day', 'UTC'))).toEqual([]);
  });

  it('lists the daily buckets of a Berlin week that crosses the spring change', () => {
    const starts = bucketStarts(
      { from: new Date('2024-03-29T23:00:00Z'), to: new Date('2024-04-01T22:00:00Z') },
      opts('day', 'Europe/Berlin'),
    ).map(iso);
    expect(starts).toEqual(['2024-03-29T23:00:00.000Z', '2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
  });

  it('stops counting just past the limit', () => {
    const range = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('2030-01-01T00:00:00Z') };
    expect(countBuckets(range, opts('hour', 'UTC'), 10)).toBe(11);
    expect(countBuckets(range, opts('month', 'UTC'))).toBe(360);
  });
});
