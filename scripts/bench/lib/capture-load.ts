import type { Agent } from 'node:http';
import { gzipSync } from 'node:zlib';
import { post } from './http-client.ts';
import type { CaptureEvent } from './posthog-events.ts';
import { pool } from './stats.ts';

/** One `/batch` request, encoded before the clock starts so the load generator spends little CPU while measured. */
export interface PreparedRequest {
  uuids: string[];
  body: Buffer;
}

export interface PreparedLoad {
  requests: PreparedRequest[];
  events: number;
  jsonBytes: number;
  wireBytes: number;
  gzip: boolean;
}

/** Draws `count` events from `next` into requests of `perRequest`, as posthog-node sends them. */
export function prepareLoad(
  next: () => CaptureEvent,
  count: number,
  perRequest: number,
  token: string,
  gzip: boolean,
  keep?: (batch: CaptureEvent[]) => void,
): PreparedLoad {
  const requests: PreparedRequest[] = [];
  let jsonBytes = 0;
  let wireBytes = 0;
  for (let start = 0; start < count; start += perRequest) {
    const batch = Array.from({ length: Math.min(perRequest, count - start) }, next);
    keep?.(batch);
    const json = Buffer.from(JSON.stringify({ api_key: token, batch }));
    const body = gzip ? gzipSync(json) : json;
    jsonBytes += json.length;
    wireBytes += body.length;
    requests.push({ uuids: batch.map((e) => e.uuid), body });
  }
  return { requests, events: count, jsonBytes, wireBytes, gzip };
}

export interface LoadResult {
  ms: number;
  /** Requests sent: all of them, unless the time limit stopped the run early. */
  requests: number;
  events: number;
  /** Events in requests answered 200, minus any the response listed as refused. */
  accepted: number;
  duplicates: number;
  refused: number;
  /** Response count by HTTP status, or by error code when the request failed on the network. */
  statuses: Map<string, number>;
  latencies: Float64Array;
  /** Uuids the server acknowledged, for the final acked ⊆ stored check. */
  acked: string[];
}

interface CaptureResponse {
  accepted?: number;
  duplicates?: number;
  errors?: { index: number }[];
}

/**
 * Closed loop: `clients` workers, each sending its next request as soon as the previous one is answered.
 * No retries, so every non-200 is visible in the status counts (and its events stay unacknowledged).
 */
export async function runCaptureLoad(url: URL, agent: Agent, load: PreparedLoad, clients: number, limitMs = Infinity): Promise<LoadResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (load.gzip) headers['content-encoding'] = 'gzip';
  const latencies = new Float64Array(load.requests.length);
  const statuses = new Map<string, number>();
  const acked: string[] = [];
  let accepted = 0;
  let duplicates = 0;
  let refused = 0;
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
  let events = 0;
  const started = performance.now();
  const sent = await pool(load.requests.length, clients, async (i) => {
    const { body, uuids } = load.requests[i]!;
    events += uuids.length;
    const t0 = performance.now();
    try {
      const res = await post(agent, url, body, headers);
      latencies[i] = performance.now() - t0;
      count(String(res.status));
      if (res.status !== 200) return;
      const parsed = JSON.parse(res.body) as CaptureResponse;
      accepted += parsed.accepted ?? 0;
      duplicates += parsed.duplicates ?? 0;
      const bad = new Set((parsed.errors ?? []).map((e) => e.index));
      refused += bad.size;
      uuids.forEach((uuid, k) => bad.has(k) || acked.push(uuid));
    } catch (error) {
      latencies[i] = performance.now() - t0;
      count((error as NodeJS.ErrnoException).code ?? 'network error');
    }
  }, started + limitMs);
  const ms = performance.now() - started;
  return { ms, requests: sent, events, accepted, duplicates, refused, statuses, latencies: latencies.subarray(0, sent), acked };
}
