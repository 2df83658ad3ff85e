/**
 * End-to-end capture benchmark: the real server in its own process, PostHog-style `/batch` load over HTTP,
 * the same documents inserted straight through the driver (the most capture could reach on this store),
 * and live delivery to subscribers. Phases, in order, on one server: warm-up, driver baseline, /batch
 * JSON, /batch gzip, live delivery, then verification of every acknowledged event and a SIGTERM.
 * After each /batch phase the run waits for the live feed to catch up, so the next phase starts idle.
 *
 *   npm run bench:capture                                  # defaults (the size the targets are set for)
 *   npm run bench:capture -- --events 20000 --subscribers 100   # quick run
 *
 * Options (argv `--name value` or `--name=value`, or env BENCH_<NAME>):
 *   --events       events per phase: driver baseline, /batch JSON, /batch gzip (default 200000)
 *   --clients      concurrent closed-loop clients, each on its own keep-alive connection (default 8)
 *   --subscribers  eventStream subscriptions for the live phase (default 1000)
 *   --sockets      WebSockets the subscriptions are spread over; the server allows 50 per socket (default 50)
 *   --live-rate    events/s sent during the live phase, open loop (default 200)
 *   --live-seconds length of the live phase (default 10)
 *   --phase-seconds  time limit of each throughput phase; no request starts after it (default 30)
 *   --catch-up-seconds  how long to wait after a write phase for the live feed to catch up (default 45)
 *   --seed         seed of the event generator (default 20240601)
 *   --keep         keep the server's data directory
 *   --server-cpu-prof DIR  run the server under the V8 profiler; the .cpuprofile lands in DIR at shutdown
 *
 * Prints figures and PASS/FAIL against the targets; exits non-zero only for a correctness failure
 * (an acknowledged event that was not stored, or one stored twice). Not part of the test suite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { prepareRawCollection } from './lib/bench-projects.ts';
import { prepareLoad, runCaptureLoad, type LoadResult } from './lib/capture-load.ts';
import { get, keepAliveAgent } from './lib/http-client.ts';
import { waitForFeed, type CatchUp } from './lib/feed-catch-up.ts';
import { runLivePhase, type LivePhaseResult } from './lib/live-phase.ts';
import { intOption, option } from './lib/options.ts';
import { phaseEnd, phaseStart } from './lib/phase.ts';
import { eventSource, type CaptureEvent } from './lib/posthog-events.ts';
import { runRawInserts, type RawResult } from './lib/raw-insert.ts';
import { gitDescription, onlyOk, printSummary, reportCapture, reportLive, statusLine, type Row } from './lib/report.ts';
import { startServer, type ServerProcess } from './lib/server-process.ts';
import { describeLatency, fmt, log, ms, secs, summarize } from './lib/stats.ts';
import { storedShape } from './lib/stored-shape.ts';
import { verifyStored, type Verification } from './lib/verify.ts';

const EVENTS = intOption('events', 200_000);
const CLIENTS = intOption('clients', 8);
const SUBSCRIBERS = intOption('subscribers', 1_000);
const SOCKETS = Math.min(intOption('sockets', 50), SUBSCRIBERS);
const LIVE_RATE = intOption('live-rate', 200);
const LIVE_SECONDS = intOption('live-seconds', 10);
const PHASE_SECONDS = intOption('phase-seconds', 30);
const CATCH_UP_SECONDS = intOption('catch-up-seconds', 45);
const SEED = intOption('seed', 20240601);
const KEEP = option('keep') !== undefined;
const CPU_PROFILE_DIR = option('server-cpu-prof');

const PER_REQUEST = 100;
const LIVE_PER_REQUEST = 10;
const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;
/** Loopback address the server records as `$ip`; the raw baseline stores the same value. */
const CLIENT_IP = '127.0.0.1';
/** Database the server uses on the embedded store (see src/db/storage.ts). */
const APP_DATABASE = 'sightline';
/** Separate database on the same store for the driver baseline, so its documents never mix with the app's. */
const RAW_DATABASE = 'sightline_bench_raw';

const TARGET_EVENTS_PER_SEC = 20_000;
const TARGET_RATIO = 0.5;
const TARGET_LIVE_P99_MS = 100;
/** Other processes' CPU (in % of one core) above which the run is flagged as disturbed. */
const CONTENTION_WARN_PERCENT = 25;

// ---------------------------------------------------------------------------------------------- phases

/** /readyz a few times before any load: the store answers and the server is not shutting down. */
async function sampleReady(server: ServerProcess): Promise<string> {
  const agent = keepAliveAgent(1);
  const times: number[] = [];
  const statuses = new Map<string, number>();
  try {
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await get(agent, new URL('/readyz', server.url));
      times.push(performance.now() - t0);
      const key = `${res.status} ${res.body.trim()}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
  } catch (error) {
    process.stderr.write(`server output so far:\n${server.stderr().split('\n').slice(-40).join('\n')}\n`);
    throw error;
  } finally {
    agent.destroy();
  }
  const s = summarize(times);
  return `${statusLine(statuses)} · p50 ${ms(s.p50)} · max ${ms(s.max)}`;
}

function describeCatchUp(c: CatchUp): string {
  const ended = c.watchersEnded > 0 ? `; the server ended ${c.watchersEnded} watcher(s) meanwhile` : '';
  return c.caughtUp
    ? `live feed caught up ${secs(c.ms)} after the phase (${fmt(c.backlog)} earlier events still being delivered meanwhile${ended})`
    : `live feed NOT caught up ${secs(c.ms)} after the phase (${fmt(c.backlog)} earlier events delivered meanwhile${ended}); the next phase starts on a busy server`;
}

function summaryRows(r: {
  json: LoadResult;
  gzip: LoadResult;
  rawRate: number;
  live: LivePhaseResult;
  feed: CatchUp[];
  verification: Verification;
  exit: number | string | null;
}): Row[] {
  const rate = (x: LoadResult) => x.accepted / (x.ms / 1000);
  const throughput = (x: LoadResult) => `${fmt(rate(x))} events/s · ${fmt(x.requests / (x.ms / 1000))} req/s`;
  const latency = (x: LoadResult) => {
    const s = summarize(x.latencies);
    return `${ms(s.p50)} / ${ms(s.p99)}`;
  };
  const lag = (c: CatchUp) => (c.caughtUp ? secs(c.ms) : `> ${secs(c.ms)}`);
  const allOk = onlyOk(r.json.statuses) && onlyOk(r.gzip.statuses) && onlyOk(r.live.statuses);
  const live = r.live;
  const measured = live.ready > 0 && live.delivered > 0;
  const v = r.verification;
  return [
    { metric: '/batch JSON throughput', value: throughput(r.json), target: `≥ ${fmt(TARGET_EVENTS_PER_SEC)} events/s`, pass: rate(r.json) >= TARGET_EVENTS_PER_SEC },
    { metric: '/batch gzip throughput', value: throughput(r.gzip), target: `≥ ${fmt(TARGET_EVENTS_PER_SEC)} events/s`, pass: rate(r.gzip) >= TARGET_EVENTS_PER_SEC },
    { metric: 'raw insertMany (same docs)', value: `${fmt(r.rawRate)} events/s`, target: '—', pass: undefined },
    { metric: 'capture/raw, JSON', value: fmt(rate(r.json) / r.rawRate, 2), target: `≥ ${TARGET_RATIO}`, pass: rate(r.json) / r.rawRate >= TARGET_RATIO },
    { metric: 'capture/raw, gzip', value: fmt(rate(r.gzip) / r.rawRate, 2), target: `≥ ${TARGET_RATIO}`, pass: rate(r.gzip) / r.rawRate >= TARGET_RATIO },
    { metric: '/batch latency p50 / p99, JSON', value: latency(r.json), target: '—', pass: undefined },
    { metric: '/batch latency p50 / p99, gzip', value: latency(r.gzip), target: '—', pass: undefined },
    { metric: '/batch statuses (all phases)', value: allOk ? 'all 200' : 'not all 200: see above', target: 'all 200', pass: allOk },
    {
      metric: 'live p99, receive − send',
      value: measured ? `${ms(live.fromSend.p99)} (p50 ${ms(live.fromSend.p50)}, max ${ms(live.fromSend.max)})` : 'not measured',
      target: `≤ ${TARGET_LIVE_P99_MS} ms`,
      pass: measured && live.fromSend.p99 <= TARGET_LIVE_P99_MS,
    },
    {
      metric: 'live p99, receive − response',
      value: measured ? `${ms(live.fromAck.p99)} (p50 ${ms(live.fromAck.p50)}, max ${ms(live.fromAck.max)})` : 'not measured',
      target: `≤ ${TARGET_LIVE_P99_MS} ms`,
      pass: measured && live.fromAck.p99 <= TARGET_LIVE_P99_MS,
    },
    {
      metric: 'live feed lag after a /batch phase',
      value: `JSON ${lag(r.feed[0]!)} · gzip ${lag(r.feed[1]!)}`,
      target: '—',
      pass: undefined,
    },
    {
      metric: 'live delivered / expected',
      value: `${fmt(live.delivered)} / ${fmt(live.expected)}`,
      target: 'all',
      pass: live.expected > 0 && live.delivered === live.expected && live.ready === live.subscribers,
    },
    { metric: 'acknowledged events lost', value: `${fmt(v.lost)} of ${fmt(v.acked)}`, target: '0', pass: v.lost === 0 },
    { metric: 'duplicates stored', value: fmt(v.duplicates), target: '0', pass: v.duplicates === 0 },
    { metric: 'SIGTERM exit code', value: String(r.exit), target: '0', pass: r.exit === 0 },
  ];
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  if (Math.ceil(SUBSCRIBERS / SOCKETS) > MAX_SUBSCRIPTIONS_PER_SOCKET) {
    throw new Error(`--subscribers ${SUBSCRIBERS} on --sockets ${SOCKETS} exceeds ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'sightline-capture-bench-'));
  const cpu = cpus();
  log('Sightline capture benchmark');
  log(`  ${fmt(EVENTS)} events per encoding in requests of ${PER_REQUEST} · ${CLIENTS} closed-loop clients (keep-alive) · ${fmt(SUBSCRIBERS)} subscribers on ${SOCKETS} sockets · seed ${SEED}`);
  log(`  Node ${process.version} · ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}) · ${gitDescription()} · write concern {w:'majority', j:true} · embedded store`);
  log(`  data dir ${dataDir}${KEEP ? ' (kept)' : ' (removed at the end)'} · load average at start ${loadavg().map((l) => fmt(l, 2)).join(' ')}`);
  if (EVENTS !== 200_000 || CLIENTS !== 8 || SUBSCRIBERS !== 1_000) log('  note: the targets are set for the defaults (--events 200000 --clients 8 --subscribers 1000)');
  log();

  const started = performance.now();
  const profileArgs = CPU_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`];
  const server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, profileArgs);
  const client = new MongoClient(server.storeUrl, { maxPoolSize: Math.max(10, CLIENTS + 2), serverSelectionTimeoutMS: 10_000 });
  const agent = keepAliveAgent(CLIENTS);
  const acked: string[][] = [];
  let correct = true;
  let stopped = false;
  try {
    log('Server (separate process: node --import tsx src/main.ts)');
    log(`  pid ${server.pid}, up in ${secs(performance.now() - started)} · ${server.url} · store ${server.storeUrl} · project ${server.projectId}`);
    log(`  /readyz before load: ${await sampleReady(server)}`);
    await client.connect();
    const db = client.db(APP_DATABASE);
    const raw = await prepareRawCollection(client, APP_DATABASE, RAW_DATABASE);
    log(`  baseline collection ${RAW_DATABASE}.events with the server's event indexes: ${raw.names.join(', ')}`);
    log();

    const batchUrl = new URL('/batch', server.url);
    const next = eventSource({ seed: SEED, token: server.captureToken, now: Date.now() });
    const probes: string[] = [];
    const catchUp = async (): Promise<CatchUp> => {
      const result = await waitForFeed({ ...server, url: batchUrl, agent, token: server.captureToken, next, limitMs: CATCH_UP_SECONDS * 1000 });
      probes.push(...result.acked);
      return result;
    };

    // ----- warm-up: lets the server's JIT and the store's structures settle; acknowledged, not measured
    const warm = prepareLoad(next, Math.min(10_000, Math.max(1_000, Math.round(EVENTS / 50))), PER_REQUEST, server.captureToken, false);
    const warmed = await runCaptureLoad(batchUrl, agent, warm, CLIENTS);
    acked.push(warmed.acked);
    const warmFeed = await catchUp();
    log(`Warm-up: ${fmt(warm.events)} events in ${secs(warmed.ms)} (${statusLine(warmed.statuses)}); not counted below · ${describeCatchUp(warmFeed)}`);
    log();

    // ----- the driver baseline first, on the documents the JSON phase will send: both then start from
    // the same nearly empty store, and dropping the baseline afterwards keeps it out of the later phases.
    const kept: CaptureEvent[][] = [];
    const json = prepareLoad(next, EVENTS, PER_REQUEST, server.captureToken, false, (batch) => kept.push(batch));
    const createdAt = new Date();
    const docs = kept.map((batch) => batch.map((event) => storedShape(event, server.projectId, createdAt, CLIENT_IP)));
    kept.length = 0;
    let phase = await phaseStart(server, db);
    const rawResult: RawResult = await runRawInserts(raw.coll, docs, CLIENTS, PHASE_SECONDS * 1000);
    const rawResources = await phaseEnd(server, db, phase, rawResult.batches, [rawResult.inserted, 'event (store side only)']);
    const rawStored = await raw.coll.countDocuments({});
    await raw.coll.drop();
    const rawRate = rawResult.inserted / (rawResult.ms / 1000);
    log(`Raw driver baseline: insertMany of the stored form of the JSON phase's events, ${PER_REQUEST} per batch, ${CLIENTS} in flight, ordered:false, {w:'majority', j:true}`);
    log(`  ${fmt(rawResult.inserted)} inserted in ${secs(rawResult.ms)} → ${fmt(rawRate)} events/s${rawResult.failedBatches > 0 ? ` · FAILED batches ${fmt(rawResult.failedBatches)}` : ''} · ${fmt(rawStored)} counted afterwards, then the collection was dropped`);
    if (rawResult.batches < docs.length) log(`  stopped by the ${PHASE_SECONDS} s time limit after ${fmt(rawResult.batches)} of ${fmt(docs.length)} batches`);
    log(`  latency  ${describeLatency(summarize(rawResult.latencies))}`);
    for (const line of rawResources.lines) log(`  ${line}`);
    log();
    docs.length = 0;

    // ----- /batch, plain JSON
    phase = await phaseStart(server, db);
    const jsonResult = await runCaptureLoad(batchUrl, agent, json, CLIENTS, PHASE_SECONDS * 1000);
    const jsonResources = await phaseEnd(server, db, phase, jsonResult.requests, [jsonResult.accepted, 'event']);
    const jsonFeed = await catchUp();
    reportCapture('/batch, uncompressed JSON', json, jsonResult, jsonResources, PHASE_SECONDS, [describeCatchUp(jsonFeed)]);
    acked.push(jsonResult.acked);
    json.requests.length = 0;

    // ----- /batch, gzip (fresh events: resending the JSON set would only exercise the duplicate path)
    const gzip = prepareLoad(next, EVENTS, PER_REQUEST, server.captureToken, true);
    phase = await phaseStart(server, db);
    const gzipResult = await runCaptureLoad(batchUrl, agent, gzip, CLIENTS, PHASE_SECONDS * 1000);
    const gzipResources = await phaseEnd(server, db, phase, gzipResult.requests, [gzipResult.accepted, 'event']);
    const gzipFeed = await catchUp();
    reportCapture('/batch, gzip (Content-Encoding: gzip)', gzip, gzipResult, gzipResources, PHASE_SECONDS, [describeCatchUp(gzipFeed)]);
    acked.push(gzipResult.acked);
    gzip.requests.length = 0;

    const jsonRate = jsonResult.accepted / (jsonResult.ms / 1000);
    const gzipRate = gzipResult.accepted / (gzipResult.ms / 1000);
    log(`Ratios: capture/raw JSON ${fmt(jsonRate / rawRate, 2)} · gzip ${fmt(gzipRate / rawRate, 2)} · gzip/JSON ${fmt(gzipRate / jsonRate, 2)}`);
    log();

    // ----- live delivery
    phase = await phaseStart(server, db);
    const live = await runLivePhase({
      url: batchUrl,
      wsUrl: server.wsUrl,
      agent,
      token: server.captureToken,
      adminKey: server.adminKey,
      projectId: server.projectId,
      next,
      subscribers: SUBSCRIBERS,
      sockets: SOCKETS,
      rate: LIVE_RATE,
      seconds: LIVE_SECONDS,
      perRequest: LIVE_PER_REQUEST,
    });
    const liveResources = await phaseEnd(server, db, phase, live.sentEvents / LIVE_PER_REQUEST, [live.delivered + live.other, 'delivery']);
    reportLive(
      `Live delivery: ${fmt(SUBSCRIBERS)} eventStream subscriptions on ${SOCKETS} sockets, ${fmt(LIVE_RATE)} events/s in requests of ${LIVE_PER_REQUEST} for ${LIVE_SECONDS} s`,
      live,
      liveResources,
      [
        ['warm-up', acked[0]!],
        ['JSON phase', acked[1]!],
        ['gzip phase', acked[2]!],
      ],
    );
    acked.push(live.acked, probes);

    // ----- verification
    const v = await verifyStored(db, server.projectId, acked.flat());
    log('Verification (uuid sets, readConcern majority)');
    log(`  acknowledged ${fmt(v.acked)} · stored ${fmt(v.stored)} (${fmt(v.distinct)} distinct) · lost ${fmt(v.lost)} · duplicates stored ${fmt(v.duplicates)} · stored without a 200 ${fmt(v.unackedStored)}`);
    log(`  raw baseline collection: ${fmt(rawStored)} stored of ${fmt(rawResult.inserted)} inserted`);
    correct = v.lost === 0 && v.duplicates === 0 && rawStored === rawResult.inserted;

    const stop = await server.terminate();
    stopped = true;
    log(`  SIGTERM → exit ${stop.code ?? stop.signal} after ${secs(stop.ms)}${stop.killed ? ' (did not stop in time: killed)' : ''}`);
    log();

    const busiest = Math.max(...[jsonResources, rawResources, gzipResources, liveResources].map((r) => r.othersCpu));
    if (busiest >= CONTENTION_WARN_PERCENT) {
      log(`warning: other processes on this machine used up to ${fmt(busiest)}% of a core during the measured phases; the figures understate the server`);
      log();
    }
    printSummary(summaryRows({ json: jsonResult, gzip: gzipResult, rawRate, live, feed: [jsonFeed, gzipFeed], verification: v, exit: stop.code ?? stop.signal }));
    log();
    log(`Total time ${secs(performance.now() - started)} · load average at the end ${loadavg().map((l) => fmt(l, 2)).join(' ')}`);
  } catch (error) {
    process.stderr.write(`server output so far:\n${server.stderr().split('\n').slice(-40).join('\n')}\n`);
    throw error;
  } finally {
    agent.destroy();
    await client.close().catch(() => undefined);
    if (!stopped) await server.terminate().catch(() => undefined);
    if (!KEEP) await rm(dataDir, { recursive: true, force: true });
  }
  if (!correct) {
    process.stderr.write('correctness failure: acknowledged events were lost or stored twice\n');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
