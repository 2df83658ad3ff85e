/**
 * Insight-style aggregation pipelines on the embedded store, through the official driver, against a floor:
 * the same answer computed in plain JavaScript over the same documents fetched once.
 *
 *   npx tsx scripts/bench/aggregate.ts                          # 1,000,000 events (the size the targets are set for)
 *   npx tsx scripts/bench/aggregate.ts --events 200000          # quick run
 *   npx tsx scripts/bench/aggregate.ts --keep /tmp/agg-1m       # load once into that dir, reuse it on later runs
 *   node --cpu-prof --import tsx scripts/bench/aggregate.ts --keep /tmp/agg-1m --only a,d
 *
 * Options (argv `--name value` or `--name=value`, or env BENCH_<NAME>):
 *   --events  events to load (default 1000000)
 *   --runs    runs per pipeline, the median is reported (default 5)
 *   --keep    data directory to keep and reuse (loaded only when it holds fewer events than asked)
 *   --only    comma-separated pipeline letters to run (default all)
 *   --no-floor  skip the plain-JavaScript floor
 *   --profile FILE  write a CPU profile (.cpuprofile) of the pipeline runs only, not of loading or recovery
 *
 * Targets (1M events): (a) ≤ 1 s; funnels/retention (d, e) ≤ 2 s. Not part of the test suite.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { MongoClient, ObjectId, type Db, type Document } from 'mongodb';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import { ensureIndexes } from '../../src/db/indexes.ts';
import { prng } from '../lib/prng.ts';
import { intOption, option } from './lib/options.ts';

const EVENTS = intOption('events', 1_000_000);
const RUNS = intOption('runs', 5);
const KEEP = option('keep');
const ONLY = option('only')?.split(',');
const FLOOR = option('no-floor') === undefined;
const PROFILE = option('profile');

const PROJECT = 'proj_bench';
const OTHER_PROJECT = 'proj_other';
const DISTINCT_IDS = 20_000;
const PERSONS = 15_000;
const DAY = 86_400_000;
const END = Date.UTC(2026, 5, 1);
const START = END - 90 * DAY;
const FROM = new Date(END - 30 * DAY);
const TO = new Date(END);
const TZ = 'America/New_York';
const FUNNEL = ['$pageview', 'added_to_cart', 'purchase'];
const FUNNEL_WINDOW_MS = 7 * DAY;
const BATCH = 10_000;
const IN_FLIGHT = 2;

const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (n: number) => `${fmt(n, n < 10 ? 1 : 0)} ms`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------- data

const EVENT_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['$pageview', 35], ['$autocapture', 20], ['$pageleave', 12], ['button_clicked', 8], ['signed_up', 3],
  ['logged_in', 7], ['search', 6], ['added_to_cart', 5], ['purchase', 2], ['$identify', 2],
];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Opera', 'Samsung Internet', 'Brave', 'Vivaldi'];
const OSES = ['Windows', 'Mac OS X', 'iOS', 'Android', 'Linux'];
const PATHS = Array.from({ length: 60 }, (_, i) => `/page/${i}`);

function pick<T>(rand: () => number, items: ReadonlyArray<readonly [T, number]>): T {
  let r = rand() * items.reduce((s, [, w]) => s + w, 0);
  for (const [item, w] of items) if ((r -= w) < 0) return item;
  return items[items.length - 1]![0];
}

/** The person a distinct id belongs to: the first 15,000 are their own, the rest are merged into earlier ones. */
const personOf = (i: number) => (i < PERSONS ? i : (i * 7919) % PERSONS);
const distinctIdOf = (i: number) => `user_${i}`;

function makeEvent(rand: () => number, i: number): Document {
  const project = i % 10 === 9 ? OTHER_PROJECT : PROJECT;
  // Skewed activity: low ids are more active, as real users are.
  const user = Math.floor(DISTINCT_IDS * rand() ** 1.5);
  const timestamp = new Date(START + Math.floor(rand() * 90 * DAY));
  const properties: Document = {
    $browser: BROWSERS[Math.floor(BROWSERS.length * rand() ** 2)],
    $os: OSES[Math.floor(OSES.length * rand())],
    $current_url: `https://example.com${PATHS[Math.floor(PATHS.length * rand())]}`,
    $pathname: PATHS[Math.floor(PATHS.length * rand())],
    $screen_width: 1280 + Math.floor(rand() * 4) * 160,
    $screen_height: 720 + Math.floor(rand() * 4) * 90,
    $lib: 'web',
    $lib_version: '1.130.0',
    $device_type: rand() < 0.7 ? 'Desktop' : 'Mobile',
    $referrer: rand() < 0.5 ? '$direct' : 'https://google.com',
    $referring_domain: rand() < 0.5 ? '$direct' : 'google.com',
    plan: rand() < 0.7 ? 'free' : 'pro',
    $geoip_country_code: ['US', 'DE', 'FR', 'GB', 'IN', 'BR'][Math.floor(rand() * 6)],
    $geoip_city_name: `City ${Math.floor(rand() * 200)}`,
  };
  const extra = 6 + Math.floor(rand() * 20);
  for (let k = 0; k < extra; k++) properties[`prop_${k}`] = k % 3 === 0 ? Math.floor(rand() * 1000) : `value_${Math.floor(rand() * 50)}`;
  return {
    _id: new ObjectId(),
    projectId: project,
    uuid: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    event: pick(rand, EVENT_NAMES),
    distinctId: distinctIdOf(user),
    timestamp,
    properties,
    ...(rand() < 0.8 ? { sessionId: `s_${user}_${Math.floor((timestamp.getTime() - START) / DAY)}` } : {}),
    createdAt: timestamp,
  };
}

async function load(db: Db, existing: number): Promise<void> {
  await ensureIndexes(db);
  if (existing === 0) {
    const pdis = Array.from({ length: DISTINCT_IDS }, (_, i) => ({
      projectId: PROJECT,
      distinctId: distinctIdOf(i),
      personId: `person_${personOf(i)}`,
    }));
    await db.collection('personDistinctIds').insertMany(pdis, { ordered: false });
  }
  const rand = prng(42);
  // Skip what an earlier, smaller load already inserted, so the sequence stays the same.
  for (let i = 0; i < existing; i++) makeEvent(rand, i);
  const started = performance.now();
  let next = existing;
  let done = 0;
  let lastReport = started;
  const worker = async () => {
    while (next < EVENTS) {
      const from = next;
      next = Math.min(EVENTS, next + BATCH);
      const batch: Document[] = [];
      for (let i = from; i < next; i++) batch.push(makeEvent(rand, i));
      await db.collection('events').insertMany(batch, { ordered: false });
      done += batch.length;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        log(`  … ${fmt(existing + done)} events (${fmt(done / ((lastReport - started) / 1000))}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const secs = (performance.now() - started) / 1000;
  if (done) log(`loaded ${fmt(done)} events in ${fmt(secs, 1)} s: ${fmt(done / secs)} events/s (batches of ${fmt(BATCH)}, unordered, ${IN_FLIGHT} in flight)`);
}

// ---------------------------------------------------------------------------------------------- pipelines

const dayOf = { $dateTrunc: { date: '$timestamp', unit: 'day', timezone: TZ } };
const weekOf = { $dateTrunc: { date: '$timestamp', unit: 'week', timezone: TZ, startOfWeek: 'monday' } };
const lookupPerson = { $lookup: { from: 'personDistinctIds', localField: 'distinctId', foreignField: 'distinctId', as: 'p' } };

const PIPELINES: Record<string, { title: string; pipeline: Document[] }> = {
  a: {
    title: '30-day daily trend: count + unique distinct ids',
    pipeline: [
      { $match: { projectId: PROJECT, event: '$pageview', timestamp: { $gte: FROM, $lt: TO } } },
      { $group: { _id: dayOf, count: { $sum: 1 }, ids: { $addToSet: '$distinctId' } } },
      { $project: { _id: 0, day: '$_id', count: 1, unique: { $size: '$ids' } } },
      { $sort: { day: 1 } },
    ],
  },
  b: {
    title: 'same, broken down by $browser (top 25)',
    pipeline: [
      { $match: { projectId: PROJECT, event: '$pageview', timestamp: { $gte: FROM, $lt: TO } } },
      { $group: { _id: { v: '$properties.$browser', day: dayOf }, count: { $sum: 1 }, ids: { $addToSet: '$distinctId' } } },
      { $group: { _id: '$_id.v', total: { $sum: '$count' }, days: { $push: { day: '$_id.day', count: '$count', unique: { $size: '$ids' } } } } },
      { $sort: { total: -1, _id: 1 } },
      { $limit: 25 },
    ],
  },
  c: {
    title: 'unique persons per day, $lookup per event',
    pipeline: [
      { $match: { projectId: PROJECT, event: '$pageview', timestamp: { $gte: FROM, $lt: TO } } },
      lookupPerson,
      { $group: { _id: dayOf, persons: { $addToSet: { $ifNull: [{ $first: '$p.personId' }, '$distinctId'] } } } },
      { $project: { _id: 0, day: '$_id', unique: { $size: '$persons' } } },
      { $sort: { day: 1 } },
    ],
  },
  c2: {
    title: 'unique persons per day, group by (distinctId, day) first',
    pipeline: [
      { $match: { projectId: PROJECT, event: '$pageview', timestamp: { $gte: FROM, $lt: TO } } },
      { $group: { _id: { d: '$distinctId', day: dayOf } } },
      { $lookup: { from: 'personDistinctIds', localField: '_id.d', foreignField: 'distinctId', as: 'p' } },
      { $group: { _id: '$_id.day', persons: { $addToSet: { $ifNull: [{ $first: '$p.personId' }, '$_id.d'] } } } },
      { $project: { _id: 0, day: '$_id', unique: { $size: '$persons' } } },
      { $sort: { day: 1 } },
    ],
  },
  d: {
    title: '3-step funnel: per-distinctId ordered sequence, 30 days',
    pipeline: [
      { $match: { projectId: PROJECT, event: { $in: FUNNEL }, timestamp: { $gte: FROM, $lt: TO } } },
      { $sort: { distinctId: 1, timestamp: 1 } },
      { $group: { _id: '$distinctId', ev: { $push: { e: '$event', t: '$timestamp' } } } },
      {
        $project: {
          step: {
            $let: {
              vars: {
                r: {
                  $reduce: {
                    input: '$ev',
                    initialValue: { step: 0, t0: null },
                    in: {
                      $cond: [
                        {
                          $and: [
                            { $lt: ['$$value.step', FUNNEL.length] },
                            { $eq: ['$$this.e', { $arrayElemAt: [{ $literal: FUNNEL }, '$$value.step'] }] },
                            { $or: [{ $eq: ['$$value.step', 0] }, { $lte: [{ $subtract: ['$$this.t', '$$value.t0'] }, FUNNEL_WINDOW_MS] }] },
                          ],
                        },
                        { step: { $add: ['$$value.step', 1] }, t0: { $cond: [{ $eq: ['$$value.step', 0] }, '$$this.t', '$$value.t0'] } },
                        '$$value',
                      ],
                    },
                  },
                },
              },
              in: '$$r.step',
            },
          },
        },
      },
      { $group: { _id: '$step', n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ],
  },
  e: {
    title: 'weekly retention cohorts (persons, 8 weeks)',
    pipeline: [
      { $match: { projectId: PROJECT, event: '$pageview', timestamp: { $gte: new Date(END - 56 * DAY), $lt: TO } } },
      { $group: { _id: { d: '$distinctId', w: weekOf } } },
      { $group: { _id: '$_id.d', weeks: { $addToSet: '$_id.w' } } },
      lookupPerson,
      { $group: { _id: { $ifNull: [{ $first: '$p.personId' }, '$_id'] }, weeks: { $push: '$weeks' } } },
      {
        $project: {
          weeks: { $setUnion: { $reduce: { input: '$weeks', initialValue: [], in: { $concatArrays: ['$$value', '$$this'] } } } },
        },
      },
      { $project: { cohort: { $min: '$weeks' }, weeks: 1 } },
      { $unwind: '$weeks' },
      { $group: { _id: { c: '$cohort', o: { $dateDiff: { startDate: '$cohort', endDate: '$weeks', unit: 'week' } } }, n: { $sum: 1 } } },
      { $sort: { '_id.c': 1, '_id.o': 1 } },
    ],
  },
};

// ---------------------------------------------------------------------------------------------- floor

interface Row {
  event: string;
  distinctId: string;
  ts: number;
  browser: unknown;
}

/** Start of the local day/week in TZ, as epoch ms; cached per UTC hour (offsets change on the hour). */
function localTruncator(unit: 'day' | 'week') {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
  const cache = new Map<number, number>();
  const offsetAt = (t: number) => {
    const p = Object.fromEntries(parts.formatToParts(t).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!) - Math.floor(t / 3_600_000) * 3_600_000;
  };
  return (t: number) => {
    const hour = Math.floor(t / 3_600_000);
    let v = cache.get(hour);
    if (v === undefined) {
      const off = offsetAt(t);
      const local = t + off;
      let start = Math.floor(local / DAY) * DAY;
      if (unit === 'week') start -= ((new Date(start).getUTCDay() + 6) % 7) * DAY;
      v = start - offsetAt(start - off);
      cache.set(hour, v);
    }
    return v;
  };
}

const FLOORS: Record<string, (rows: Row[], persons: Map<string, string>) => unknown> = {
  a(rows) {
    const day = localTruncator('day');
    const out = new Map<number, { count: number; ids: Set<string> }>();
    for (const r of rows) {
      if (r.event !== '$pageview' || r.ts < +FROM || r.ts >= +TO) continue;
      const k = day(r.ts);
      let g = out.get(k);
      if (!g) out.set(k, (g = { count: 0, ids: new Set() }));
      g.count++;
      g.ids.add(r.distinctId);
    }
    return [...out].sort((x, y) => x[0] - y[0]).map(([d, g]) => ({ day: d, count: g.count, unique: g.ids.size }));
  },
  b(rows) {
    const day = localTruncator('day');
    const out = new Map<unknown, { total: number; days: Map<number, Set<string> & { n?: number }> }>();
    for (const r of rows) {
      if (r.event !== '$pageview' || r.ts < +FROM || r.ts >= +TO) continue;
      let g = out.get(r.browser);
      if (!g) out.set(r.browser, (g = { total: 0, days: new Map() }));
      g.total++;
      const k = day(r.ts);
      let s = g.days.get(k);
      if (!s) g.days.set(k, (s = new Set()));
      s.add(r.distinctId);
      s.n = (s.n ?? 0) + 1;
    }
    return [...out].sort((x, y) => y[1].total - x[1].total).slice(0, 25);
  },
  c(rows, persons) {
    const day = localTruncator('day');
    const out = new Map<number, Set<string>>();
    for (const r of rows) {
      if (r.event !== '$pageview' || r.ts < +FROM || r.ts >= +TO) continue;
      const k = day(r.ts);
      let s = out.get(k);
      if (!s) out.set(k, (s = new Set()));
      s.add(persons.get(r.distinctId) ?? r.distinctId);
    }
    return [...out].map(([d, s]) => ({ day: d, unique: s.size }));
  },
  d(rows) {
    const by = new Map<string, Row[]>();
    for (const r of rows) {
      if (!FUNNEL.includes(r.event) || r.ts < +FROM || r.ts >= +TO) continue;
      let list = by.get(r.distinctId);
      if (!list) by.set(r.distinctId, (list = []));
      list.push(r);
    }
    const counts = new Map<number, number>();
    for (const list of by.values()) {
      list.sort((x, y) => x.ts - y.ts);
      let step = 0;
      let t0 = 0;
      for (const r of list) {
        if (step < FUNNEL.length && r.event === FUNNEL[step] && (step === 0 || r.ts - t0 <= FUNNEL_WINDOW_MS)) {
          if (step === 0) t0 = r.ts;
          step++;
        }
      }
      counts.set(step, (counts.get(step) ?? 0) + 1);
    }
    return [...counts].sort((x, y) => x[0] - y[0]);
  },
  e(rows, persons) {
    const week = localTruncator('week');
    const from = END - 56 * DAY;
    const weeks = new Map<string, Set<number>>();
    for (const r of rows) {
      if (r.event !== '$pageview' || r.ts < from || r.ts >= +TO) continue;
      const p = persons.get(r.distinctId) ?? r.distinctId;
      let s = weeks.get(p);
      if (!s) weeks.set(p, (s = new Set()));
      s.add(week(r.ts));
    }
    const out = new Map<string, number>();
    for (const s of weeks.values()) {
      const cohort = Math.min(...s);
      for (const w of s) {
        const k = `${cohort}:${Math.round((w - cohort) / (7 * DAY))}`;
        out.set(k, (out.get(k) ?? 0) + 1);
      }
    }
    return out;
  },
};
FLOORS.c2 = FLOORS.c!;

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const dataDir = KEEP ?? (await mkdtemp(join(tmpdir(), 'sightline-agg-')));
  let started = performance.now();
  const store = await startEmbeddedStore({ dataDir });
  log(`store opened in ${fmt((performance.now() - started) / 1000, 1)} s (${dataDir})`);
  const client = new MongoClient(store.url, { directConnection: true });
  try {
    const db = client.db('sightline');
    const existing = await db.collection('events').estimatedDocumentCount();
    if (existing < EVENTS) await load(db, existing);
    const total = await db.collection('events').estimatedDocumentCount();
    log(`events: ${fmt(total)} (${fmt(total * 0.9)} in ${PROJECT}), distinct ids: ${fmt(DISTINCT_IDS)}, persons: ${fmt(PERSONS)}`);

    let rows: Row[] = [];
    const persons = new Map<string, string>();
    if (FLOOR) {
      started = performance.now();
      const cursor = db
        .collection('events')
        .find({ projectId: PROJECT, timestamp: { $gte: new Date(START), $lt: TO } }, { projection: { _id: 0, event: 1, distinctId: 1, timestamp: 1, 'properties.$browser': 1 } });
      for await (const d of cursor) rows.push({ event: d.event, distinctId: d.distinctId, ts: +d.timestamp, browser: d.properties?.$browser ?? null });
      for await (const p of db.collection('personDistinctIds').find({ projectId: PROJECT })) persons.set(p.distinctId, p.personId);
      log(`floor input: ${fmt(rows.length)} rows fetched once in ${fmt((performance.now() - started) / 1000, 1)} s`);
    }

    const session = PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    log('');
    log(`pipeline                                                          median (of ${RUNS})    rows   JS floor   ratio`);
    for (const [key, { title, pipeline }] of Object.entries(PIPELINES)) {
      if (ONLY && !ONLY.includes(key)) continue;
      const times: number[] = [];
      let n = 0;
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        const out = await db.collection('events').aggregate(pipeline, { allowDiskUse: true }).toArray();
        times.push(performance.now() - t);
        n = out.length;
      }
      let floor = NaN;
      if (FLOOR) {
        const ft: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          FLOORS[key]!(rows, persons);
          ft.push(performance.now() - t);
        }
        floor = median(ft);
      }
      const m = median(times);
      log(`(${key.padEnd(2)}) ${title.padEnd(62)} ${ms(m).padStart(10)} ${String(n).padStart(7)} ${(FLOOR ? ms(floor) : '-').padStart(10)} ${(FLOOR ? `${fmt(m / floor, 1)}×` : '-').padStart(7)}`);
    }
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(PROFILE!, JSON.stringify(profile));
      log(`CPU profile of the pipeline runs: ${PROFILE}`);
    }
    rows = [];
  } finally {
    await client.close();
    await store.stop();
    if (!KEEP) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
