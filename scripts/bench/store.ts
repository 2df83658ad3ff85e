/**
 * Benchmark for the embedded store, measured through the official driver over TCP.
 *
 *   npx tsx scripts/bench/store.ts                       # 1,000,000 events (the size the targets are set for)
 *   npx tsx scripts/bench/store.ts --events 100000       # quick run
 *   npx tsx --expose-gc scripts/bench/store.ts           # lets the memory figures force a GC first
 *
 * Options (argv `--name value` or `--name=value`, or env BENCH_<NAME>):
 *   --events   analytics events loaded for the aggregation / start-up / memory figures (default 1000000)
 *   --inserts  1 KB documents for the durable insert figure, per client (default 100000)
 *   --lookups  findOne({uuid}) point lookups (default 20000)
 *   --runs     aggregation runs, the median is reported (default 5)
 *   --data-dir where to put the store (default: a new temp directory, removed afterwards)
 *   --keep     keep the data directory
 *
 * Not part of the test suite.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BSON, MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import type { EmbeddedStore } from '../../src/embedded/options.ts';
import { prng } from '../lib/prng.ts';
import { intOption, option } from './lib/options.ts';

// ---------------------------------------------------------------------------------------------- options

const EVENTS = intOption('events', 1_000_000);
const INSERTS = intOption('inserts', 100_000);
const LOOKUPS = intOption('lookups', 20_000);
const RUNS = intOption('runs', 5);
const KEEP = option('keep') !== undefined;
const GIVEN_DIR = option('data-dir');

const BATCH = 1_000;
const LOAD_IN_FLIGHT = 4;
const LOOKUP_IN_FLIGHT = 16;
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------- helpers

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MiB`;
const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;
const log = (line = '') => process.stdout.write(`${line}\n`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function weighted<T>(rand: () => number, items: ReadonlyArray<readonly [T, number]>): T {
  let r = rand() * items.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

async function forceGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';

async function walCounters(client: MongoClient): Promise<{ records: number; syncs: number }> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  const wal = status.sightline?.wal ?? {};
  return { records: Number(wal.records ?? NaN), syncs: Number(wal.syncs ?? NaN) };
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// ---------------------------------------------------------------------------------------------- data

const PROJECTS = [
  ['proj_acme', 60],
  ['proj_globex', 25],
  ['proj_initech', 10],
  ['proj_umbrella', 5],
] as const;
const EVENT_NAMES = [
  ['$pageview', 35],
  ['$autocapture', 20],
  ['$pageleave', 12],
  ['button_clicked', 8],
  ['signed_up', 4],
  ['logged_in', 7],
  ['search', 6],
  ['added_to_cart', 4],
  ['purchase', 2],
  ['$identify', 2],
] as const;
const BROWSERS = [['Chrome', 60], ['Safari', 20], ['Firefox', 10], ['Edge', 8], ['Opera', 2]] as const;
const OSES = [['Windows', 40], ['Mac OS X', 25], ['iOS', 15], ['Android', 15], ['Linux', 5]] as const;
const PATHS = ['/', '/pricing', '/docs', '/blog', '/signup', '/login', '/app', '/app/settings', '/app/reports', '/about'];
const PLANS = [['free', 70], ['pro', 25], ['enterprise', 5]] as const;
const USERS = 50_000;

interface AnalyticsEvent {
  _id: ObjectId;
  uuid: string;
  projectId: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  properties: Document;
}

function eventGenerator(now: number) {
  const rand = prng(20240601);
  return (): AnalyticsEvent => {
    const event = weighted(rand, EVENT_NAMES);
    // Skewed activity: a minority of users produce most events.
    const user = Math.floor(USERS * rand() ** 2);
    const properties: Document = {
      $browser: weighted(rand, BROWSERS),
      $os: weighted(rand, OSES),
      $current_url: `https://app.example.com${PATHS[Math.floor(rand() * PATHS.length)]}`,
      $lib: 'web',
      $screen_width: [1280, 1440, 1920, 390, 414][Math.floor(rand() * 5)],
      plan: weighted(rand, PLANS),
    };
    if (event === 'purchase') properties.revenue = Math.round(rand() * 50_000) / 100;
    if (event === 'search') properties.query = `term ${Math.floor(rand() * 500)}`;
    return {
      _id: new ObjectId(),
      uuid: randomUUID(),
      projectId: weighted(rand, PROJECTS),
      event,
      distinctId: `user_${user}`,
      timestamp: new Date(now - Math.floor(rand() * 90 * DAY)),
      properties,
    };
  };
}

function kilobyteDoc(i: number, client: number): Document {
  return {
    _id: new ObjectId(),
    uuid: randomUUID(),
    client,
    i,
    createdAt: new Date(),
    payload: 'p'.repeat(900) + String(i).padStart(10, '0'),
  };
}

// ---------------------------------------------------------------------------------------------- phases

async function connect(store: EmbeddedStore): Promise<MongoClient> {
  const client = new MongoClient(store.url, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 32 });
  await client.connect();
  return client;
}

async function loadEvents(coll: Collection<AnalyticsEvent>, now: number) {
  const next = eventGenerator(now);
  const batches = Math.ceil(EVENTS / BATCH);
  let bsonBytes = 0;
  let produced = 0;
  const started = performance.now();
  let lastReport = started;
  await pool(batches, LOAD_IN_FLIGHT, async () => {
    const size = Math.min(BATCH, EVENTS - produced);
    produced += size;
    const docs: AnalyticsEvent[] = [];
    for (let i = 0; i < size; i++) {
      const doc = next();
      bsonBytes += BSON.calculateObjectSize(doc);
      docs.push(doc);
    }
    await coll.insertMany(docs, { ordered: false });
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now();
      log(`    … ${fmt(produced)} / ${fmt(EVENTS)} events loaded`);
    }
  });
  const ms = performance.now() - started;
  return { ms, avgBson: bsonBytes / EVENTS };
}

async function durableInserts(clients: MongoClient[], collName: string) {
  const walBefore = await walCounters(clients[0]!);
  const uuids: string[] = [];
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      const coll = client.db('bench').collection(collName);
      for (let start = 0; start < INSERTS; start += BATCH) {
        const docs = Array.from({ length: Math.min(BATCH, INSERTS - start) }, (_, k) => kilobyteDoc(start + k, c));
        if (c === 0) for (const d of docs) uuids.push(d.uuid as string);
        await coll.insertMany(docs, { ordered: false });
      }
    }),
  );
  const ms = performance.now() - started;
  const walAfter = await walCounters(clients[0]!);
  const total = INSERTS * clients.length;
  return {
    ms,
    docsPerSec: total / (ms / 1000),
    total,
    records: walAfter.records - walBefore.records,
    syncs: walAfter.syncs - walBefore.syncs,
    uuids,
  };
}

function trendsPipeline(projectId: string, event: string, from: Date, to: Date): Document[] {
  return [
    { $match: { projectId, event, timestamp: { $gte: from, $lt: to } } },
    {
      $group: {
        _id: { $dateTrunc: { date: '$timestamp', unit: 'day', timezone: 'America/New_York' } },
        users: { $addToSet: '$distinctId' },
        total: { $sum: 1 },
      },
    },
    { $project: { _id: 0, day: '$_id', uniqueUsers: { $size: '$users' }, total: 1 } },
    { $sort: { day: 1 } },
  ];
}

// ---------------------------------------------------------------------------------------------- main

interface Row {
  metric: string;
  value: string;
  target: string;
  pass: boolean | undefined;
}

async function main(): Promise<void> {
  const dataDir = GIVEN_DIR ?? (await mkdtemp(join(tmpdir(), 'sightline-bench-')));
  log('Sightline embedded store benchmark');
  log(`  events ${fmt(EVENTS)} · inserts ${fmt(INSERTS)} per client · lookups ${fmt(LOOKUPS)} · aggregation runs ${RUNS}`);
  log(`  data dir ${dataDir}${KEEP || GIVEN_DIR ? ' (kept)' : ' (removed at the end)'} · Node ${process.version}`);
  if (EVENTS !== 1_000_000) log('  note: the targets are set for --events 1000000; this run uses a different size');
  log(hasGc ? '  gc: exposed, memory figures are taken after a forced GC' : '  gc: NOT exposed (run `npx tsx --expose-gc scripts/bench/store.ts`); memory figures include uncollected garbage');
  log();

  const rows: Row[] = [];
  let store = await startEmbeddedStore({ dataDir, port: 0 });
  let client = await connect(store);
  const now = Date.now();

  try {
    // ----- load events and measure memory
    const events = client.db('bench').collection<AnalyticsEvent>('events');
    await events.createIndex({ projectId: 1, event: 1, timestamp: 1 });
    await forceGc();
    const rssBefore = process.memoryUsage().rss;
    log(`Loading ${fmt(EVENTS)} events (insertMany, ${fmt(BATCH)} per batch, ${LOAD_IN_FLIGHT} batches in flight)…`);
    const load = await loadEvents(events, now);
    await forceGc();
    const rssAfter = process.memoryUsage().rss;
    const perEvent = (rssAfter - rssBefore) / EVENTS;
    const memRatio = perEvent / load.avgBson;
    log(`  loaded in ${secs(load.ms)} → ${fmt(EVENTS / (load.ms / 1000))} events/s`);
    log();

    // ----- aggregation
    const projectId = PROJECTS[0][0];
    const eventName = EVENT_NAMES[0][0];
    const from = new Date(now - 30 * DAY);
    const to = new Date(now);
    const matched = await events.countDocuments({ projectId, event: eventName, timestamp: { $gte: from, $lt: to } });
    const pipeline = trendsPipeline(projectId, eventName, from, to);
    const aggTimes: number[] = [];
    let days: Document[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      days = await events.aggregate(pipeline).toArray();
      aggTimes.push(performance.now() - t0);
    }
    const aggMedian = median(aggTimes);
    const grouped = days.reduce((sum, d) => sum + Number(d.total), 0);
    log('Trends aggregation ($match project+event+30 days → $group by $dateTrunc day America/New_York, $addToSet distinctId → $size)');
    log(`  matched documents      ${fmt(matched)} (${projectId}, ${eventName}); grouped total ${fmt(grouped)}${grouped === matched ? '' : '  ✗ MISMATCH'}`);
    log(`  days returned          ${days.length}; max unique users/day ${fmt(Math.max(0, ...days.map((d) => Number(d.uniqueUsers))))}`);
    log(`  run times              ${aggTimes.map((t) => `${fmt(t)} ms`).join(', ')}`);
    log(`  median of ${RUNS}           ${fmt(aggMedian)} ms`);
    log();

    // ----- start-up time
    await client.close();
    const stopStarted = performance.now();
    await store.stop();
    const stopMs = performance.now() - stopStarted;
    const startStarted = performance.now();
    store = await startEmbeddedStore({ dataDir, port: 0 });
    client = await connect(store);
    await client.db('admin').command({ ping: 1 });
    const startupMs = performance.now() - startStarted;
    const countAfterRestart = await client.db('bench').collection('events').estimatedDocumentCount();
    log(`Restart with ${fmt(EVENTS)} events`);
    log(`  stop (final snapshot)  ${secs(stopMs)}`);
    log(`  start until ping       ${secs(startupMs)}   (events after restart: ${fmt(countAfterRestart)})`);
    log();

    log('Resident memory');
    log(`  RSS before loading     ${mib(rssBefore)}`);
    log(`  RSS after loading      ${mib(rssAfter)}`);
    log(`  per stored event       ${fmt(perEvent)} bytes`);
    log(`  average event BSON     ${fmt(load.avgBson)} bytes (BSON.calculateObjectSize)`);
    log(`  ratio                  ${fmt(memRatio, 2)}× BSON size`);
    await forceGc();
    log(`  RSS after restart      ${mib(process.memoryUsage().rss)} (same process; includes whatever the stopped instance left behind)`);
    log();

    // ----- durable inserts
    const insertsColl = client.db('bench').collection('inserts');
    await insertsColl.createIndex({ uuid: 1 }, { unique: true });
    await client.db('bench').collection('inserts2').createIndex({ uuid: 1 }, { unique: true });
    log(`Durable insertMany: ~1 KB documents (${fmt(BSON.calculateObjectSize(kilobyteDoc(0, 0)))} B BSON), ${fmt(BATCH)} per batch, ordered:false`);
    const single = await durableInserts([client], 'inserts');
    log(`  1 client               ${fmt(single.total)} docs in ${secs(single.ms)} → ${fmt(single.docsPerSec)} docs/s   (${fmt(single.total / BATCH)} batches, WAL records ${fmt(single.records)}, fsyncs ${fmt(single.syncs)})`);
    const second = await connect(store);
    let dual: Awaited<ReturnType<typeof durableInserts>>;
    try {
      dual = await durableInserts([client, second], 'inserts2');
    } finally {
      await second.close();
    }
    log(`  2 concurrent clients   ${fmt(dual.total)} docs in ${secs(dual.ms)} → ${fmt(dual.docsPerSec)} docs/s   (${fmt(dual.total / BATCH)} batches, WAL records ${fmt(dual.records)}, fsyncs ${fmt(dual.syncs)}${
      dual.syncs <= 0.75 * (dual.total / BATCH) ? ': batches of both clients shared fsyncs (group commit)' : ': hardly any fsync was shared between batches'
    })`);
    log();

    // ----- point lookups
    const rand = prng(7);
    const latencies: number[] = [];
    let misses = 0;
    const lookupStarted = performance.now();
    await pool(LOOKUPS, LOOKUP_IN_FLIGHT, async () => {
      const uuid = single.uuids[Math.floor(rand() * single.uuids.length)]!;
      const t0 = performance.now();
      const doc = await insertsColl.findOne({ uuid });
      latencies.push(performance.now() - t0);
      if (!doc) misses++;
    });
    const lookupMs = performance.now() - lookupStarted;
    latencies.sort((a, b) => a - b);
    const lookupsPerSec = LOOKUPS / (lookupMs / 1000);
    log(`Point lookups: findOne({uuid}) on a unique index, ${LOOKUP_IN_FLIGHT} in flight`);
    log(`  ${fmt(LOOKUPS)} lookups in ${secs(lookupMs)} → ${fmt(lookupsPerSec)} lookups/s   (p50 ${fmt(percentile(latencies, 50), 2)} ms, p99 ${fmt(percentile(latencies, 99), 2)} ms, misses ${misses})`);
    log();

    rows.push(
      { metric: 'Durable inserts, 1 client', value: `${fmt(single.docsPerSec)} docs/s`, target: '≥ 50,000 docs/s', pass: single.docsPerSec >= 50_000 },
      { metric: 'Durable inserts, 2 clients', value: `${fmt(dual.docsPerSec)} docs/s`, target: '≥ 50,000 docs/s', pass: dual.docsPerSec >= 50_000 },
      { metric: 'Point lookups by uuid', value: `${fmt(lookupsPerSec)} lookups/s`, target: '—', pass: undefined },
      { metric: 'fsyncs per insertMany batch, 2 clients', value: `${fmt(dual.syncs / (dual.total / BATCH), 2)} (1 = no sharing, 0.5 = pairs)`, target: '—', pass: undefined },
      { metric: `Trends aggregation (median of ${RUNS})`, value: `${fmt(aggMedian)} ms (${fmt(matched)} matched)`, target: '≤ 2,000 ms', pass: aggMedian <= 2_000 },
      { metric: 'Start-up until ping', value: secs(startupMs), target: '≤ 10 s', pass: startupMs <= 10_000 },
      { metric: 'Memory per event', value: `${fmt(perEvent)} B = ${fmt(memRatio, 2)}× BSON (${fmt(load.avgBson)} B)`, target: '≤ 3× BSON', pass: memRatio <= 3 },
    );

    const w = [38, 44, 18];
    log(`Summary (${fmt(EVENTS)} events${EVENTS === 1_000_000 ? '' : '; targets are for 1,000,000'})`);
    log(`  ${'metric'.padEnd(w[0]!)} ${'measured'.padEnd(w[1]!)} ${'target'.padEnd(w[2]!)} result`);
    log(`  ${'-'.repeat(w[0]! + w[1]! + w[2]! + 9)}`);
    for (const row of rows) {
      const result = row.pass === undefined ? '' : row.pass ? 'PASS' : 'FAIL';
      log(`  ${row.metric.padEnd(w[0]!)} ${row.value.padEnd(w[1]!)} ${row.target.padEnd(w[2]!)} ${result}`);
    }
  } finally {
    await client.close().catch(() => {});
    await store.stop().catch(() => {});
    if (!KEEP && !GIVEN_DIR) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
