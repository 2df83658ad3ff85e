import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { post } from './http-client.ts';
import { LiveSubscribers, PROBE_EVENT } from './live-subscribers.ts';
import type { CatchUpOptions } from './feed-catch-up.ts';
import type { CaptureEvent } from './posthog-events.ts';
import { summarize, type LatencySummary } from './stats.ts';

/** Where the phase sends and subscribes: the same target the catch-up wait uses, minus its time limit. */
export interface LivePhaseOptions extends Omit<CatchUpOptions, 'limitMs'> {
  subscribers: number;
  sockets: number;
  /** Events per second, sent open-loop (on a fixed schedule, whatever the response times). */
  rate: number;
  seconds: number;
  perRequest: number;
  readyTimeoutMs?: number;
  drainLimitMs?: number;
}

export interface LivePhaseResult {
  subscribers: number;
  ready: number;
  readyMs: number;
  failed: number;
  errors: Map<string, number>;
  socketErrors: number;
  sentEvents: number;
  ackedEvents: number;
  acked: string[];
  statuses: Map<string, number>;
  sendMs: number;
  /** From the first send until the last delivery (or until delivery stopped progressing). */
  drainMs: number;
  expected: number;
  delivered: number;
  /** Capture requests still unanswered when measurement stopped. */
  unanswered: number;
  duplicates: number;
  other: number;
  otherUuids: Set<string>;
  fromSend: LatencySummary;
  fromAck: LatencySummary;
  /** Deliveries that arrived before the client had read the /batch response (fan-out beat the reply). */
  beforeAck: number;
  captureLatency: LatencySummary;
}

const PROBE_INTERVAL_MS = 250;
const QUIET_MS = 3_000;
/** After the last send: how long to wait for replies and deliveries before calling the rest undelivered. */
const DRAIN_LIMIT_MS = 15_000;
/** After closing the subscriptions: how long outstanding capture replies may still take. */
const REPLY_LIMIT_MS = 30_000;

export async function runLivePhase(o: LivePhaseOptions): Promise<LivePhaseResult> {
  const requests = Math.max(1, Math.round((o.rate * o.seconds) / o.perRequest));
  const batches = Array.from({ length: requests }, () => Array.from({ length: o.perRequest }, o.next));
  const tracked = batches.flat().map((e) => e.uuid);
  const sentAt = new Float64Array(tracked.length).fill(NaN);
  const ackedAt = new Float64Array(tracked.length).fill(NaN);
  const statuses = new Map<string, number>();
  const acked: string[] = [];
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
  const headers = { 'content-type': 'application/json' };
  const captureLatencies: number[] = [];

  const send = async (events: CaptureEvent[], first: number | undefined): Promise<void> => {
    const t0 = performance.now();
    // The send instant travels with the event too, so anyone reading the stored data can see it.
    for (const e of events) e.properties.bench_sent_at = performance.timeOrigin + t0;
    const body = Buffer.from(JSON.stringify({ api_key: o.token, batch: events }));
    if (first !== undefined) sentAt.fill(t0, first, first + events.length);
    try {
      const res = await post(o.agent, o.url, body, headers);
      const t1 = performance.now();
      count(String(res.status));
      if (first !== undefined) captureLatencies.push(t1 - t0);
      if (res.status !== 200) return;
      const refused = new Set(((JSON.parse(res.body) as { errors?: { index: number }[] }).errors ?? []).map((e) => e.index));
      events.forEach((e, k) => {
        if (refused.has(k)) return;
        acked.push(e.uuid);
        if (first !== undefined) ackedAt[first + k] = t1;
      });
    } catch (error) {
      count((error as NodeJS.ErrnoException).code ?? 'network error');
    }
  };

  const subs = new LiveSubscribers({ ...o, tracked });
  try {
    subs.open();
    // graphql-ws has no "subscribed" acknowledgement: a subscription is live once it has seen an event.
    const readyStarted = performance.now();
    const readyLimit = o.readyTimeoutMs ?? 30_000;
    while (subs.readyCount + subs.failed < o.subscribers && performance.now() - readyStarted < readyLimit) {
      const probe = o.next();
      probe.event = PROBE_EVENT;
      await send([probe], undefined);
      await sleep(PROBE_INTERVAL_MS);
    }
    const readyMs = performance.now() - readyStarted;

    let sendMs = 0;
    let drainMs = 0;
    let unanswered = 0;
    const inFlight: Promise<void>[] = [];
    if (subs.readyCount > 0) {
      const interval = (1000 * o.perRequest) / o.rate;
      const started = performance.now();
      let settled = 0;
      for (let k = 0; k < batches.length; k++) {
        const due = started + k * interval - performance.now();
        if (due > 0) await sleep(due);
        inFlight.push(send(batches[k]!, k * o.perRequest).finally(() => (settled += 1)));
      }
      sendMs = performance.now() - started;
      // Wait for replies and deliveries, but only so long: an overloaded fan-out must not stretch the run.
      let lastProgress = performance.now();
      let seen = -1;
      const done = () => settled === batches.length && subs.delivered >= countTracked(ackedAt) * o.subscribers;
      while (!done() && performance.now() - lastProgress < QUIET_MS && performance.now() - started < sendMs + (o.drainLimitMs ?? DRAIN_LIMIT_MS)) {
        await sleep(50);
        if (subs.delivered + settled !== seen) {
          seen = subs.delivered + settled;
          lastProgress = performance.now();
        }
      }
      unanswered = batches.length - settled;
      let lastReceive = started;
      for (let d = 0; d < subs.delivered; d++) lastReceive = Math.max(lastReceive, subs.receivedAt[d]!);
      drainMs = lastReceive - started;
    }
    // Measurement ends here; closing the subscriptions relieves the server, so outstanding replies can arrive.
    const delivered = subs.delivered;
    await subs.close();
    await settleWithin(inFlight, REPLY_LIMIT_MS);

    const fromSend = new Float64Array(delivered);
    const fromAck: number[] = [];
    let beforeAck = 0;
    for (let d = 0; d < delivered; d++) {
      const i = subs.deliveredEvent[d]!;
      const received = subs.receivedAt[d]!;
      fromSend[d] = received - sentAt[i]!;
      if (Number.isFinite(ackedAt[i]!)) {
        fromAck.push(received - ackedAt[i]!);
        if (received < ackedAt[i]!) beforeAck += 1;
      }
    }
    const ackedEvents = countTracked(ackedAt);
    return {
      subscribers: o.subscribers,
      ready: subs.readyCount,
      readyMs,
      failed: subs.failed,
      errors: subs.errors,
      socketErrors: subs.socketErrors,
      sentEvents: sendMs > 0 ? tracked.length : 0,
      ackedEvents,
      acked,
      statuses,
      sendMs,
      drainMs,
      expected: ackedEvents * o.subscribers,
      delivered,
      unanswered,
      duplicates: subs.duplicates,
      other: subs.other,
      otherUuids: subs.otherUuids,
      fromSend: summarize(fromSend),
      fromAck: summarize(fromAck),
      beforeAck,
      captureLatency: summarize(captureLatencies),
    };
  } finally {
    await subs.close();
  }
}

/** Waits for `promises` for at most `limitMs`, without leaving a timer that keeps the process alive. */
async function settleWithin(promises: Promise<unknown>[], limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise((resolve) => (timer = setTimeout(resolve, limitMs)))]);
  clearTimeout(timer);
}

function countTracked(ackedAt: Float64Array): number {
  let n = 0;
  for (const t of ackedAt) if (Number.isFinite(t)) n += 1;
  return n;
}
