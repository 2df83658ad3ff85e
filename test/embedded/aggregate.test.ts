/**
 * Aggregation pipelines through the official driver against the embedded store.
 *
 * Every expected value is either pinned by hand from MongoDB 7.0's documented semantics
 * (timezone cases were cross-checked against an Intl-based calculation) or computed by a
 * small plain-JS function over the same input arrays that were inserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, MongoServerError, ObjectId, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/store.ts';

const DB_NAME = 'sightline_agg';
let ts: TestStore;
const db = (): Db => ts.client.db(DB_NAME);
/** Documents whose _id may be of any type (the driver's default schema assumes ObjectId). */
type AnyDoc = { _id: unknown; [key: string]: any };
const coll = (name: string) => db().collection<AnyDoc>(name);

const at = (iso: string): Date => new Date(iso);

interface EventDoc {
  _id: number;
  projectId: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  properties: Record<string, unknown>;
}

const EVENTS: EventDoc[] = [
  { _id: 1, projectId: 'p1', event: 'pageview', distinctId: 'u1', timestamp: at('2026-01-05T09:00:00Z'), properties: { path: '/', duration: 30, plan: 'free', browser: 'firefox' } },
  { _id: 2, projectId: 'p1', event: 'pageview', distinctId: 'u2', timestamp: at('2026-01-05T10:00:00Z'), properties: { path: '/pricing', duration: 45, plan: 'pro', browser: 'chrome' } },
  { _id: 3, projectId: 'p1', event: 'signup', distinctId: 'u2', timestamp: at('2026-01-05T10:05:00Z'), properties: { plan: 'pro', browser: 'chrome' } },
  { _id: 4, projectId: 'p1', event: 'pageview', distinctId: 'u1', timestamp: at('2026-01-06T08:00:00Z'), properties: { path: '/docs', duration: 120, plan: 'free', browser: 'firefox' } },
  { _id: 5, projectId: 'p1', event: 'purchase', distinctId: 'u2', timestamp: at('2026-01-06T12:00:00Z'), properties: { amount: 49, plan: 'pro', browser: 'chrome' } },
  { _id: 6, projectId: 'p2', event: 'pageview', distinctId: 'u3', timestamp: at('2026-01-05T11:00:00Z'), properties: { path: '/', duration: 5, browser: 'safari' } },
  { _id: 7, projectId: 'p2', event: 'purchase', distinctId: 'u3', timestamp: at('2026-01-07T15:00:00Z'), properties: { amount: 99, plan: 'team', browser: 'safari' } },
  { _id: 8, projectId: 'p1', event: 'pageview', distinctId: 'u4', timestamp: at('2026-01-07T16:00:00Z'), properties: { path: '/', duration: 15, plan: 'free', browser: 'chrome' } },
  { _id: 9, projectId: 'p2', event: 'signup', distinctId: 'u5', timestamp: at('2026-01-07T17:00:00Z'), properties: { plan: 'team', browser: 'firefox' } },
  { _id: 10, projectId: 'p1', event: 'purchase', distinctId: 'u1', timestamp: at('2026-01-08T09:30:00Z'), properties: { amount: 19, plan: 'free', browser: 'firefox' } },
];

interface UserDoc {
  _id: string;
  projectId: string;
  distinctId: string;
  country: string;
}

const USERS: UserDoc[] = [
  { _id: 'user-u1', projectId: 'p1', distinctId: 'u1', country: 'DE' },
  { _id: 'user-u2', projectId: 'p1', distinctId: 'u2', country: 'US' },
  { _id: 'user-u3', projectId: 'p2', distinctId: 'u3', country: 'IN' },
  { _id: 'user-u4', projectId: 'p1', distinctId: 'u4', country: 'FR' },
  // Same distinctId as user-u3 but in another project: joins on distinctId alone pick it up.
  { _id: 'user-u3-p1', projectId: 'p1', distinctId: 'u3', country: 'BR' },
];

/** Deterministic shuffle so the store cannot pass ordering tests by returning insertion order. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function agg<T extends Document = Document>(name: string, pipeline: Document[]): Promise<T[]> {
  return db().collection(name).aggregate<T>(pipeline).toArray();
}

async function seed(name: string, docs: readonly AnyDoc[]): Promise<void> {
  await coll(name).insertMany(structuredClone(shuffled(docs)));
}

const byTime = (a: EventDoc, b: EventDoc): number => a.timestamp.getTime() - b.timestamp.getTime();
const ids = (docs: readonly Document[]): unknown[] => docs.map((d) => d._id);
const numbersOf = (docs: readonly EventDoc[], key: string): number[] =>
  docs.map((d) => d.properties[key]).filter((v): v is number => typeof v === 'number');
const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
/** Binary string order, as MongoDB compares strings without a collation. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

beforeAll(async () => {
  ts = await startTestStore();
  await seed('events', EVENTS);
  await seed('users', USERS);
});

afterAll(async () => {
  await ts?.dispose();
});

describe('$match', () => {
  it('filters events with $in on a top-level field combined with a nested property path', async () => {
    const got = await agg<EventDoc>('events', [
      { $match: { event: { $in: ['signup', 'purchase'] }, 'properties.plan': 'pro' } },
      { $sort: { _id: 1 } },
    ]);
    const expected = EVENTS.filter((e) => ['signup', 'purchase'].includes(e.event) && e.properties.plan === 'pro');
    expect(ids(got)).toEqual(ids(expected));
    expect(got).toEqual(expected);
  });

  it('filters with $expr comparing a nested numeric property, treating a missing property as not greater', async () => {
    const got = await agg('events', [
      { $match: { $expr: { $gt: ['$properties.duration', 20] } } },
      { $sort: { _id: 1 } },
      { $project: { _id: 1 } },
    ]);
    const expected = EVENTS.filter((e) => typeof e.properties.duration === 'number' && e.properties.duration > 20);
    expect(ids(got)).toEqual(ids(expected));
  });

  it('filters with $expr over a date expression such as the UTC hour of the timestamp', async () => {
    const got = await agg('events', [
      { $match: { $expr: { $gte: [{ $hour: '$timestamp' }, 12] }, projectId: { $in: ['p1', 'p2'] } } },
      { $sort: { _id: 1 } },
      { $project: { _id: 1 } },
    ]);
    const expected = EVENTS.filter((e) => e.timestamp.getUTCHours() >= 12);
    expect(ids(got)).toEqual(ids(expected));
  });
});

describe('$group accumulators', () => {
  it('computes $sum, $avg, $min, $max, $first, $last, $addToSet, $push and $count per event name', async () => {
    const got = await agg('events', [
      { $sort: { timestamp: 1 } },
      {
        $group: {
          _id: '$event',
          count: { $count: {} },
          n: { $sum: 1 },
          totalAmount: { $sum: '$properties.amount' },
          avgDuration: { $avg: '$properties.duration' },
          firstAt: { $min: '$timestamp' },
          lastAt: { $max: '$timestamp' },
          firstUser: { $first: '$distinctId' },
          lastUser: { $last: '$distinctId' },
          users: { $addToSet: '$distinctId' },
          paths: { $push: '$properties.path' },
        },
      },
      { $sort: { _id: 1 } },
    ]);

    const names = [...new Set(EVENTS.map((e) => e.event))].sort();
    const expected = names.map((name) => {
      const list = EVENTS.filter((e) => e.event === name).sort(byTime);
      const durations = numbersOf(list, 'duration');
      const times = list.map((e) => e.timestamp.getTime());
      return {
        _id: name,
        count: list.length,
        n: list.length,
        // $sum over a group with no numeric values is 0
        totalAmount: sum(numbersOf(list, 'amount')),
        // $avg over a group with no numeric values is null
        avgDuration: durations.length > 0 ? sum(durations) / durations.length : null,
        firstAt: new Date(Math.min(...times)),
        lastAt: new Date(Math.max(...times)),
        firstUser: list[0]!.distinctId,
        lastUser: list[list.length - 1]!.distinctId,
        users: [...new Set(list.map((e) => e.distinctId))].sort(),
        // $push skips documents where the expression is missing
        paths: list.map((e) => e.properties.path).filter((p) => p !== undefined),
      };
    });

    // $addToSet has no defined order: compare it as a set.
    const normalized = got.map((g) => ({ ...g, users: [...(g.users as string[])].sort() }));
    expect(normalized).toEqual(expected);
  });

  it('groups all documents into one result with _id null and counts distinct users with $size of $addToSet', async () => {
    const got = await agg('events', [
      { $group: { _id: null, events: { $sum: 1 }, users: { $addToSet: '$distinctId' } } },
      { $project: { _id: 1, events: 1, uniqueUsers: { $size: '$users' } } },
    ]);
    expect(got).toEqual([{ _id: null, events: EVENTS.length, uniqueUsers: new Set(EVENTS.map((e) => e.distinctId)).size }]);
  });
});

describe('reshaping stages', () => {
  it('$project includes nested paths, computes fields and drops _id when asked', async () => {
    const got = await agg('events', [
      { $match: { _id: { $in: [5, 6] } } },
      { $sort: { _id: 1 } },
      {
        $project: {
          _id: 0,
          event: 1,
          'properties.plan': 1,
          day: { $dateToString: { date: '$timestamp', format: '%Y-%m-%d' } },
        },
      },
    ]);
    expect(got).toEqual([
      { event: 'purchase', properties: { plan: 'pro' }, day: '2026-01-06' },
      // The parent object exists but has no plan: MongoDB still emits the (now empty) embedded document.
      { event: 'pageview', properties: {}, day: '2026-01-05' },
    ]);
  });

  it('$project in exclusion mode removes only the listed fields', async () => {
    const got = await agg('events', [{ $match: { _id: 3 } }, { $project: { properties: 0, timestamp: 0 } }]);
    const e = EVENTS.find((x) => x._id === 3)!;
    expect(got).toEqual([{ _id: e._id, projectId: e.projectId, event: e.event, distinctId: e.distinctId }]);
  });

  it('$addFields and $set add top-level and nested fields while keeping the rest of the document', async () => {
    const got = await agg('events', [
      { $match: { _id: { $in: [2, 6] } } },
      { $sort: { _id: 1 } },
      { $addFields: { 'properties.isoWeekday': { $isoDayOfWeek: '$timestamp' } } },
      { $set: { isPaid: { $in: [{ $ifNull: ['$properties.plan', 'none'] }, ['pro', 'team']] } } },
    ]);
    const expected = EVENTS.filter((e) => e._id === 2 || e._id === 6).map((e) => ({
      ...e,
      properties: { ...e.properties, isoWeekday: ((e.timestamp.getUTCDay() + 6) % 7) + 1 },
      isPaid: ['pro', 'team'].includes(String(e.properties.plan)),
    }));
    expect(got).toEqual(expected);
  });

  it('$unset removes several fields, including a nested one', async () => {
    const got = await agg('events', [
      { $match: { _id: 1 } },
      { $unset: ['distinctId', 'timestamp', 'properties.duration'] },
    ]);
    const e = EVENTS.find((x) => x._id === 1)!;
    const { duration: _dropped, ...restProps } = e.properties;
    expect(got).toEqual([{ _id: 1, projectId: e.projectId, event: e.event, properties: restProps }]);
  });

  it('$replaceRoot promotes a merged object built from the event and its properties', async () => {
    const got = await agg('events', [
      { $match: { _id: 5 } },
      { $replaceRoot: { newRoot: { $mergeObjects: [{ eventId: '$_id', event: '$event' }, '$properties'] } } },
    ]);
    const e = EVENTS.find((x) => x._id === 5)!;
    expect(got).toEqual([{ eventId: 5, event: 'purchase', ...e.properties }]);
  });
});

describe('$sort, $skip, $limit and $count', () => {
  it('pages through events sorted by timestamp descending with $skip and $limit', async () => {
    const got = await agg('events', [{ $sort: { timestamp: -1 } }, { $skip: 2 }, { $limit: 3 }, { $project: { _id: 1 } }]);
    const expected = [...EVENTS].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime()).slice(2, 5);
    expect(ids(got)).toEqual(ids(expected));
  });

  it('sorts by a compound key of project ascending then timestamp descending', async () => {
    const got = await agg('events', [{ $sort: { projectId: 1, timestamp: -1 } }, { $project: { _id: 1 } }]);
    const expected = [...EVENTS].sort(
      (a, b) => cmp(a.projectId, b.projectId) || b.timestamp.getTime() - a.timestamp.getTime(),
    );
    expect(ids(got)).toEqual(ids(expected));
  });

  it('$count returns one document with the number of matching events, and no document at all when nothing matches', async () => {
    expect(await agg('events', [{ $match: { projectId: 'p1' } }, { $count: 'total' }])).toEqual([
      { total: EVENTS.filter((e) => e.projectId === 'p1').length },
    ]);
    expect(await agg('events', [{ $match: { projectId: 'nope' } }, { $count: 'total' }])).toEqual([]);
  });
});

describe('dates and timezones', () => {
  // _id -> instant; names describe the local wall-clock time in the zone the case is about.
  const TZ_DOCS: Record<string, string> = {
    'ny-sat-2330-est': '2026-03-08T04:30:00Z', // Sat 2026-03-07 23:30 EST
    'ny-sun-0030-est': '2026-03-08T05:30:00Z', // Sun 2026-03-08 00:30 EST (DST starts 02:00 this day)
    'ny-sun-0130-est': '2026-03-08T06:30:00Z', // Sun 01:30 EST
    'ny-sun-0330-edt': '2026-03-08T07:30:00Z', // Sun 03:30 EDT (02:00-03:00 does not exist)
    'ny-sun-0800-edt': '2026-03-08T12:00:00Z', // Sun 08:00 EDT
    'ny-sun-2330-edt': '2026-03-09T03:30:00Z', // Sun 23:30 EDT
    'ny-mon-0030-edt': '2026-03-09T04:30:00Z', // Mon 2026-03-09 00:30 EDT
    'ny-tue-0800-edt': '2026-03-10T12:00:00Z', // Tue 2026-03-10 08:00 EDT
    'ny-mar31-2330-edt': '2026-04-01T03:30:00Z', // Tue 2026-03-31 23:30 EDT
    'ny-apr1-0030-edt': '2026-04-01T04:30:00Z', // Wed 2026-04-01 00:30 EDT
    'be-sat-2330-cet': '2026-03-28T22:30:00Z', // Sat 2026-03-28 23:30 CET
    'be-sun-0130-cet': '2026-03-29T00:30:00Z', // Sun 2026-03-29 01:30 CET (DST starts 02:00 this day)
    'be-sun-0330-cest': '2026-03-29T01:30:00Z', // Sun 03:30 CEST
    'be-sun-2330-cest': '2026-03-29T21:30:00Z', // Sun 23:30 CEST
    'be-mon-0030-cest': '2026-03-29T22:30:00Z', // Mon 2026-03-30 00:30 CEST
    'be-mar31-2330-cest': '2026-03-31T21:30:00Z', // Tue 2026-03-31 23:30 CEST
    'be-apr1-0030-cest': '2026-03-31T22:30:00Z', // Wed 2026-04-01 00:30 CEST
    'in-thu-1450': '2026-01-15T09:20:00Z', // Thu 2026-01-15 14:50 +05:30
    'in-thu-1540': '2026-01-15T10:10:00Z', // Thu 15:40 +05:30
    'in-fri-0030': '2026-01-15T19:00:00Z', // Fri 2026-01-16 00:30 +05:30 (still Thu 19:00 in UTC)
  };

  beforeAll(async () => {
    await seed(
      'tz',
      Object.entries(TZ_DOCS).map(([_id, iso]) => ({ _id, ts: at(iso) })),
    );
  });

  /** Runs $dateTrunc with constant arguments over the given docs; returns _id -> ISO string. */
  async function trunc(docIds: string[], spec: Record<string, unknown>): Promise<Record<string, string>> {
    const rows = await agg<{ _id: string; t: Date }>('tz', [
      { $match: { _id: { $in: docIds } } },
      { $project: { t: { $dateTrunc: { date: '$ts', ...spec } } } },
    ]);
    return Object.fromEntries(rows.map((r) => [r._id, r.t instanceof Date ? r.t.toISOString() : String(r.t)]));
  }

  it('$dateTrunc to the day in America/New_York puts 23:30 local on the same local day across the 2026-03-08 DST change', async () => {
    const expected = {
      'ny-sat-2330-est': '2026-03-07T05:00:00.000Z',
      'ny-sun-0030-est': '2026-03-08T05:00:00.000Z',
      // Local midnight of 2026-03-08 was still EST (UTC-5), although these instants are in EDT.
      'ny-sun-0800-edt': '2026-03-08T05:00:00.000Z',
      'ny-sun-2330-edt': '2026-03-08T05:00:00.000Z',
      'ny-mon-0030-edt': '2026-03-09T04:00:00.000Z',
    };
    expect(await trunc(Object.keys(expected), { unit: 'day', timezone: 'America/New_York' })).toEqual(expected);
  });

  it('$dateTrunc to the day in Europe/Berlin uses the offset of local midnight across the 2026-03-29 DST change', async () => {
    const expected = {
      'be-sun-0130-cet': '2026-03-28T23:00:00.000Z',
      'be-sun-0330-cest': '2026-03-28T23:00:00.000Z',
      'be-sun-2330-cest': '2026-03-28T23:00:00.000Z',
      'be-mon-0030-cest': '2026-03-29T22:00:00.000Z',
    };
    expect(await trunc(Object.keys(expected), { unit: 'day', timezone: 'Europe/Berlin' })).toEqual(expected);
  });

  it('$dateTrunc to the week starts weeks on Sunday by default and on Monday with startOfWeek monday in New York', async () => {
    const sunday = {
      'ny-sat-2330-est': '2026-03-01T05:00:00.000Z',
      'ny-sun-0030-est': '2026-03-08T05:00:00.000Z',
      'ny-sun-2330-edt': '2026-03-08T05:00:00.000Z',
      'ny-mon-0030-edt': '2026-03-08T05:00:00.000Z',
      'ny-tue-0800-edt': '2026-03-08T05:00:00.000Z',
    };
    expect(await trunc(Object.keys(sunday), { unit: 'week', timezone: 'America/New_York' })).toEqual(sunday);
    expect(
      await trunc(Object.keys(sunday), { unit: 'week', timezone: 'America/New_York', startOfWeek: 'sunday' }),
    ).toEqual(sunday);

    const monday = {
      'ny-sat-2330-est': '2026-03-02T05:00:00.000Z',
      'ny-sun-2330-edt': '2026-03-02T05:00:00.000Z',
      'ny-mon-0030-edt': '2026-03-09T04:00:00.000Z',
      'ny-tue-0800-edt': '2026-03-09T04:00:00.000Z',
    };
    expect(
      await trunc(Object.keys(monday), { unit: 'week', timezone: 'America/New_York', startOfWeek: 'monday' }),
    ).toEqual(monday);
  });

  it('$dateTrunc to the week in Europe/Berlin assigns Sunday 23:30 and Monday 00:30 local to different Monday weeks', async () => {
    const monday = {
      'be-sun-0330-cest': '2026-03-22T23:00:00.000Z',
      'be-sun-2330-cest': '2026-03-22T23:00:00.000Z',
      'be-mon-0030-cest': '2026-03-29T22:00:00.000Z',
    };
    expect(
      await trunc(Object.keys(monday), { unit: 'week', timezone: 'Europe/Berlin', startOfWeek: 'monday' }),
    ).toEqual(monday);
    const sunday = {
      'be-sat-2330-cet': '2026-03-21T23:00:00.000Z',
      'be-sun-2330-cest': '2026-03-28T23:00:00.000Z',
      'be-mon-0030-cest': '2026-03-28T23:00:00.000Z',
    };
    expect(
      await trunc(Object.keys(sunday), { unit: 'week', timezone: 'Europe/Berlin', startOfWeek: 'sunday' }),
    ).toEqual(sunday);
  });

  it('$dateTrunc to the month uses local month boundaries in New York and Berlin', async () => {
    const ny = {
      'ny-mar31-2330-edt': '2026-03-01T05:00:00.000Z',
      'ny-apr1-0030-edt': '2026-04-01T04:00:00.000Z',
    };
    expect(await trunc(Object.keys(ny), { unit: 'month', timezone: 'America/New_York' })).toEqual(ny);
    const be = {
      'be-mar31-2330-cest': '2026-02-28T23:00:00.000Z',
      'be-apr1-0030-cest': '2026-03-31T22:00:00.000Z',
    };
    expect(await trunc(Object.keys(be), { unit: 'month', timezone: 'Europe/Berlin' })).toEqual(be);
  });

  it('$dateTrunc to the hour honours a half-hour UTC offset such as +05:30 and the DST gap in New York', async () => {
    const india = {
      'in-thu-1450': '2026-01-15T08:30:00.000Z',
      'in-thu-1540': '2026-01-15T09:30:00.000Z',
    };
    expect(await trunc(Object.keys(india), { unit: 'hour', timezone: '+05:30' })).toEqual(india);
    const ny = {
      'ny-sun-0130-est': '2026-03-08T06:00:00.000Z',
      'ny-sun-0330-edt': '2026-03-08T07:00:00.000Z',
    };
    expect(await trunc(Object.keys(ny), { unit: 'hour', timezone: 'America/New_York' })).toEqual(ny);
  });

  it('$dateTrunc with +05:30 moves an instant that is already the next local day into that day and week', async () => {
    expect(await trunc(['in-thu-1540', 'in-fri-0030'], { unit: 'day', timezone: '+05:30' })).toEqual({
      'in-thu-1540': '2026-01-14T18:30:00.000Z',
      'in-fri-0030': '2026-01-15T18:30:00.000Z',
    });
    expect(await trunc(['in-fri-0030'], { unit: 'week', timezone: '+05:30', startOfWeek: 'monday' })).toEqual({
      'in-fri-0030': '2026-01-11T18:30:00.000Z',
    });
    expect(await trunc(['in-fri-0030'], { unit: 'week', timezone: '+05:30', startOfWeek: 'sunday' })).toEqual({
      'in-fri-0030': '2026-01-10T18:30:00.000Z',
    });
    // Without a timezone the same instant is truncated in UTC.
    expect(await trunc(['in-fri-0030'], { unit: 'day' })).toEqual({ 'in-fri-0030': '2026-01-15T00:00:00.000Z' });
    expect(await trunc(['in-fri-0030'], { unit: 'week' })).toEqual({ 'in-fri-0030': '2026-01-11T00:00:00.000Z' });
  });

  it('groups events per local New York day with $dateTrunc as the $group key', async () => {
    const nyDay: Record<string, string> = {
      'ny-sat-2330-est': '2026-03-07T05:00:00.000Z',
      'ny-sun-0030-est': '2026-03-08T05:00:00.000Z',
      'ny-sun-0130-est': '2026-03-08T05:00:00.000Z',
      'ny-sun-0330-edt': '2026-03-08T05:00:00.000Z',
      'ny-sun-0800-edt': '2026-03-08T05:00:00.000Z',
      'ny-sun-2330-edt': '2026-03-08T05:00:00.000Z',
      'ny-mon-0030-edt': '2026-03-09T04:00:00.000Z',
      'ny-tue-0800-edt': '2026-03-10T04:00:00.000Z',
    };
    const rows = await agg<{ _id: Date; n: number }>('tz', [
      { $match: { _id: { $in: Object.keys(nyDay) } } },
      { $group: { _id: { $dateTrunc: { date: '$ts', unit: 'day', timezone: 'America/New_York' } }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    const counts = new Map<string, number>();
    for (const day of Object.values(nyDay)) counts.set(day, (counts.get(day) ?? 0) + 1);
    const expected = [...counts.entries()].sort(([a], [b]) => cmp(a, b)).map(([day, n]) => ({ _id: day, n }));
    expect(rows.map((r) => ({ _id: r._id instanceof Date ? r._id.toISOString() : r._id, n: r.n }))).toEqual(expected);
  });

  it('$dateToString with format %Y-%m-%d renders the local calendar day of the given timezone', async () => {
    const rows = await agg<{ _id: string; utc: string; ny: string; be: string; india: string; nyTime: string }>('tz', [
      { $match: { _id: { $in: ['ny-sun-2330-edt', 'ny-mon-0030-edt', 'ny-sun-0330-edt', 'be-mon-0030-cest', 'in-fri-0030'] } } },
      {
        $project: {
          utc: { $dateToString: { date: '$ts', format: '%Y-%m-%d' } },
          ny: { $dateToString: { date: '$ts', format: '%Y-%m-%d', timezone: 'America/New_York' } },
          be: { $dateToString: { date: '$ts', format: '%Y-%m-%d', timezone: 'Europe/Berlin' } },
          india: { $dateToString: { date: '$ts', format: '%Y-%m-%d', timezone: '+05:30' } },
          nyTime: { $dateToString: { date: '$ts', format: '%Y-%m-%dT%H:%M', timezone: 'America/New_York' } },
        },
      },
      { $sort: { _id: 1 } },
    ]);
    expect(rows).toEqual([
      { _id: 'be-mon-0030-cest', utc: '2026-03-29', ny: '2026-03-29', be: '2026-03-30', india: '2026-03-30', nyTime: '2026-03-29T18:30' },
      { _id: 'in-fri-0030', utc: '2026-01-15', ny: '2026-01-15', be: '2026-01-15', india: '2026-01-16', nyTime: '2026-01-15T14:00' },
      { _id: 'ny-mon-0030-edt', utc: '2026-03-09', ny: '2026-03-09', be: '2026-03-09', india: '2026-03-09', nyTime: '2026-03-09T00:30' },
      { _id: 'ny-sun-0330-edt', utc: '2026-03-08', ny: '2026-03-08', be: '2026-03-08', india: '2026-03-08', nyTime: '2026-03-08T03:30' },
      { _id: 'ny-sun-2330-edt', utc: '2026-03-09', ny: '2026-03-08', be: '2026-03-09', india: '2026-03-09', nyTime: '2026-03-08T23:30' },
    ]);
  });
});

describe('$setWindowFields', () => {
  interface DailyDoc {
    _id: string;
    projectId: string;
    day: Date;
    count: number;
  }
  const DAILY: DailyDoc[] = [
    { _id: 'a1', projectId: 'p1', day: at('2026-01-01T00:00:00Z'), count: 5 },
    { _id: 'a2', projectId: 'p1', day: at('2026-01-02T00:00:00Z'), count: 3 },
    { _id: 'a3', projectId: 'p1', day: at('2026-01-04T00:00:00Z'), count: 8 },
    { _id: 'a4', projectId: 'p1', day: at('2026-01-10T00:00:00Z'), count: 1 },
    { _id: 'b1', projectId: 'p2', day: at('2026-01-01T00:00:00Z'), count: 2 },
    { _id: 'b2', projectId: 'p2', day: at('2026-01-03T00:00:00Z'), count: 7 },
  ];
  const SCORES = [
    { _id: 1, projectId: 'p1', score: 10 },
    { _id: 2, projectId: 'p1', score: 8 },
    { _id: 3, projectId: 'p1', score: 8 },
    { _id: 4, projectId: 'p1', score: 5 },
    { _id: 5, projectId: 'p2', score: 3 },
    { _id: 6, projectId: 'p2', score: 3 },
  ];

  beforeAll(async () => {
    await seed('daily', DAILY);
    await seed('scores', SCORES);
  });

  function partitions(): DailyDoc[][] {
    const projects = [...new Set(DAILY.map((d) => d.projectId))].sort();
    return projects.map((p) => DAILY.filter((d) => d.projectId === p).sort((a, b) => a.day.getTime() - b.day.getTime()));
  }

  it('computes a running total per project with $sum over documents [unbounded, current]', async () => {
    const got = await agg('daily', [
      {
        $setWindowFields: {
          partitionBy: '$projectId',
          sortBy: { day: 1 },
          output: { running: { $sum: '$count', window: { documents: ['unbounded', 'current'] } } },
        },
      },
      { $sort: { projectId: 1, day: 1 } },
      { $project: { _id: 1, running: 1 } },
    ]);
    const expected = partitions().flatMap((docs) => {
      let acc = 0;
      return docs.map((d) => ({ _id: d._id, running: (acc += d.count) }));
    });
    expect(got).toEqual(expected);
  });

  it('computes a trailing seven-day sum per project with a range window in days', async () => {
    const got = await agg('daily', [
      {
        $setWindowFields: {
          partitionBy: '$projectId',
          sortBy: { day: 1 },
          output: { last7: { $sum: '$count', window: { range: [-6, 'current'], unit: 'day' } } },
        },
      },
      { $sort: { projectId: 1, day: 1 } },
      { $project: { _id: 1, last7: 1 } },
    ]);
    const DAY = 86_400_000;
    const expected = partitions().flatMap((docs) =>
      docs.map((d) => ({
        _id: d._id,
        last7: sum(docs.filter((o) => o.day.getTime() >= d.day.getTime() - 6 * DAY && o.day <= d.day).map((o) => o.count)),
      })),
    );
    expect(got).toEqual(expected);
  });

  it('$shift reads the previous and next value within each project partition, with defaults at the edges', async () => {
    const got = await agg('daily', [
      {
        $setWindowFields: {
          partitionBy: '$projectId',
          sortBy: { day: 1 },
          output: {
            prev: { $shift: { output: '$count', by: -1, default: 0 } },
            next: { $shift: { output: '$count', by: 1 } },
          },
        },
      },
      { $sort: { projectId: 1, day: 1 } },
      { $project: { _id: 1, prev: 1, next: 1 } },
    ]);
    const expected = partitions().flatMap((docs) =>
      docs.map((d, i) => ({ _id: d._id, prev: docs[i - 1]?.count ?? 0, next: docs[i + 1]?.count ?? null })),
    );
    expect(got).toEqual(expected);
  });

  it('$rank gives tied scores the same rank and skips the following ranks', async () => {
    const got = await agg('scores', [
      { $setWindowFields: { partitionBy: '$projectId', sortBy: { score: -1 }, output: { rank: { $rank: {} } } } },
      { $sort: { _id: 1 } },
      { $project: { _id: 1, rank: 1 } },
    ]);
    const expected = SCORES.map((s) => ({
      _id: s._id,
      rank: 1 + SCORES.filter((o) => o.projectId === s.projectId && o.score > s.score).length,
    }));
    expect(got).toEqual(expected);
  });
});

describe('$lookup', () => {
  it('joins users by localField/foreignField, matching every user with the same distinctId', async () => {
    const got = await agg<{ _id: number; userIds: string[] }>('events', [
      { $lookup: { from: 'users', localField: 'distinctId', foreignField: 'distinctId', as: 'user' } },
      { $project: { userIds: '$user._id' } },
      { $sort: { _id: 1 } },
    ]);
    const expected = [...EVENTS]
      .sort((a, b) => a._id - b._id)
      .map((e) => ({ _id: e._id, userIds: USERS.filter((u) => u.distinctId === e.distinctId).map((u) => u._id).sort() }));
    expect(got.map((g) => ({ _id: g._id, userIds: [...g.userIds].sort() }))).toEqual(expected);
  });

  it('joins with let and a pipeline that matches on both projectId and distinctId', async () => {
    const got = await agg<{ _id: number; user: { country: string }[] }>('events', [
      {
        $lookup: {
          from: 'users',
          let: { pid: '$projectId', did: '$distinctId' },
          pipeline: [
            { $match: { $expr: { $and: [{ $eq: ['$projectId', '$$pid'] }, { $eq: ['$distinctId', '$$did'] }] } } },
            { $project: { _id: 0, country: 1 } },
          ],
          as: 'user',
        },
      },
      { $project: { user: 1 } },
      { $sort: { _id: 1 } },
    ]);
    const expected = [...EVENTS]
      .sort((a, b) => a._id - b._id)
      .map((e) => ({
        _id: e._id,
        user: USERS.filter((u) => u.projectId === e.projectId && u.distinctId === e.distinctId).map((u) => ({ country: u.country })),
      }));
    expect(got).toEqual(expected);
  });

  it('runs an aggregating sub-pipeline per user to count that user’s events', async () => {
    const got = await agg<{ _id: string; n: number }>('users', [
      {
        $lookup: {
          from: 'events',
          let: { pid: '$projectId', did: '$distinctId' },
          pipeline: [
            { $match: { $expr: { $and: [{ $eq: ['$projectId', '$$pid'] }, { $eq: ['$distinctId', '$$did'] }] } } },
            { $count: 'n' },
          ],
          as: 'activity',
        },
      },
      { $project: { n: { $ifNull: [{ $arrayElemAt: ['$activity.n', 0] }, 0] } } },
      { $sort: { _id: 1 } },
    ]);
    const expected = [...USERS]
      .sort((a, b) => (a._id < b._id ? -1 : 1))
      .map((u) => ({ _id: u._id, n: EVENTS.filter((e) => e.projectId === u.projectId && e.distinctId === u.distinctId).length }));
    expect(got).toEqual(expected);
  });

  it('treats a missing localField as null, matching foreign documents whose field is null or missing, and matches array elements', async () => {
    await seed('lk_local', [{ _id: 1, k: 'a' }, { _id: 2 }, { _id: 3, k: ['a', 'b'] }]);
    await seed('lk_foreign', [{ _id: 'x', k: 'a' }, { _id: 'y', k: null }, { _id: 'z' }, { _id: 'w', k: 'b' }]);
    const got = await agg<{ _id: number; hits: string[] }>('lk_local', [
      { $lookup: { from: 'lk_foreign', localField: 'k', foreignField: 'k', as: 'hits' } },
      { $project: { hits: '$hits._id' } },
      { $sort: { _id: 1 } },
    ]);
    expect(got.map((g) => ({ _id: g._id, hits: [...g.hits].sort() }))).toEqual([
      { _id: 1, hits: ['x'] },
      { _id: 2, hits: ['y', 'z'] },
      { _id: 3, hits: ['w', 'x'] },
    ]);
  });
});

describe('$lookup with localField/foreignField and a pipeline', () => {
  beforeAll(async () => {
    await seed('lkp_local', [{ _id: 1, k: 'a', min: 2 }, { _id: 2 }, { _id: 3, k: ['a', 'b'], min: 0 }, { _id: 4, k: null, min: 0 }, { _id: 5, k: 'nope' }]);
    await seed('lkp_foreign', [
      { _id: 'x', k: 'a', n: 1 },
      { _id: 'y', k: null, n: 2 },
      { _id: 'z', n: 3 },
      { _id: 'w', k: 'b', n: 4 },
      { _id: 'v', k: 'a', n: 5 },
      { _id: 'u', k: ['b', 'c'], n: 6 },
    ]);
  });

  /** The classic form's matches, sorted by _id, for comparison. */
  async function classic(): Promise<Map<number, AnyDoc[]>> {
    const got = await agg<{ _id: number; hits: AnyDoc[] }>('lkp_local', [{ $lookup: { from: 'lkp_foreign', localField: 'k', foreignField: 'k', as: 'hits' } }]);
    return new Map(got.map((g) => [g._id, [...g.hits].sort((a, b) => String(a._id).localeCompare(String(b._id)))]));
  }

  it('runs the pipeline on the matching foreign documents only, as the form without a pipeline matches them', async () => {
    const got = await agg<{ _id: number; hits: AnyDoc[] }>('lkp_local', [
      { $lookup: { from: 'lkp_foreign', localField: 'k', foreignField: 'k', pipeline: [{ $sort: { _id: 1 } }], as: 'hits' } },
      { $sort: { _id: 1 } },
    ]);
    const expected = await classic();
    expect(got.map((g) => [g._id, g.hits])).toEqual([...expected].sort((a, b) => a[0] - b[0]));
    // Spelled out: missing and null match null/missing, arrays match on any element, nothing matches 'nope'.
    expect(got.map((g) => g.hits.map((h) => h._id))).toEqual([['v', 'x'], ['y', 'z'], ['u', 'v', 'w', 'x'], ['y', 'z'], []]);
  });

  it('evaluates let variables per input document inside the pipeline, and still runs a pipeline over no matches', async () => {
    const got = await agg<{ _id: number; hits: unknown[] }>('lkp_local', [
      {
        $lookup: {
          from: 'lkp_foreign',
          localField: 'k',
          foreignField: 'k',
          let: { min: '$min' },
          pipeline: [{ $match: { $expr: { $gte: ['$n', '$$min'] } } }, { $sort: { _id: 1 } }, { $group: { _id: null, ids: { $push: '$_id' } } }, { $project: { _id: 0, ids: 1 } }],
          as: 'hits',
        },
      },
      { $sort: { _id: 1 } },
    ]);
    // $$min is missing for _id 2 and 5: every number compares greater than a missing value.
    expect(got.map((g) => g.hits)).toEqual([[{ ids: ['v'] }], [{ ids: ['y', 'z'] }], [{ ids: ['u', 'v', 'w', 'x'] }], [{ ids: ['y', 'z'] }], []]);
    const counted = await agg<{ _id: number; hits: unknown[] }>('lkp_local', [
      { $match: { _id: 5 } },
      { $lookup: { from: 'lkp_foreign', localField: 'k', foreignField: 'k', pipeline: [{ $facet: { n: [{ $count: 'n' }] } }], as: 'hits' } },
    ]);
    expect(counted).toEqual([{ _id: 5, k: 'nope', hits: [{ n: [] }] }]);
  });
});

describe('$facet, $unwind, $bucket, $bucketAuto and $sortByCount', () => {
  it('$facet runs independent sub-pipelines and returns them in one document', async () => {
    const got = await agg('events', [
      { $match: { projectId: 'p1' } },
      {
        $facet: {
          byEvent: [{ $sortByCount: '$event' }],
          total: [{ $count: 'n' }],
          latest: [{ $sort: { timestamp: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }],
          none: [{ $match: { event: 'nonexistent' } }, { $count: 'n' }],
        },
      },
    ]);
    const p1 = EVENTS.filter((e) => e.projectId === 'p1');
    const counts = new Map<string, number>();
    for (const e of p1) counts.set(e.event, (counts.get(e.event) ?? 0) + 1);
    const latest = [...p1].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())[0]!;
    expect(got).toEqual([
      {
        byEvent: [...counts.entries()].sort(([, a], [, b]) => b - a).map(([_id, count]) => ({ _id, count })),
        total: [{ n: p1.length }],
        latest: [{ _id: latest._id }],
        none: [],
      },
    ]);
  });

  it('$sortByCount orders event names by descending frequency', async () => {
    const got = await agg('events', [{ $sortByCount: '$event' }]);
    const counts = new Map<string, number>();
    for (const e of EVENTS) counts.set(e.event, (counts.get(e.event) ?? 0) + 1);
    expect(new Set(counts.values()).size).toBe(counts.size); // no ties, so the order is fully defined
    expect(got).toEqual([...counts.entries()].sort(([, a], [, b]) => b - a).map(([_id, count]) => ({ _id, count })));
  });

  describe('$unwind', () => {
    beforeAll(async () => {
      await seed('unwind', [
        { _id: 1, tags: ['a', 'b', 'c'] },
        { _id: 2, tags: [] },
        { _id: 3, tags: 'solo' },
        { _id: 4 },
        { _id: 5, tags: null },
      ]);
    });

    it('emits one document per element, treats a scalar as a one-element array and skips null, missing and empty arrays', async () => {
      expect(await agg('unwind', [{ $sort: { _id: 1 } }, { $unwind: '$tags' }])).toEqual([
        { _id: 1, tags: 'a' },
        { _id: 1, tags: 'b' },
        { _id: 1, tags: 'c' },
        { _id: 3, tags: 'solo' },
      ]);
    });

    it('includeArrayIndex records the element index, and null for a scalar', async () => {
      expect(
        await agg('unwind', [{ $sort: { _id: 1 } }, { $unwind: { path: '$tags', includeArrayIndex: 'idx' } }]),
      ).toEqual([
        { _id: 1, tags: 'a', idx: 0 },
        { _id: 1, tags: 'b', idx: 1 },
        { _id: 1, tags: 'c', idx: 2 },
        { _id: 3, tags: 'solo', idx: null },
      ]);
    });

    it('unwinds a nested array of stored documents, lets later stages change the copies and leaves the stored documents as they were', async () => {
      await seed('unwind_nested', [
        { _id: 1, a: { b: [1, 2], keep: 'x' }, n: 1 },
        { _id: 2, a: { b: 3, keep: 'y' }, n: 2 },
      ]);
      const pipeline = [{ $sort: { _id: 1 } }, { $unwind: '$a.b' }, { $addFields: { 'a.seen': true, n: { $add: ['$n', 10] } } }];
      const expected = [
        { _id: 1, a: { b: 1, keep: 'x', seen: true }, n: 11 },
        { _id: 1, a: { b: 2, keep: 'x', seen: true }, n: 11 },
        { _id: 2, a: { b: 3, keep: 'y', seen: true }, n: 12 },
      ];
      expect(await agg('unwind_nested', pipeline)).toEqual(expected);
      expect(await agg('unwind_nested', pipeline)).toEqual(expected);
      expect(await agg('unwind_nested', [{ $unwind: '$a.b' }, { $group: { _id: '$_id', bs: { $push: '$a.b' } } }, { $sort: { _id: 1 } }])).toEqual([
        { _id: 1, bs: [1, 2] },
        { _id: 2, bs: [3] },
      ]);
      expect(await coll('unwind_nested').find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, a: { b: [1, 2], keep: 'x' }, n: 1 },
        { _id: 2, a: { b: 3, keep: 'y' }, n: 2 },
      ]);
    });

    it('preserveNullAndEmptyArrays keeps documents with null, missing or empty arrays, removing an empty array field', async () => {
      expect(
        await agg('unwind', [
          { $sort: { _id: 1 } },
          { $unwind: { path: '$tags', includeArrayIndex: 'idx', preserveNullAndEmptyArrays: true } },
        ]),
      ).toEqual([
        { _id: 1, tags: 'a', idx: 0 },
        { _id: 1, tags: 'b', idx: 1 },
        { _id: 1, tags: 'c', idx: 2 },
        { _id: 2, idx: null },
        { _id: 3, tags: 'solo', idx: null },
        { _id: 4, idx: null },
        { _id: 5, tags: null, idx: null },
      ]);
    });
  });

  it('$bucket groups durations by boundaries, sends values outside them (and missing ones) to the default bucket, and sorts by _id', async () => {
    const got = await agg('events', [
      { $sort: { _id: 1 } },
      {
        $bucket: {
          groupBy: '$properties.duration',
          boundaries: [0, 20, 60],
          default: 'other',
          output: { count: { $sum: 1 }, ids: { $push: '$_id' } },
        },
      },
    ]);
    const sorted = [...EVENTS].sort((a, b) => a._id - b._id);
    const inRange = (lo: number, hi: number) =>
      sorted.filter((e) => typeof e.properties.duration === 'number' && e.properties.duration >= lo && e.properties.duration < hi);
    const b0 = inRange(0, 20);
    const b20 = inRange(20, 60);
    const other = sorted.filter((e) => !b0.includes(e) && !b20.includes(e));
    expect(got).toEqual([
      { _id: 0, count: b0.length, ids: ids(b0) },
      { _id: 20, count: b20.length, ids: ids(b20) },
      { _id: 'other', count: other.length, ids: ids(other) },
    ]);
  });

  it('$bucketAuto splits eight values into four equally filled buckets with min/max bounds', async () => {
    await seed('bucket_auto', [1, 2, 3, 4, 5, 6, 7, 8].map((v) => ({ _id: v, v })));
    expect(await agg('bucket_auto', [{ $bucketAuto: { groupBy: '$v', buckets: 4 } }])).toEqual([
      { _id: { min: 1, max: 3 }, count: 2 },
      { _id: { min: 3, max: 5 }, count: 2 },
      { _id: { min: 5, max: 7 }, count: 2 },
      { _id: { min: 7, max: 8 }, count: 2 },
    ]);
  });
});

describe('$merge and $out', () => {
  /** The documents the summary pipeline produces, computed in plain JS. */
  function summary(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const e of EVENTS) {
      const key = `${e.projectId}:${e.event}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
  const summaryPipeline: Document[] = [
    { $group: { _id: { p: '$projectId', e: '$event' }, count: { $sum: 1 } } },
    { $project: { _id: 0, key: { $concat: ['$_id.p', ':', '$_id.e'] }, count: 1 } },
  ];

  async function prepareTarget(name: string, docs: AnyDoc[]): Promise<void> {
    await coll(name).createIndex({ key: 1 }, { unique: true });
    if (docs.length > 0) await coll(name).insertMany(docs);
  }
  async function contents(name: string): Promise<Document[]> {
    return coll(name).find().sort({ key: 1 }).toArray();
  }

  it('$merge on a unique non-_id field with whenMatched replace and whenNotMatched insert replaces matches and inserts the rest', async () => {
    await prepareTarget('merge_replace', [
      { _id: 'old-1', key: 'p1:pageview', count: -1, note: 'stale' },
      { _id: 'old-2', key: 'p9:ghost', count: 7 },
    ]);
    const out = await agg('events', [
      ...summaryPipeline,
      { $merge: { into: 'merge_replace', on: 'key', whenMatched: 'replace', whenNotMatched: 'insert' } },
    ]);
    expect(out).toEqual([]);

    const got = await contents('merge_replace');
    const expected = [...summary().entries(), ['p9:ghost', 7] as const].sort(([a], [b]) => cmp(a, b));
    expect(got.map((d) => ({ key: d.key, count: d.count }))).toEqual(expected.map(([key, count]) => ({ key, count })));
    // The matched document keeps its _id and loses fields absent from the replacement.
    expect(got.find((d) => d.key === 'p1:pageview')).toEqual({ _id: 'old-1', key: 'p1:pageview', count: summary().get('p1:pageview') });
    expect(got.find((d) => d.key === 'p9:ghost')).toEqual({ _id: 'old-2', key: 'p9:ghost', count: 7 });
    // Inserted documents got a generated ObjectId because the results had no _id.
    for (const d of got.filter((x) => x._id !== 'old-1' && x._id !== 'old-2')) expect(d._id).toBeInstanceOf(ObjectId);
  });

  it('$merge with whenMatched merge keeps existing fields and overwrites the ones present in the result', async () => {
    await prepareTarget('merge_merge', [{ _id: 'm1', key: 'p1:pageview', count: -1, note: 'kept' }]);
    await agg('events', [...summaryPipeline, { $merge: { into: 'merge_merge', on: 'key', whenMatched: 'merge', whenNotMatched: 'insert' } }]);
    const got = await contents('merge_merge');
    expect(got).toHaveLength(summary().size);
    expect(got.find((d) => d.key === 'p1:pageview')).toEqual({
      _id: 'm1',
      key: 'p1:pageview',
      count: summary().get('p1:pageview'),
      note: 'kept',
    });
  });

  it('$merge with whenMatched keepExisting and whenNotMatched discard leaves the target exactly as it was', async () => {
    const before = [
      { _id: 'k1', key: 'p1:pageview', count: -1 },
      { _id: 'k2', key: 'zz:other', count: 3 },
    ];
    await prepareTarget('merge_keep', before);
    await agg('events', [
      ...summaryPipeline,
      { $merge: { into: 'merge_keep', on: 'key', whenMatched: 'keepExisting', whenNotMatched: 'discard' } },
    ]);
    expect(await contents('merge_keep')).toEqual(before);
  });

  it('$merge on _id into a new collection inserts every result document', async () => {
    await agg('events', [{ $match: { projectId: 'p2' } }, { $merge: { into: 'merge_new' } }]);
    const got = await coll('merge_new').find().sort({ _id: 1 }).toArray();
    expect(got).toEqual(EVENTS.filter((e) => e.projectId === 'p2').sort((a, b) => a._id - b._id));
  });

  it('$merge on a field without a unique index fails with a MongoServerError and writes nothing', async () => {
    await coll('merge_no_index').insertOne({ _id: 'only', key: 'p1:pageview', count: -1 });
    const err = await agg('events', [...summaryPipeline, { $merge: { into: 'merge_no_index', on: 'key' } }]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await coll('merge_no_index').find().toArray()).toEqual([{ _id: 'only', key: 'p1:pageview', count: -1 }]);
  });

  it('$out replaces the whole target collection with the results and keeps its existing indexes', async () => {
    const target = coll('out_target');
    await target.insertMany([{ _id: 'stale-1' }, { _id: 'stale-2' }]);
    await target.createIndex({ projectId: 1 }, { name: 'by_project' });

    const out = await agg('events', [{ $match: { projectId: 'p2' } }, { $out: 'out_target' }]);
    expect(out).toEqual([]);
    expect(await target.find().sort({ _id: 1 }).toArray()).toEqual(
      EVENTS.filter((e) => e.projectId === 'p2').sort((a, b) => a._id - b._id),
    );
    const indexNames = (await target.listIndexes().toArray()).map((i) => i.name as string);
    expect(indexNames).toContain('by_project');
  });

  it('keeps $merge and $out results, and the unique index, after the store restarts on the same data directory', async () => {
    await prepareTarget('persist_merge', [{ _id: 'pm', key: 'p1:signup', count: 0, note: 'kept' }]);
    await agg('events', [...summaryPipeline, { $merge: { into: 'persist_merge', on: 'key', whenMatched: 'merge' } }]);
    await coll('persist_out').insertOne({ _id: 'stale' });
    await agg('events', [{ $match: { projectId: 'p1' } }, { $project: { event: 1 } }, { $out: 'persist_out' }]);

    const expectedOut = EVENTS.filter((e) => e.projectId === 'p1')
      .sort((a, b) => a._id - b._id)
      .map((e) => ({ _id: e._id, event: e.event }));
    const expectedMerge = [...summary().entries()].sort(([a], [b]) => cmp(a, b)).map(([key, count]) => ({ key, count }));
    const mergeBefore = await contents('persist_merge');
    expect(mergeBefore.map((d) => ({ key: d.key, count: d.count }))).toEqual(expectedMerge);

    const dataDir = ts.dataDir;
    await ts.stop();
    ts = await startTestStore({ dataDir });

    expect(await coll('persist_out').find().sort({ _id: 1 }).toArray()).toEqual(expectedOut);
    const mergeAfter = await contents('persist_merge');
    expect(mergeAfter).toEqual(mergeBefore);
    expect(mergeAfter.find((d) => d.key === 'p1:signup')).toMatchObject({ _id: 'pm', note: 'kept' });
    const unique = (await coll('persist_merge').listIndexes().toArray()).find((i) => i.key?.key === 1);
    expect(unique?.unique).toBe(true);
  });
});

describe('cursor batching', () => {
  it('returns all 3,000 results of an aggregate read with batchSize 100 exactly once and in order', async () => {
    const N = 3000;
    const docs = Array.from({ length: N }, (_, i) => ({ _id: i, seq: i }));
    await coll('many').insertMany(shuffled(docs));

    const monitored = new MongoClient(ts.store.url, { monitorCommands: true, serverSelectionTimeoutMS: 5_000 });
    const getMoreBatchSizes: unknown[] = [];
    let firstBatchLength = -1;
    monitored.on('commandStarted', (ev) => {
      if (ev.commandName === 'getMore') getMoreBatchSizes.push(ev.command.batchSize);
    });
    monitored.on('commandSucceeded', (ev) => {
      if (ev.commandName === 'aggregate') firstBatchLength = (ev.reply as Document).cursor?.firstBatch?.length ?? -1;
    });
    try {
      await monitored.connect();
      const cursor = monitored
        .db(DB_NAME)
        .collection('many')
        .aggregate<{ _id: number; seq: number }>([{ $sort: { seq: -1 } }, { $project: { seq: 1 } }], { batchSize: 100 });
      const seen: number[] = [];
      for await (const d of cursor) seen.push(d.seq);

      expect(seen).toHaveLength(N);
      expect(new Set(seen).size).toBe(N);
      expect(seen).toEqual(docs.map((d) => d.seq).reverse());
      expect(firstBatchLength).toBe(100);
      expect(getMoreBatchSizes.length).toBeGreaterThanOrEqual(N / 100 - 1);
      for (const size of getMoreBatchSizes) expect(Number(size)).toBe(100);
    } finally {
      await monitored.close();
    }
  });
});

describe('errors', () => {
  it('answers an unknown pipeline stage with a MongoServerError and keeps serving this and new connections', async () => {
    const err = await agg('events', [{ $match: {} }, { $frobnicate: { x: 1 } }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(String((err as Error).message)).toContain('$frobnicate');

    // Same client, next command.
    expect(await db().command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await agg('events', [{ $count: 'n' }])).toEqual([{ n: EVENTS.length }]);
    // A brand-new connection also works: the store did not crash.
    const fresh = new MongoClient(ts.store.url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await fresh.connect();
      expect(await fresh.db(DB_NAME).collection('events').countDocuments()).toBe(EVENTS.length);
    } finally {
      await fresh.close();
    }
    // MongoDB: 40324 "Unrecognized pipeline stage name".
    expect((err as MongoServerError).code).toBe(40324);
  });

  it('answers an unknown expression operator with a MongoServerError (InvalidPipelineOperator)', async () => {
    const err = await agg('events', [{ $project: { x: { $frobnicate: '$event' } } }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await db().command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect((err as MongoServerError).code).toBe(168);
  });

  it('answers $replaceRoot with a non-object newRoot with a MongoServerError', async () => {
    const err = await agg('events', [{ $replaceRoot: { newRoot: '$properties.missingField' } }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await db().command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});

describe('MongoDB semantics where mingo differs', () => {
  const OID = new ObjectId('65a000000000000000000001');
  const MIXED: AnyDoc[] = [
    { _id: 1, v: true },
    { _id: 2, v: 'b' },
    { _id: 3, v: 3 },
    { _id: 4, v: { a: 1 } },
    { _id: 5, v: OID },
    { _id: 6, v: at('2026-01-01T00:00:00Z') },
    { _id: 7, v: null },
    { _id: 8 },
    { _id: 9, v: 'a' },
    { _id: 10, v: 1.5 },
    { _id: 11, v: [20, 'x'] },
    { _id: 12, v: false },
  ];

  beforeAll(async () => {
    await seed('mixed', MIXED);
    await seed('nullish', [{ _id: 1, k: 'a' }, { _id: 2, k: null }, { _id: 3 }, { _id: 4, k: 'a' }]);
  });

  it('$group puts documents with a missing or null key into one group with _id null', async () => {
    expect(
      await agg('nullish', [{ $sort: { _id: 1 } }, { $group: { _id: '$k', n: { $sum: 1 }, ids: { $push: '$_id' } } }, { $sort: { _id: 1 } }]),
    ).toEqual([
      { _id: null, n: 2, ids: [2, 3] },
      { _id: 'a', n: 2, ids: [1, 4] },
    ]);
    // Same on the event data: event 6 has no plan.
    const byPlan = await agg('events', [{ $group: { _id: '$properties.plan', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
    const plans = new Map<string | null, number>();
    for (const e of EVENTS) {
      const plan = (e.properties.plan as string | undefined) ?? null;
      plans.set(plan, (plans.get(plan) ?? 0) + 1);
    }
    const expected = [...plans.entries()]
      .sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : cmp(a, b)))
      .map(([_id, n]) => ({ _id, n }));
    expect(byPlan).toEqual(expected);
  });

  it('$sort orders mixed types by BSON order: null/missing < numbers < strings < objects < ObjectId < booleans < dates', async () => {
    // Arrays sort by their smallest element ascending ([20, 'x'] -> 20) and by their largest descending (-> 'x').
    const asc = await agg('mixed', [{ $sort: { v: 1, _id: 1 } }, { $project: { _id: 1 } }]);
    expect(ids(asc)).toEqual([7, 8, 10, 3, 11, 9, 2, 4, 5, 12, 1, 6]);
    const desc = await agg('mixed', [{ $sort: { v: -1, _id: 1 } }, { $project: { _id: 1 } }]);
    expect(ids(desc)).toEqual([6, 1, 12, 5, 4, 11, 2, 9, 3, 10, 7, 8]);
  });

  it('$min and $max in $group compare whole values across types in BSON order and ignore null and missing', async () => {
    const minMax = async (idList: number[]) =>
      (await agg('mixed', [{ $match: { _id: { $in: idList } } }, { $group: { _id: null, lo: { $min: '$v' }, hi: { $max: '$v' } } }]))[0];
    // numbers < strings < objects < arrays
    expect(await minMax([2, 3, 4, 9, 10, 11])).toEqual({ _id: null, lo: 1.5, hi: [20, 'x'] });
    // ObjectId < booleans < dates
    expect(await minMax([1, 5, 6, 12])).toEqual({ _id: null, lo: OID, hi: at('2026-01-01T00:00:00Z') });
    // strings < objects < ObjectId
    expect(await minMax([2, 4, 5])).toEqual({ _id: null, lo: 'b', hi: OID });
    // null and missing are ignored when other values exist
    expect(await minMax([3, 7, 8])).toEqual({ _id: null, lo: 3, hi: 3 });
  });

  it('$sum ignores non-numeric values (giving 0 when there are none) and $avg of no numeric values is null', async () => {
    const numeric = MIXED.map((d) => d.v).filter((v): v is number => typeof v === 'number');
    expect(
      await agg('mixed', [{ $group: { _id: null, s: { $sum: '$v' }, a: { $avg: '$v' } } }]),
    ).toEqual([{ _id: null, s: sum(numeric), a: sum(numeric) / numeric.length }]);
    expect(
      await agg('mixed', [{ $match: { _id: { $in: [2, 4, 7, 8, 9] } } }, { $group: { _id: null, s: { $sum: '$v' }, a: { $avg: '$v' } } }]),
    ).toEqual([{ _id: null, s: 0, a: null }]);
    // As an expression (not an accumulator) $sum of an array adds its numeric elements.
    expect(await agg('mixed', [{ $match: { _id: 11 } }, { $project: { s: { $sum: '$v' } } }])).toEqual([{ _id: 11, s: 20 }]);
  });

  it('$addToSet collects each distinct value once, including equal embedded documents, in no particular order', async () => {
    const got = await agg<{ _id: string; browsers: string[]; combos: { plan?: string; browser: string }[] }>('events', [
      {
        $group: {
          _id: '$projectId',
          browsers: { $addToSet: '$properties.browser' },
          combos: { $addToSet: { plan: '$properties.plan', browser: '$properties.browser' } },
        },
      },
      { $sort: { _id: 1 } },
    ]);
    const projects = [...new Set(EVENTS.map((e) => e.projectId))].sort();
    const key = (c: object) => JSON.stringify(Object.entries(c).sort());
    const expected = projects.map((p) => {
      const list = EVENTS.filter((e) => e.projectId === p);
      const combos = new Map<string, object>();
      for (const e of list) {
        // An object expression omits fields whose value is missing.
        const c = e.properties.plan === undefined ? { browser: e.properties.browser } : { plan: e.properties.plan, browser: e.properties.browser };
        combos.set(key(c), c);
      }
      return {
        _id: p,
        browsers: [...new Set(list.map((e) => e.properties.browser as string))].sort(),
        combos: [...combos.keys()].sort(),
      };
    });
    expect(
      got.map((g) => ({ _id: g._id, browsers: [...g.browsers].sort(), combos: g.combos.map(key).sort() })),
    ).toEqual(expected);
  });
});
