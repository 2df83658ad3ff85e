import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort, spawnServer, type ServerProcess } from '../helpers/server.ts';
import { tempDataDir } from '../helpers/store.ts';
import { waitFor } from '../helpers/waiting.ts';
import { parseBanner, type Banner } from '../fixtures/server/banner.ts';
import { LOAD_EVENT, startCaptureLoad, type CaptureLoad } from '../fixtures/server/capture-load.ts';
import { duplicatesOf, storedEventsAt, storedEventsIn } from '../fixtures/server/stored-events.ts';

/*
 * "No acknowledged event is lost" across the two ways a server process ends: a graceful SIGTERM and a
 * kill -9. The server runs as its own process (src/main.ts on the embedded store, as `npm start` runs
 * it); clients capture continuously over real HTTP, and the data directory is read back with the
 * official driver afterwards.
 */

const CLIENTS = 8;
const BATCH = 5;
/** Acknowledged events to wait for before pulling the plug, so the signal lands mid-load. */
const ACKED_BEFORE_SIGNAL = 400;

const dirs: string[] = [];
const processes: ServerProcess[] = [];
const loads: CaptureLoad[] = [];
const wsClients: Client[] = [];

afterEach(async () => {
  await Promise.all(loads.splice(0).map((load) => load.stop()));
  await Promise.all(wsClients.splice(0).map((client) => client.dispose()));
  for (const server of processes.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const gone = exitOf(server);
      server.child.kill('SIGKILL');
      await gone;
    }
  }
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newDataDir(prefix: string): Promise<string> {
  const dir = await tempDataDir(prefix);
  dirs.push(dir);
  return dir;
}

async function start(env: Record<string, string>): Promise<{ server: ServerProcess; banner: Banner }> {
  const server = await spawnServer(env);
  processes.push(server);
  return { server, banner: parseBanner(server.banner()) };
}

function exitOf(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function load(banner: Banner): CaptureLoad {
  const running = startCaptureLoad({ url: banner.url, token: banner.project!.token, clients: CLIENTS, batchSize: BATCH });
  loads.push(running);
  return running;
}

const missingFrom = (acked: Set<string>, stored: string[]) => {
  const present = new Set(stored);
  return [...acked].filter((uuid) => !present.has(uuid));
};

describe('SIGTERM during capture load', () => {
  it('exits 0, refuses connections afterwards, and every acknowledged event is stored exactly once', async () => {
    const dataDir = await newDataDir('sightline-sigterm-');
    const { server, banner } = await start({ DATA_DIR: dataDir });
    const running = load(banner);
    await waitFor(() => running.acked.size >= ACKED_BEFORE_SIGNAL, 30_000, `${ACKED_BEFORE_SIGNAL} acknowledged events`);

    running.mark('after SIGTERM');
    const code = await server.terminate();
    running.mark('after exit');
    // Every client gets to knock on the closed port at least once.
    await waitFor(() => running.outcomes.filter((o) => o.phase === 'after exit').length >= CLIENTS, 10_000, 'requests after the exit');
    await running.stop();

    expect(code).toBe(0);
    expect(running.unexpected).toEqual([]);
    const afterExit = running.outcomes.filter((o) => o.phase === 'after exit');
    expect(afterExit.filter((o) => o.error !== 'ECONNREFUSED')).toEqual([]);

    const stored = (await storedEventsIn(dataDir, LOAD_EVENT)).map((e) => e.uuid);
    expect(duplicatesOf(stored)).toEqual([]);
    expect(missingFrom(running.acked, stored)).toEqual([]);
    // Nothing appears that no client sent.
    expect(stored.filter((uuid) => !running.sent.has(uuid))).toEqual([]);
    expect(running.acked.size).toBeGreaterThanOrEqual(ACKED_BEFORE_SIGNAL);
  });

  it('closes an open eventStream subscription with 1001 (going away)', async () => {
    const dataDir = await newDataDir('sightline-sigterm-ws-');
    const { server, banner } = await start({ DATA_DIR: dataDir });
    const closes: { code: number; reason: string }[] = [];
    const client = createClient({
      url: `${banner.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${banner.adminKey}` },
      retryAttempts: 0,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          closes.push({ code, reason });
        },
      },
    });
    wsClients.push(client);
    const received: string[] = [];
    const errors: unknown[] = [];
    client.subscribe<{ eventStream: { uuid: string } }>(
      { query: 'subscription($p: ID!) { eventStream(projectId: $p) { uuid } }', variables: { p: banner.project!.id } },
      {
        next: (message) => {
          if (message.errors) errors.push(...message.errors);
          if (message.data) received.push(message.data.eventStream.uuid);
        },
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );

    // The subscription is live once it delivers an event captured after it started; events stored
    // before the server registered it are not replayed, so keep capturing fresh ones until one arrives.
    const sent: string[] = [];
    await waitFor(
      async () => {
        if (sent.some((uuid) => received.includes(uuid))) return true;
        const uuid = randomUUID();
        const response = await fetch(`${banner.url}/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ api_key: banner.project!.token, batch: [{ event: 'ws_probe', distinct_id: 'probe', uuid }] }),
        });
        expect(response.status).toBe(200);
        sent.push(uuid);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return sent.some((id) => received.includes(id));
      },
      15_000,
      'the subscription to deliver a captured event',
    );
    expect(errors).toEqual([]);
    expect(closes).toEqual([]);

    const code = await server.terminate();
    await waitFor(() => closes.length > 0, 10_000, 'the WebSocket to close');
    expect(closes[0]!.code).toBe(1001);
    expect(code).toBe(0);
  });
});

describe('kill -9 during capture load', () => {
  it('after a restart on the same data directory every acknowledged event is there, once, including batches retried across the crash', async () => {
    const dataDir = await newDataDir('sightline-kill9-');
    // A fixed port, so the clients' retries reach the restarted process as an SDK's would.
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
    const first = await start(env);
    const running = load(first.banner);
    await waitFor(() => running.acked.size >= ACKED_BEFORE_SIGNAL, 30_000, `${ACKED_BEFORE_SIGNAL} acknowledged events`);

    const killed = exitOf(first.server);
    first.server.child.kill('SIGKILL');
    expect((await killed).signal).toBe('SIGKILL');
    const ackedAtKill = running.acked.size;

    // The lock and the log of the killed process are taken over; the same key and project come back.
    const second = await start(env);
    expect(second.banner.adminKey).toBeUndefined();
    expect(second.banner.adminKeyPath).toBe(first.banner.adminKeyPath);
    expect(second.banner.project).toEqual(first.banner.project);
    // The clients resend what was unanswered at the kill, then carry on with new events.
    await waitFor(() => running.acked.size >= ackedAtKill + ACKED_BEFORE_SIGNAL / 2, 30_000, 'capture to resume after the restart');
    await running.stop();

    expect(running.unexpected).toEqual([]);

    const stored = (await storedEventsAt(second.banner.storeUrl, LOAD_EVENT)).map((e) => e.uuid);
    expect(duplicatesOf(stored)).toEqual([]);
    expect(missingFrom(running.acked, stored)).toEqual([]);
    expect(stored.filter((uuid) => !running.sent.has(uuid))).toEqual([]);

    expect(await second.server.terminate()).toBe(0);
  });
});
