import type { Agent } from 'node:http';
import type { LoadResult, PreparedLoad, PreparedRequest } from './capture-load.ts';
import { post } from './http-client.ts';
import type { CaptureEvent } from './posthog-events.ts';
import { pool } from './stats.ts';

/** A `/batch` request that also carries the User-Agent header of the browser it came from. */
export interface BrowserRequest extends PreparedRequest {
  userAgent: string;
}

export interface BrowserLoad extends PreparedLoad {
  requests: BrowserRequest[];
}

/**
 * Encodes `batches` for one project before the clock starts: the project token goes into the body and
 * every event's properties, and `extraProperties` (e.g. `$process_person_profile: false`) into every
 * event, so two phases can send the same events and differ in nothing else.
 */
export function encodeBrowserLoad(batches: CaptureEvent[][], userAgents: string[], token: string, extraProperties: Record<string, unknown> = {}): BrowserLoad {
  const requests: BrowserRequest[] = [];
  let bytes = 0;
  let events = 0;
  batches.forEach((batch, i) => {
    const sent = batch.map((e) => ({ ...e, properties: { ...e.properties, token, ...extraProperties } }));
    const body = Buffer.from(JSON.stringify({ api_key: token, batch: sent }));
    bytes += body.length;
    events += batch.length;
    requests.push({ uuids: batch.map((e) => e.uuid), body, userAgent: userAgents[i]! });
  });
  return { requests, events, jsonBytes: bytes, wireBytes: bytes, gzip: false };
}

interface CaptureResponse {
  accepted?: number;
  duplicates?: number;
  errors?: { index: number }[];
}

/**
 * The closed loop of capture-load.ts (`clients` workers, no retries, no request started after `limitMs`),
 * with each request's own User-Agent header so the server's user-agent parsing sees a realistic mix.
 */
export async function runBrowserLoad(url: URL, agent: Agent, load: BrowserLoad, clients: number, limitMs = Infinity): Promise<LoadResult> {
  const latencies = new Float64Array(load.requests.length);
  const statuses = new Map<string, number>();
  const acked: string[] = [];
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
  let accepted = 0;
  let duplicates = 0;
  let refused = 0;
  let events = 0;
  const started = performance.now();
  const sent = await pool(load.requests.length, clients, async (i) => {
    const { body, uuids, userAgent } = load.requests[i]!;
    events += uuids.length;
    const t0 = performance.now();
    try {
      const res = await post(agent, url, body, { 'content-type': 'application/json', 'user-agent': userAgent });
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
