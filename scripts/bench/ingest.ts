/**
 * Person-processing ingest benchmark: the real server in its own process, PostHog-style `/batch` load over
 * HTTP with person traffic (anonymous users who identify or get aliased, `$set`/`$set_once`), sent twice
 * with the same bodies: once with `$process_person_profile: false` on every event (persons off), once
 * without it (persons on), each into its own project created through GraphQL. The same documents
 * inserted straight through the driver give a third, reference figure. The three variants take turns in
 * rounds, so none of them meets a bigger store or a busier machine than the others. Then every
 * acknowledged event is checked to be stored once, and the persons against the identity graph of the
 * acknowledged events.
 *
 *   npm run bench:ingest                      # defaults (the size the targets are set for)
 *   npm run bench:ingest -- --events 20000    # quick run
 *
 * Options (argv `--name value` or `--name=value`, or env BENCH_<NAME>):
 *   --events         events per variant (default 200000)
 *   --clients        concurrent closed-loop clients, each on its own keep-alive connection (default 8)
 *   --users          distinct users behind the traffic, 80% of events from the busiest 20% (default 10000)
 *   --rounds         turns each variant takes; its events are split evenly over them (default 4)
 *   --seed           seed of the event generator (default 20240601)
 *   --phase-seconds  time limit of each variant, split evenly over its rounds; no request starts after it (default 120)
 *   --keep           keep the server's data directory
 *   --server-cpu-prof DIR  run the server under the V8 profiler; the .cpuprofile lands in DIR at shutdown
 *
 * Prints figures and PASS/FAIL against the targets; exits non-zero only for a correctness failure
 * (events lost or stored twice, persons in the persons-off project, a distinct id on no or several
 * persons, merges missed or wrong). Not part of the test suite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { createProject, prepareRawCollection } from './lib/bench-projects.ts';
import { encodeBrowserLoad, runBrowserLoad } from './lib/browser-load.ts';
import type { LoadResult } from './lib/capture-load.ts';
import { cpuSample } from './lib/cpu.ts';
import { waitForFeed, type CatchUp } from './lib/feed-catch-up.ts';
import { keepAliveAgent } from './lib/http-client.ts';
import { intOption, option } from './lib/options.ts';
import { compareIdentities, findPersons, type IdentityComparison, type PersonsFound } from './lib/person-checks.ts';
import { personWorkload, type WorkloadMix } from './lib/person-workload.ts';
import { phaseEnd, phaseStart, type PhaseReport } from './lib/phase.ts';
import { eventSource } from './lib/posthog-events.ts';
import { runRawInserts, type RawResult } from './lib/raw-insert.ts';
import { gitDescription, onlyOk, printSummary, statusLine, type Row } from './lib/report.ts';
import { mergeLoads, mergeRaw, roundOrder, splitEvenly } from './lib/rounds.ts';
import { startServer } from './lib/server-process.ts';
import { describeLatency, fmt, log, ms, secs, summarize } from './lib/stats.ts';
import { storedShape } from './lib/stored-shape.ts';
import { verifyStored, type Verification } from './lib/verify.ts';

const EVENTS = intOption('events', 200_000);
const CLIENTS = intOption('clients', 8);
const USERS = intOption('users', 10_000);
const ROUNDS = intOption('rounds', 4);
const SEED = intOption('seed', 20240601);
const PHASE_SECONDS = intOption('phase-seconds', 120);
const KEEP = option('keep') !== undefined;
const CPU_PROFILE_DIR = option('server-cpu-prof');

const PER_REQUEST = 100;
/** Database the server uses on the embedded store (see src/db/storage.ts). */
const APP_DATABASE = 'sightline';
/** Separate database on the same store for the driver baseline. */
const RAW_DATABASE = 'sightline_bench_raw';
/** Not used by the events (they all carry `$ip`); storedShape only fills it in when one is missing. */
const CLIENT_IP = '127.0.0.1';
const PERSONLESS = { $process_person_profile: false };
const CATCH_UP_SECONDS = 45;

type Variant = 'raw' | 'off' | 'on';
const VARIANTS: readonly Variant[] = ['raw', 'off', 'on'];
const VARIANT_NAMES: Record<Variant, string> = { raw: 'Raw driver baseline', off: 'Persons OFF', on: 'Persons ON' };

const TARGET_EVENTS_PER_SEC = 10_000;
const TARGET_RATIO = 0.5;
/** Other processes' CPU (in % of one core) above which the run is flagged as disturbed. */
const CONTENTION_WARN_PERCENT = 25;

const rate = (r: LoadResult) => r.accepted / (r.ms / 1000);
const loadAverage = () => loadavg().map((l) => fmt(l, 2)).join(' ');

function describeMix(m: WorkloadMix): string[] {
  const share = (n: number) => `${fmt(n)} (${fmt((100 * n) / m.events, 1)}%)`;
  return [
    `users seen ${fmt(m.usersSeen)} of ${fmt(USERS)} (80% of events from the busiest 20%) · ${fmt(m.distinctIps)} public IPv4s as $ip · browser User-Agent per request`,
    `$set ${share(m.withSet)} · $set_once ${share(m.withSetOnce)} · $identify with $anon_distinct_id ${share(m.identify)} · $create_alias ${share(m.alias)} · identify without merge ${share(m.propertiesOnlyIdentify)}`,
    `links of an anonymous id that already had events ${fmt(m.linksOfSeenAnonymous)} of ${fmt(m.identify + m.alias)} · anonymous events ${share(m.anonymous)} · without browser properties ${share(m.withoutBrowserProperties)} · with utm_* ${share(m.withUtm)}`,
  ];
}

function describePersons(label: string, f: PersonsFound): string {
  const problems = [
    f.duplicateIds > 0 ? `ids on several rows ${fmt(f.duplicateIds)}` : '',
    f.danglingIds > 0 ? `ids on a missing person ${fmt(f.danglingIds)}` : '',
    f.idsOnMergingPersons > 0 ? `ids on a person being merged away ${fmt(f.idsOnMergingPersons)}` : '',
    f.orphanPersons > 0 ? `persons without ids ${fmt(f.orphanPersons)}` : '',
  ].filter((s) => s !== '');
  return `${label}: persons ${fmt(f.persons)}${f.merging > 0 ? ` (+ ${fmt(f.merging)} being merged away)` : ''} · distinct ids ${fmt(f.distinctIds)}${problems.length > 0 ? ` · ${problems.join(' · ')}` : ''}`;
}

interface Outcome {
  off: LoadResult;
  on: LoadResult;
  rawRate: number;
  offStored: Verification;
  onStored: Verification;
  offPersons: PersonsFound;
  onPersons: PersonsFound;
  identities: IdentityComparison;
  exit: number | string | null;
}

/**
 * Most persons a correct server can hold: the expected ones, plus one per event it was sent but did not
 * acknowledge (its person work may have happened). With every event sent and acknowledged, every user
 * links before using the user id, so this is at most one per user.
 */
function personBound(o: Outcome): number {
  return o.identities.expectedPersons + (o.on.events - o.on.accepted);
}

/** Whether the run found a correctness failure, and why; the persons checks on an idle placeholder pass vacuously. */
function failures(o: Outcome, processing: boolean): string[] {
  const out: string[] = [];
  for (const [name, v] of [['persons off', o.offStored], ['persons on', o.onStored]] as const) {
    if (v.lost > 0) out.push(`${name}: ${v.lost} acknowledged events not stored`);
    if (v.duplicates > 0) out.push(`${name}: ${v.duplicates} events stored twice`);
  }
  if (o.offPersons.persons + o.offPersons.merging + o.offPersons.distinctIds > 0) out.push('persons off: person documents were written');
  const on = o.onPersons;
  if (on.persons > personBound(o)) out.push(`persons on: ${on.persons} persons, more than the ${personBound(o)} the events sent allow`);
  if (on.duplicateIds + on.danglingIds > 0) out.push('persons on: a distinct id maps to several persons or to none that exists');
  if (processing && o.identities.missingIds > 0) out.push(`persons on: ${o.identities.missingIds} distinct ids of acknowledged events have no person`);
  if (o.on.accepted === EVENTS && on.persons > USERS) out.push(`persons on: ${on.persons} persons for ${USERS} users`);
  if (processing && o.identities.splitUsers > 0) out.push(`persons on: ${o.identities.splitUsers} identified users are split over several persons`);
  if (o.identities.sharedPersons > 0) out.push(`persons on: ${o.identities.sharedPersons} persons hold the ids of several users`);
  return out;
}

function summaryRows(o: Outcome, processing: boolean): Row[] {
  const throughput = (r: LoadResult) => `${fmt(rate(r))} events/s · ${fmt(r.requests / (r.ms / 1000))} req/s`;
  const latency = (r: LoadResult) => {
    const s = summarize(r.latencies);
    return `${ms(s.p50)} / ${ms(s.p99)}`;
  };
  const onOff = rate(o.on) / rate(o.off);
  const allOk = onlyOk(o.off.statuses) && onlyOk(o.on.statuses);
  const lost = o.offStored.lost + o.onStored.lost;
  const duplicates = o.offStored.duplicates + o.onStored.duplicates;
  const p = o.onPersons;
  const ids = o.identities;
  const idsOk = p.duplicateIds + p.danglingIds === 0;
  const placeholder = 'none written (placeholder?)';
  const complete = o.on.accepted === EVENTS;
  return [
    { metric: 'persons OFF: /batch throughput', value: throughput(o.off), target: '—', pass: undefined },
    { metric: 'persons ON: /batch throughput', value: throughput(o.on), target: `≥ ${fmt(TARGET_EVENTS_PER_SEC)} events/s`, pass: rate(o.on) >= TARGET_EVENTS_PER_SEC },
    { metric: 'raw insertMany (same docs)', value: `${fmt(o.rawRate)} events/s`, target: '—', pass: undefined },
    { metric: 'persons ON / persons OFF', value: fmt(onOff, 2), target: `≥ ${TARGET_RATIO}`, pass: onOff >= TARGET_RATIO },
    { metric: 'persons ON / raw insert', value: fmt(rate(o.on) / o.rawRate, 2), target: '—', pass: undefined },
    { metric: 'persons OFF / raw insert', value: fmt(rate(o.off) / o.rawRate, 2), target: '—', pass: undefined },
    { metric: '/batch latency p50 / p99, persons OFF', value: latency(o.off), target: '—', pass: undefined },
    { metric: '/batch latency p50 / p99, persons ON', value: latency(o.on), target: '—', pass: undefined },
    { metric: '/batch statuses (both phases)', value: allOk ? 'all 200' : 'not all 200: see above', target: 'all 200', pass: allOk },
    { metric: 'acknowledged events lost', value: `${fmt(lost)} of ${fmt(o.offStored.acked + o.onStored.acked)}`, target: '0', pass: lost === 0 },
    { metric: 'duplicates stored', value: fmt(duplicates), target: '0', pass: duplicates === 0 },
    { metric: 'persons OFF: persons / distinct ids', value: `${fmt(o.offPersons.persons + o.offPersons.merging)} / ${fmt(o.offPersons.distinctIds)}`, target: '0 / 0', pass: o.offPersons.persons + o.offPersons.merging + o.offPersons.distinctIds === 0 },
    {
      metric: 'persons ON: persons (expected)',
      value: processing ? `${fmt(p.persons)} (${fmt(ids.expectedPersons)}) for ${fmt(ids.users)} users` : placeholder,
      target: complete ? `≤ ${fmt(USERS)} users` : `≤ ${fmt(personBound(o))}: cut short`,
      pass: p.persons <= personBound(o) && (!complete || p.persons <= USERS),
    },
    { metric: 'persons ON: each id → one person', value: processing ? `${fmt(p.distinctIds)} ids (${fmt(ids.expectedIds)})${idsOk ? '' : ', NOT all'}` : placeholder, target: 'all', pass: idsOk },
    { metric: 'persons ON: acked ids without person', value: processing ? fmt(ids.missingIds) : `${fmt(ids.missingIds)}, not checked`, target: '0', pass: processing ? ids.missingIds === 0 : undefined },
    { metric: 'persons ON: split users / shared persons', value: `${fmt(ids.splitUsers)} / ${fmt(ids.sharedPersons)}`, target: '0 / 0', pass: processing ? ids.splitUsers + ids.sharedPersons === 0 : undefined },
    { metric: 'SIGTERM exit code', value: String(o.exit), target: '0', pass: o.exit === 0 },
  ];
}

/** One variant's share of a round, measured like a phase of capture.ts. */
interface Slice {
  ms: number;
  events: number;
  serverCpuMs: number;
  report: PhaseReport;
}

/** Totals of one variant over all its rounds, in the same terms as a capture.ts phase. */
function reportVariant(title: string, r: LoadResult, planned: number, slices: Slice[], bodyBytes?: number): void {
  const seconds = r.ms / 1000;
  const serverCpu = slices.reduce((n, s) => n + s.serverCpuMs, 0);
  log(`${title}, ${slices.length} rounds together`);
  log(`  ${fmt(r.accepted)} events acknowledged of ${fmt(planned)} in ${secs(r.ms)} → ${fmt(r.accepted / seconds)} events/s · ${fmt(r.requests / seconds)} ${bodyBytes === undefined ? 'batches' : 'requests'}/s${r.events < planned ? ` · the ${PHASE_SECONDS} s limit stopped it after ${fmt(r.events)} events` : ''}`);
  if (bodyBytes !== undefined) log(`  body ${fmt(bodyBytes / Math.max(1, r.requests) / 1024, 1)} KiB per request (${fmt(bodyBytes / Math.max(1, r.events))} B JSON per event) · status ${statusLine(r.statuses)} · duplicates ${fmt(r.duplicates)} · refused ${fmt(r.refused)}`);
  log(`  latency  ${describeLatency(summarize(r.latencies))}`);
  log(`  server CPU ${fmt((100 * serverCpu) / r.ms)}% of one core · ${fmt((1000 * serverCpu) / Math.max(1, r.accepted))} µs per event · rate per round ${slices.map((s) => fmt(s.events / (s.ms / 1000))).join(' · ')}`);
  log();
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sightline-ingest-bench-'));
  const cpu = cpus();
  log('Sightline ingest benchmark: person processing on vs off');
  log(`  ${fmt(EVENTS)} events per variant in requests of ${PER_REQUEST}, in ${ROUNDS} interleaved rounds · ${CLIENTS} closed-loop clients (keep-alive) · ${fmt(USERS)} users · seed ${SEED}`);
  log(`  Node ${process.version} · ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}) · ${gitDescription()} · write concern {w:'majority', j:true} · embedded store`);
  log(`  data dir ${dataDir}${KEEP ? ' (kept)' : ' (removed at the end)'} · load average at start ${loadAverage()}`);
  if (EVENTS !== 200_000 || CLIENTS !== 8 || USERS !== 10_000) log('  note: the targets are set for the defaults (--events 200000 --clients 8 --users 10000)');
  log();

  const started = performance.now();
  const now = Date.now();
  const workload = personWorkload({ seed: SEED, users: USERS, events: EVENTS, perRequest: PER_REQUEST, now });
  log(`Workload (generated in ${secs(performance.now() - started)}, before any timing; the same events for every variant)`);
  for (const line of describeMix(workload.mix)) log(`  ${line}`);
  log();

  const profileArgs = CPU_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`];
  const server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, profileArgs).catch(async (error: unknown) => {
    if (!KEEP) await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const client = new MongoClient(server.storeUrl, { maxPoolSize: Math.max(10, CLIENTS + 2), serverSelectionTimeoutMS: 10_000 });
  const agent = keepAliveAgent(CLIENTS);
  let outcome: Outcome | undefined;
  let stopped = false;
  try {
    log('Server (separate process: node --import tsx src/main.ts)');
    log(`  pid ${server.pid} · ${server.url} · store ${server.storeUrl}`);
    await client.connect();
    const db = client.db(APP_DATABASE);
    const raw = await prepareRawCollection(client, APP_DATABASE, RAW_DATABASE);
    const offProject = await createProject(agent, server.graphqlUrl, server.adminKey, 'bench: persons off');
    const onProject = await createProject(agent, server.graphqlUrl, server.adminKey, 'bench: persons on');
    log(`  projects (createProject over GraphQL): persons off ${offProject.id} · persons on ${onProject.id}; warm-up and feed probes go to the start-up project ${server.projectId}`);
    log(`  baseline collection ${RAW_DATABASE}.events with the server's event indexes: ${raw.names.join(', ')}`);
    log();

    const batchUrl = new URL('/batch', server.url);
    const probes = eventSource({ seed: SEED, token: server.captureToken, now });
    const catchUp = (): Promise<CatchUp> =>
      waitForFeed({ ...server, url: batchUrl, agent, token: server.captureToken, next: probes, limitMs: CATCH_UP_SECONDS * 1000 });
    const describeCatchUp = (c: CatchUp) => `live feed ${c.caughtUp ? 'caught up' : 'NOT caught up'} ${secs(c.ms)} after`;

    // ----- warm-up on the start-up project: both code paths, so neither variant pays for the JIT alone
    const warmEvents = Math.min(10_000, Math.max(1_000, Math.round(EVENTS / 50)));
    const warm = personWorkload({ seed: SEED + 1, users: USERS, events: warmEvents, perRequest: PER_REQUEST, now });
    const half = Math.ceil(warm.batches.length / 2);
    const warmOff = await runBrowserLoad(batchUrl, agent, encodeBrowserLoad(warm.batches.slice(0, half), warm.userAgents, server.captureToken, PERSONLESS), CLIENTS);
    const warmOn = await runBrowserLoad(batchUrl, agent, encodeBrowserLoad(warm.batches.slice(half), warm.userAgents.slice(half), server.captureToken), CLIENTS);
    log(`Warm-up: ${fmt(warmEvents)} events, half with persons off, in ${secs(warmOff.ms + warmOn.ms)}; not counted below · ${describeCatchUp(await catchUp())}`);
    log();

    // ----- the variants take turns: raw inserts of the stored documents, /batch persons off, /batch persons on
    const requestSlices = splitEvenly(workload.batches.map((batch, i) => ({ batch, userAgent: workload.userAgents[i]! })), ROUNDS);
    const sliceLimitMs = (PHASE_SECONDS * 1000) / requestSlices.length;
    const slices: Record<Variant, Slice[]> = { raw: [], off: [], on: [] };
    const loads: Record<'off' | 'on', LoadResult[]> = { off: [], on: [] };
    const bodyBytes = { off: 0, on: 0 };
    const raws: RawResult[] = [];
    const createdAt = new Date();
    log(`Rounds: ${requestSlices.length} × (raw insertMany, /batch persons off, /batch persons on), in turn A B C then C B A; each waits for the live feed to catch up after it`);
    for (const [round, slice] of requestSlices.entries()) {
      for (const variant of roundOrder(VARIANTS, round)) {
        const batches = slice.map((r) => r.batch);
        let measure: () => Promise<{ ms: number; events: number; requests: number; detail: string }>;
        if (variant === 'raw') {
          const docs = batches.map((batch) => batch.map((e) => storedShape({ ...e, properties: { ...e.properties, token: onProject.apiToken } }, onProject.id, createdAt, CLIENT_IP)));
          measure = async () => {
            const r = await runRawInserts(raw.coll, docs, CLIENTS, sliceLimitMs);
            raws.push(r);
            const s = summarize(r.latencies);
            return { ms: r.ms, events: r.inserted, requests: r.batches, detail: `p50 ${ms(s.p50)} · p99 ${ms(s.p99)}${r.failedBatches > 0 ? ` · FAILED batches ${fmt(r.failedBatches)}` : ''}` };
          };
        } else {
          const load = encodeBrowserLoad(batches, slice.map((r) => r.userAgent), variant === 'off' ? offProject.apiToken : onProject.apiToken, variant === 'off' ? PERSONLESS : {});
          measure = async () => {
            const r = await runBrowserLoad(batchUrl, agent, load, CLIENTS, sliceLimitMs);
            loads[variant].push(r);
            bodyBytes[variant] += load.requests.slice(0, r.requests).reduce((n, q) => n + q.body.length, 0);
            const s = summarize(r.latencies);
            return { ms: r.ms, events: r.accepted, requests: r.requests, detail: `p50 ${ms(s.p50)} · p99 ${ms(s.p99)} · ${statusLine(r.statuses)}` };
          };
        }
        const phase = await phaseStart(server, db);
        const cpuFrom = cpuSample(server.pid);
        const m = await measure();
        const serverCpuMs = cpuSample(server.pid).serverMs - cpuFrom.serverMs;
        const report = await phaseEnd(server, db, phase, m.requests, [m.events, variant === 'raw' ? 'event (store side only)' : 'event']);
        const caught = await catchUp();
        slices[variant].push({ ms: m.ms, events: m.events, serverCpuMs, report });
        log(`  round ${round + 1} · ${VARIANT_NAMES[variant].padEnd(19)} ${fmt(m.events)} events in ${secs(m.ms)} → ${fmt(m.events / (m.ms / 1000))} events/s · ${m.detail} · ${describeCatchUp(caught)}`);
        for (const line of report.lines) log(`      ${line}`);
      }
    }
    log();
    const rawTotal = mergeRaw(raws);
    const rawStored = await raw.coll.countDocuments({});
    await raw.coll.drop();
    const rawRate = rawTotal.inserted / (rawTotal.ms / 1000);
    const off = mergeLoads(loads.off);
    const on = mergeLoads(loads.on);
    const asLoad = { ...rawTotal, requests: rawTotal.batches, events: rawTotal.inserted, accepted: rawTotal.inserted, duplicates: 0, refused: 0, statuses: new Map<string, number>(), acked: [] };
    reportVariant(`${VARIANT_NAMES.raw} (insertMany of the stored documents, ${PER_REQUEST} per batch, ${CLIENTS} in flight, ordered:false, {w:'majority', j:true})`, asLoad, EVENTS, slices.raw);
    reportVariant(`${VARIANT_NAMES.off} (/batch, every event with $process_person_profile: false)`, off, EVENTS, slices.off, bodyBytes.off);
    reportVariant(`${VARIANT_NAMES.on} (/batch, the same events without the flag)`, on, EVENTS, slices.on, bodyBytes.on);
    log(`Ratios: persons on / off ${fmt(rate(on) / rate(off), 2)} · on / raw insert ${fmt(rate(on) / rawRate, 2)} · off / raw insert ${fmt(rate(off) / rawRate, 2)}`);
    log();

    // ----- verification, straight from the store with majority reads
    const offStored = await verifyStored(db, offProject.id, off.acked);
    const onStored = await verifyStored(db, onProject.id, on.acked);
    const offPersons = await findPersons(db, offProject.id);
    const onPersons = await findPersons(db, onProject.id);
    const identities = compareIdentities(workload, on.acked, onPersons);
    log('Verification (uuid sets and persons, readConcern majority)');
    for (const [name, v] of [['persons off', offStored], ['persons on', onStored]] as const) {
      log(`  ${name}: acknowledged ${fmt(v.acked)} · stored ${fmt(v.stored)} (${fmt(v.distinct)} distinct) · lost ${fmt(v.lost)} · duplicates ${fmt(v.duplicates)} · stored without a 200 ${fmt(v.unackedStored)}`);
    }
    log(`  raw baseline collection: ${fmt(rawStored)} stored of ${fmt(rawTotal.inserted)} inserted, then dropped`);
    log(`  ${describePersons('persons off', offPersons)}`);
    log(`  ${describePersons('persons on', onPersons)}`);
    log(`  persons on, expected from the acknowledged events under PostHog's merge rules: ${fmt(identities.expectedPersons)} persons of ${fmt(identities.users)} users, ${fmt(identities.expectedIds)} distinct ids · ids without a person ${fmt(identities.missingIds)} · users split over persons ${fmt(identities.splitUsers)} · persons shared by users ${fmt(identities.sharedPersons)}`);
    const stop = await server.terminate();
    stopped = true;
    log(`  SIGTERM → exit ${stop.code ?? stop.signal} after ${secs(stop.ms)}${stop.killed ? ' (did not stop in time: killed)' : ''}`);
    log();
    if (rawStored !== rawTotal.inserted) throw new Error(`raw baseline: ${rawStored} stored of ${rawTotal.inserted} inserted`);
    outcome = { off, on, rawRate, offStored, onStored, offPersons, onPersons, identities, exit: stop.code ?? stop.signal };

    const busiest = Math.max(...Object.values(slices).flat().map((s) => s.report.othersCpu));
    if (busiest >= CONTENTION_WARN_PERCENT) {
      log(`warning: other processes on this machine used up to ${fmt(busiest)}% of a core during the measured rounds; the figures understate the server`);
      log();
    }
  } catch (error) {
    process.stderr.write(`server output so far:\n${server.stderr().split('\n').slice(-40).join('\n')}\n`);
    throw error;
  } finally {
    agent.destroy();
    await client.close().catch(() => undefined);
    if (!stopped) await server.terminate().catch(() => undefined);
    if (!KEEP) await rm(dataDir, { recursive: true, force: true });
  }

  const processing = outcome.onPersons.persons + outcome.onPersons.merging + outcome.onPersons.distinctIds > 0;
  if (!processing) log('note: the persons-on variant wrote no person: person processing looks like a placeholder, so its figure is not yet the real cost');
  printSummary(summaryRows(outcome, processing));
  log();
  log(`Total time ${secs(performance.now() - started)} · load average at the end ${loadAverage()}`);
  const failed = failures(outcome, processing);
  if (failed.length > 0) {
    process.stderr.write(`correctness failure:\n${failed.map((f) => `  ${f}\n`).join('')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
