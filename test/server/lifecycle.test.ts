import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startTestStore, tempDataDir, type TestStore } from '../helpers/store.ts';
import { waitFor } from '../helpers/waiting.ts';
import { startCaptureLoad, LOAD_EVENT } from '../fixtures/server/capture-load.ts';
import { duplicatesOf, storedEvents } from '../fixtures/server/stored-events.ts';
import { RawHttpConnection } from '../fixtures/server/raw-http.ts';

/*
 * The process around the API: configuration checked before anything starts, liveness and readiness
 * as a load balancer sees them, and what capture answers while the database is unreachable.
 */

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs src/main.ts with `env` on top of a clean Sightline environment; resolves when it exits. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const base = { ...process.env };
  for (const name of ['PORT', 'HOST', 'MONGODB_URL', 'DATA_DIR', 'ADMIN_KEY', 'LOG_LEVEL', 'NODE_ENV', 'EMBEDDED_STORE_PORT']) delete base[name];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  return new Promise((resolve) => {
    // Safety net: a process that starts despite the bad configuration must not outlive the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function capture(url: string, token: string, uuid: string) {
  const response = await fetch(`${url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: token, batch: [{ event: 'probe', distinct_id: 'probe-user', uuid }] }),
    signal: AbortSignal.timeout(25_000),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

describe('configuration', () => {
  it('an invalid environment stops the process with a non-zero exit code and names every problem at once', async () => {
    const dataDir = await tempDataDir('sightline-badenv-');
    try {
      const { code, stderr } = await runMain({ PORT: 'abc', LOG_LEVEL: 'loud', DATA_DIR: dataDir, EMBEDDED_STORE_PORT: '0' });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toMatch(/\bPORT\b/);
      expect(stderr).toMatch(/\bLOG_LEVEL\b/);
      expect(stderr).not.toMatch(/Sightline is running/);
      // Nothing was started: no store, no generated key.
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('health and readiness over an external database', () => {
  let external: TestStore;
  let server: TestServer;

  beforeAll(async () => {
    external = await startTestStore();
    server = await startTestServer({ mongodbUrl: external.store.url });
  });

  afterAll(async () => {
    await server?.dispose();
    await external?.dispose();
  });

  it('/healthz and /readyz answer 200 while the database answers', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('with the database unreachable: /readyz 503, capture 503 with Retry-After, and no 2xx for an event that was not stored', async () => {
    const { dataDir } = external;
    const load = startCaptureLoad({ url: server.url, token: server.project.apiToken, clients: 4, batchSize: 3 });
    try {
      await waitFor(() => load.acked.size >= 60, 20_000, 'capture to be acknowledged');

      load.mark('database down');
      await external.stop();

      const unready = await fetch(`${server.url}/readyz`);
      expect(unready.status).toBe(503);
      // The process itself is alive: liveness must not fail with the database.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      const refusedUuid = randomUUID();
      const refused = await capture(server.url, server.project.apiToken, refusedUuid);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'service_unavailable' });
      expect(refused.retryAfter).toMatch(/^\d+$/);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      // The clients that were capturing when the database went away are told the same.
      await waitFor(
        () => load.outcomes.some((o) => o.phase === 'database down' && o.status === 503),
        20_000,
        'a 503 for the clients capturing during the outage',
      );
      await load.stop();
      expect(load.unexpected).toEqual([]);

      // What the database holds, read from its data directory: every acknowledged event, once; the 503 was honest.
      external = await startTestStore({ dataDir });
      expect((await storedEvents(external.client, 'probe')).map((e) => e.uuid)).not.toContain(refusedUuid);
      const stored = (await storedEvents(external.client, LOAD_EVENT)).map((e) => e.uuid);
      expect(duplicatesOf(stored)).toEqual([]);
      const present = new Set(stored);
      expect([...load.acked].filter((uuid) => !present.has(uuid))).toEqual([]);
      expect(load.acked.size).toBeGreaterThanOrEqual(60);
    } finally {
      await load.stop();
    }
  }, 60_000);
});

describe('graceful stop', () => {
  it('finishes capture requests in flight, answers 503 + Retry-After to what arrives later on an open connection, and refuses new connections', async () => {
    const server = await startTestServer();
    const token = server.project.apiToken;
    const bodyFor = (uuid: string) => JSON.stringify({ api_key: token, batch: [{ event: 'stop_probe', distinct_id: 'u', uuid }] });
    const [heldUuid, busyUuid, lateUuid] = [randomUUID(), randomUUID(), randomUUID()];
    const connections: RawHttpConnection[] = [];
    let stopping: Promise<void> | undefined;
    try {
      // Two capture requests whose bodies are half sent. A GET in front of each proves the server has
      // read the request head too: both arrive in one write, so its answer comes after the head was parsed.
      const openInFlight = async (uuid: string) => {
        const connection = await RawHttpConnection.open(server.url);
        connections.push(connection);
        const body = bodyFor(uuid);
        connection.write(
          `GET /healthz HTTP/1.1\r\nHost: sightline.test\r\n\r\n${RawHttpConnection.postHead('/batch', Buffer.byteLength(body))}${body.slice(0, 20)}`,
        );
        expect((await connection.response()).status).toBe(200);
        return { connection, rest: body.slice(20) };
      };
      const held = await openInFlight(heldUuid);
      const busy = await openInFlight(busyUuid);

      stopping = server.app.stop(15_000);

      // The busy connection finishes its request and, behind it, sends one more.
      const late = bodyFor(lateUuid);
      busy.connection.write(`${busy.rest}${RawHttpConnection.postHead('/batch', Buffer.byteLength(late))}${late}`);
      const finished = await busy.connection.response();
      expect(finished.status).toBe(200);
      expect(JSON.parse(finished.body)).toMatchObject({ accepted: 1 });
      const refused = await busy.connection.response();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.headers['connection']).toBe('close');
      await busy.connection.whenClosed();

      // New connections are refused while the last request is still being finished.
      const fresh = await fetch(`${server.url}/healthz`).then(
        (r) => `HTTP ${r.status}`,
        (error: { cause?: { code?: string } }) => error.cause?.code,
      );
      expect(fresh).toBe('ECONNREFUSED');

      held.connection.write(held.rest);
      const heldAnswer = await held.connection.response();
      expect(heldAnswer.status).toBe(200);
      expect(JSON.parse(heldAnswer.body)).toMatchObject({ accepted: 1 });
      await stopping;

      const stored = (await storedEvents(server.storage.client, 'stop_probe')).map((e) => e.uuid);
      expect(stored.sort()).toEqual([heldUuid, busyUuid].sort());
    } finally {
      for (const connection of connections) connection.destroy();
      await (stopping ?? server.app.stop(1_000)).catch(() => undefined);
      await server.storage.close();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  });
});
