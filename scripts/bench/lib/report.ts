import { execFileSync } from 'node:child_process';
import type { LoadResult, PreparedLoad } from './capture-load.ts';
import type { LivePhaseResult } from './live-phase.ts';
import type { PhaseReport } from './phase.ts';
import { describeLatency, fmt, log, secs, summarize } from './stats.ts';

/** One line of the summary table; `pass` undefined means informational. */
export interface Row {
  metric: string;
  value: string;
  target: string;
  pass: boolean | undefined;
}

/** `200 × 1,384, 503 × 2`: responses by status (or network error code). */
export function statusLine(statuses: Map<string, number>): string {
  return [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([status, n]) => `${status} × ${fmt(n)}`).join(', ') || 'none';
}

export function onlyOk(statuses: Map<string, number>): boolean {
  return [...statuses.keys()].every((status) => status === '200');
}

/** The commit measured, and whether the working tree differed from it. */
export function gitDescription(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `git ${sha}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'git: unknown';
  }
}

export function reportCapture(title: string, load: PreparedLoad, r: LoadResult, resources: PhaseReport, limitSeconds: number, extra: string[] = []): void {
  const seconds = r.ms / 1000;
  log(title);
  log(`  ${fmt(r.events)} events in ${fmt(r.requests)} requests, ${secs(r.ms)} → ${fmt(r.accepted / seconds)} events/s acknowledged, ${fmt(r.requests / seconds)} requests/s`);
  if (r.events < load.events) log(`  stopped by the ${limitSeconds} s time limit after ${fmt(r.events)} of ${fmt(load.events)} events`);
  log(`  body ${fmt(load.wireBytes / load.requests.length / 1024, 1)} KiB per request on the wire (${fmt(load.jsonBytes / load.events)} B JSON per event${load.gzip ? `, gzip ${fmt(load.jsonBytes / load.wireBytes, 1)}:1` : ''})`);
  log(`  latency  ${describeLatency(summarize(r.latencies))}`);
  log(`  status   ${statusLine(r.statuses)}${r.statuses.has('503') ? `   ← 503s: ${fmt(r.statuses.get('503')!)}` : ''}`);
  log(`  outcome  accepted ${fmt(r.accepted)} · duplicates ${fmt(r.duplicates)} · refused ${fmt(r.refused)}`);
  for (const line of [...resources.lines, ...extra]) log(`  ${line}`);
  log();
}

/** Which earlier phase the unexpected live deliveries belong to: events stored before the subscriptions opened. */
function originOf(uuids: Set<string>, phases: [string, string[]][]): string {
  const counts = phases.map(([name, acked]) => [name, acked.reduce((n, uuid) => n + (uuids.has(uuid) ? 1 : 0), 0)] as const);
  const known = counts.reduce((n, [, c]) => n + c, 0);
  const parts = counts.filter(([, c]) => c > 0).map(([name, c]) => `${name} ${fmt(c)}`);
  if (known < uuids.size) parts.push(`not sent by this run ${fmt(uuids.size - known)}`);
  return parts.join(', ');
}

export function reportLive(title: string, live: LivePhaseResult, resources: PhaseReport, earlier: [string, string[]][]): void {
  log(title);
  log(`  subscriptions live ${fmt(live.ready)} / ${fmt(live.subscribers)} after ${secs(live.readyMs)}${live.failed > 0 ? ` · failed ${fmt(live.failed)}` : ''}${live.socketErrors > 0 ? ` · socket errors ${fmt(live.socketErrors)}` : ''}`);
  for (const [message, n] of live.errors) log(`  subscription error × ${fmt(n)}: ${message}`);
  if (live.ready === 0) {
    log('  no subscription became live: delivery was not measured');
    log();
    return;
  }
  log(`  sent ${fmt(live.sentEvents)} events in ${secs(live.sendMs)}, acknowledged ${fmt(live.ackedEvents)}; capture latency ${describeLatency(live.captureLatency)}`);
  log(`  capture status  ${statusLine(live.statuses)}`);
  if (live.unanswered > 0) log(`  measurement stopped with ${fmt(live.unanswered)} capture requests unanswered (the server fell behind; see the limits in lib/live-phase.ts)`);
  log(`  delivered ${fmt(live.delivered)} / ${fmt(live.expected)} expected (${fmt((100 * live.delivered) / Math.max(1, live.expected), 2)}%) · duplicates ${fmt(live.duplicates)} · unexpected ${fmt(live.other)} · last delivery ${secs(live.drainMs)} after the first send`);
  if (live.other > 0) {
    log(`  unexpected deliveries: ${fmt(live.other)} of ${fmt(live.otherUuids.size)} distinct events from before the subscriptions opened (${originOf(live.otherUuids, earlier)}): the change feed was still behind the writes`);
  }
  log(`  receive − send      ${describeLatency(live.fromSend)}`);
  log(`  receive − response  ${describeLatency(live.fromAck)}   (${fmt(live.beforeAck)} deliveries arrived before the client had read the 200)`);
  for (const line of resources.lines) log(`  ${line}`);
  log();
}

export function printSummary(rows: Row[]): void {
  const w = [40, 46, 20];
  log('Summary');
  log(`  ${'metric'.padEnd(w[0]!)} ${'measured'.padEnd(w[1]!)} ${'target'.padEnd(w[2]!)} result`);
  log(`  ${'-'.repeat(w[0]! + w[1]! + w[2]! + 9)}`);
  for (const row of rows) {
    const result = row.pass === undefined ? '' : row.pass ? 'PASS' : 'FAIL';
    log(`  ${row.metric.padEnd(w[0]!)} ${row.value.padEnd(w[1]!)} ${row.target.padEnd(w[2]!)} ${result}`);
  }
}

