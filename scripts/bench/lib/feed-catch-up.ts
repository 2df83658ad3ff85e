import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { post } from './http-client.ts';
import { LiveSubscribers, PROBE_EVENT } from './live-subscribers.ts';
import type { CaptureEvent } from './posthog-events.ts';

export interface CatchUpOptions {
  url: URL;
  wsUrl: string;
  agent: Agent;
  token: string;
  adminKey: string;
  projectId: string;
  next: () => CaptureEvent;
  limitMs: number;
}

export interface CatchUp {
  caughtUp: boolean;
  ms: number;
  /** Events stored before the watcher subscribed but delivered to it afterwards: the feed's backlog. */
  backlog: number;
  /** Watchers the server ended (e.g. as slow consumers) before a probe came through. */
  watchersEnded: number;
  acked: string[];
}

const PROBE_INTERVAL_MS = 250;

/**
 * Waits until the server's live feed has caught up with the writes: one subscriber, and a probe event
 * captured every 250 ms until one of them is delivered. Run after each write phase, so the next phase
 * starts on an idle server, and the time it took says how far live delivery lagged behind capture.
 */
export async function waitForFeed(o: CatchUpOptions): Promise<CatchUp> {
  const started = performance.now();
  const acked: string[] = [];
  let backlog = 0;
  let watchersEnded = 0;
  while (performance.now() - started < o.limitMs) {
    const watcher = new LiveSubscribers({ wsUrl: o.wsUrl, adminKey: o.adminKey, projectId: o.projectId, subscribers: 1, sockets: 1, tracked: [] });
    try {
      watcher.open();
      while (watcher.readyCount === 0 && watcher.failed === 0 && performance.now() - started < o.limitMs) {
        const probe = o.next();
        probe.event = PROBE_EVENT;
        const res = await post(o.agent, o.url, Buffer.from(JSON.stringify({ api_key: o.token, batch: [probe] })), { 'content-type': 'application/json' });
        if (res.status === 200) acked.push(probe.uuid);
        await sleep(PROBE_INTERVAL_MS);
      }
      backlog += watcher.other;
      if (watcher.readyCount > 0) return { caughtUp: true, ms: performance.now() - started, backlog, watchersEnded, acked };
      if (watcher.failed > 0) watchersEnded += 1;
    } finally {
      await watcher.close();
    }
  }
  return { caughtUp: false, ms: performance.now() - started, backlog, watchersEnded, acked };
}
