import fc from 'fast-check';
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from '../../../../test/helpers/store.ts';
import { bucketOf } from './buckets.ts';
import { dateTruncExpression } from './date-trunc-expression.ts';
import { instantNearDst } from './instant-arbitraries.test-support.ts';
import type { BucketOptions, Interval, WeekStart } from './interval.ts';
import { TEST_ZONES } from './naive-clock.test-support.ts';

const iso = (d: Date | number) => new Date(d).toISOString();
const COMBOS: Array<[Interval, WeekStart]> = [['hour', 0], ['day', 0], ['week', 0], ['week', 1], ['month', 0]];

describe('dateTruncExpression', () => {
  it('builds a documented $dateTrunc with the unit, the zone and, for weeks, the first day of the week', () => {
    expect(dateTruncExpression('$timestamp', { interval: 'day', timezone: 'Europe/Berlin', weekStart: 1 })).toEqual({
      $dateTrunc: { date: '$timestamp', unit: 'day', timezone: 'Europe/Berlin' },
    });
    expect(dateTruncExpression('$timestamp', { interval: 'week', timezone: 'UTC', weekStart: 0 })).toEqual({
      $dateTrunc: { date: '$timestamp', unit: 'week', timezone: 'UTC', startOfWeek: 'sunday' },
    });
    expect(dateTruncExpression('$e.ts', { interval: 'week', timezone: 'Asia/Kolkata', weekStart: 1 })).toEqual({
      $dateTrunc: { date: '$e.ts', unit: 'week', timezone: 'Asia/Kolkata', startOfWeek: 'monday' },
    });
  });

  it('refuses a field name without "$" and an unknown time zone', () => {
    expect(() => dateTruncExpression('timestamp', { interval: 'day', timezone: 'UTC', weekStart: 0 })).toThrow(TypeError);
    expect(() => dateTruncExpression('$timestamp', { interval: 'day', timezone: 'Mars/Base', weekStart: 0 })).toThrow(/Unknown time zone/);
  });
});

describe('dateTruncExpression through the driver against the embedded store', () => {
  let store: TestStore;
  let events: Collection<{ run: number; ts: Date }>;
  let run = 0;

  beforeAll(async () => {
    store = await startTestStore();
    events = store.client.db('time').collection('events');
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** Stores the instants and returns, for each, [instant, bucket the database computed]. */
  async function truncate(instants: number[], options: BucketOptions): Promise<Array<[string, string]>> {
    const id = ++run;
    await events.insertMany(instants.map((t) => ({ run: id, ts: new Date(t) })));
    const rows = await events
      .aggregate<{ ts: Date; bucket: Date }>([
        { $match: { run: id } },
        { $project: { _id: 0, ts: 1, bucket: dateTruncExpression('$ts', options) } },
      ])
      .toArray();
    return rows.map((r) => [iso(r.ts), iso(r.bucket)]);
  }

  for (const zone of TEST_ZONES) {
    for (const [interval, weekStart] of COMBOS) {
      it(`buckets like bucketOf in ${zone} by ${interval}${interval === 'week' ? ` starting on day ${weekStart}` : ''}`, async () => {
        const options: BucketOptions = { interval, timezone: zone, weekStart };
        await fc.assert(
          fc.asyncProperty(fc.array(instantNearDst(zone, 30), { minLength: 1, maxLength: 60 }), async (instants) => {
            const expected = instants.map((t): [string, string] => [iso(t), iso(bucketOf(new Date(t), options))]);
            expect(await truncate(instants, options)).toEqual(expected);
          }),
          { numRuns: 15 },
        );
      });
    }
  }

  // MongoDB's $dateTrunc for units up to an hour is plain millisecond arithmetic from its reference point
  // (truncateDateMillis in src/mongo/db/query/datetime/date_time_support.cpp): hour bins are always 3,600,000 ms
  // and never straddle or skip an instant. These are the places where a wall-clock implementation differs.
  it('puts both passes through a repeated hour into their own hour buckets (Berlin and New York)', async () => {
    const cases: Array<[string, string, string]> = [
      // [zone, instant, MongoDB's bucket]
      ['Europe/Berlin', '2024-10-27T00:30:00.000Z', '2024-10-27T00:00:00.000Z'], // 02:30 CEST
      ['Europe/Berlin', '2024-10-27T01:30:00.000Z', '2024-10-27T01:00:00.000Z'], // 02:30 CET
      ['America/New_York', '2024-11-03T05:30:00.000Z', '2024-11-03T05:00:00.000Z'], // 01:30 EDT
      ['America/New_York', '2024-11-03T06:30:00.000Z', '2024-11-03T06:00:00.000Z'], // 01:30 EST
    ];
    for (const [zone, instant, bucket] of cases) {
      expect(await truncate([Date.parse(instant)], { interval: 'hour', timezone: zone, weekStart: 0 })).toEqual([[instant, bucket]]);
    }
  });

  it('keeps hour buckets on the 2000-01-01 grid in Lord Howe winter (+10:30), i.e. at half past the local hour', async () => {
    const options: BucketOptions = { interval: 'hour', timezone: 'Australia/Lord_Howe', weekStart: 0 };
    // 2024-06-15 13:40 local (+10:30) -> 13:30 local = 03:00Z.
    expect(await truncate([Date.parse('2024-06-15T03:10:00.000Z')], options)).toEqual([
      ['2024-06-15T03:10:00.000Z', '2024-06-15T03:00:00.000Z'],
    ]);
  });

  it('never returns an hour bucket that starts after the instant (Chatham, 2024-04-07 03:45 -> 02:45)', async () => {
    const options: BucketOptions = { interval: 'hour', timezone: 'Pacific/Chatham', weekStart: 0 };
    // 03:30 +13:45 (13:45Z), then 02:30 +12:45 (13:45Z + 1h). Bins start at :15 past the UTC hour.
    expect(await truncate([Date.parse('2024-04-06T13:45:00.000Z'), Date.parse('2024-04-06T14:45:00.000Z')], options)).toEqual([
      ['2024-04-06T13:45:00.000Z', '2024-04-06T13:15:00.000Z'],
      ['2024-04-06T14:45:00.000Z', '2024-04-06T14:15:00.000Z'],
    ]);
  });

  it('starts a day whose midnight is skipped at its first instant, not in the day before (Santiago 2024-09-08)', async () => {
    // Clocks go from 00:00 -04:00 to 01:00 -03:00; 01:30 local is 04:30Z and its day begins at 04:00Z.
    const options: BucketOptions = { interval: 'day', timezone: 'America/Santiago', weekStart: 0 };
    expect(await truncate([Date.parse('2024-09-08T04:30:00.000Z')], options)).toEqual([
      ['2024-09-08T04:30:00.000Z', '2024-09-08T04:00:00.000Z'],
    ]);
  });
});
