import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { ObjectId } from 'mongodb';
import { PostHog } from 'posthog-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { countEvents, expectOk, send, storedByUuid, storedEvents } from '../fixtures/capture/harness.ts';
import { buildFixtures, FIXTURE_TOKEN, fixturePath, readFixture, serializeFixture, type CaptureFixture } from '../fixtures/capture/generate.ts';

/*
 * Real SDK traffic against the real server: the posthog-node package sending over HTTP, posthog-js's
 * own request module (its encoders and transports run fine in Node without a DOM), and recorded
 * posthog-js wire fixtures (see test/fixtures/capture/generate.ts) replayed byte for byte.
 */

const require = createRequire(import.meta.url);
const NODE_SDK_VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/posthog-node/package.json', import.meta.url), 'utf8')) as { version: string }).version;

let server: TestServer;
let token: string;
let fixtureProjectId: string;

beforeAll(async () => {
  server = await startTestServer();
  token = server.project.apiToken;
  // The fixtures carry a fixed token, so the project that owns it is created with that token.
  fixtureProjectId = new ObjectId().toHexString();
  await server.storage.db
    .collection('projects')
    .insertOne({ _id: fixtureProjectId as never, name: 'Fixture project', apiToken: FIXTURE_TOKEN, timezone: 'UTC', createdAt: new Date() });
});

afterAll(async () => {
  await server?.dispose();
});

/** One request the SDK made, as it left the process. */
interface Recorded {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  status: number;
}

/** The JSON a recorded posthog-node request carried (gunzipped when it says so). */
function decodeNodeBody(request: Recorded): { api_key: string; batch: Record<string, any>[]; sent_at: string; historical_migration?: boolean } {
  const raw = request.headers['Content-Encoding'] === 'gzip' ? gunzipSync(request.body) : request.body;
  return JSON.parse(raw.toString('utf8'));
}

/** A posthog-node client whose requests go to the test server over real HTTP and are recorded on the way. */
function nodeClient(options: Record<string, unknown>) {
  const requests: Recorded[] = [];
  const errors: unknown[] = [];
  const client = new PostHog(token, {
    host: server.url,
    flushInterval: 0,
    ...options,
    fetch: async (url, init) => {
      const body = init.body instanceof Blob ? Buffer.from(await init.body.arrayBuffer()) : Buffer.from(init.body ?? '');
      const response = await fetch(url, { method: init.method, headers: init.headers, body, signal: init.signal });
      requests.push({ url, headers: init.headers, body, status: response.status });
      return response;
    },
  });
  client.on('error', (error: unknown) => errors.push(error));
  return { client, requests, errors };
}

describe('posthog-node', () => {
  it('capture, identify, alias and groupIdentify all arrive as sent (flushAt 1, gzip)', async () => {
    const { client, requests, errors } = nodeClient({ flushAt: 1, disableCompression: false });
    client.capture({ distinctId: 'node-user-1', event: 'order placed', properties: { amount: 42.5, currency: 'EUR', tags: ['a', 'b'] } });
    client.identify({ distinctId: 'node-user-1', properties: { email: 'node@example.com', $set_once: { signup: 'today' } } });
    client.alias({ distinctId: 'node-user-1', alias: 'node-alias-1' });
    client.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { name: 'Acme Inc' } });
    client.capture({ distinctId: 'node-user-1', event: 'with groups', groups: { company: 'acme' } });
    await client.shutdown();

    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    for (const request of requests) {
      expect(new URL(request.url).pathname).toBe('/batch/');
      expect(request.headers['Content-Encoding']).toBe('gzip');
      expect(request.status).toBe(200);
    }
    const sent = requests.flatMap((r) => decodeNodeBody(r).batch);
    expect(sent.map((m) => m.event)).toEqual(['order placed', '$identify', '$create_alias', '$groupidentify', 'with groups']);

    const stored = await storedByUuid(server, sent.map((m) => m.uuid));
    expect(stored.size).toBe(5);
    for (const message of sent) {
      const got = stored.get(message.uuid)!;
      expect(got.uuid).toBe(message.uuid);
      expect(got.event).toBe(message.event);
      expect(got.distinctId).toBe(message.distinct_id);
      expect(got.projectId).toBe(server.project._id);
      expect(got.properties.$lib).toBe('posthog-node');
      expect(got.properties.$lib_version).toBe(NODE_SDK_VERSION);
      expect(got.properties.$geoip_disable).toBe(true);
    }
    const [order, identify, alias, group, grouped] = sent.map((m) => stored.get(m.uuid)!);
    expect(order!.properties).toMatchObject({ amount: 42.5, currency: 'EUR', tags: ['a', 'b'] });
    expect(order!.distinctId).toBe('node-user-1');
    expect(identify!.properties.$set).toMatchObject({ email: 'node@example.com' });
    expect(identify!.properties.$set_once).toMatchObject({ signup: 'today' });
    expect(alias!.properties).toMatchObject({ alias: 'node-alias-1' });
    expect(group!.distinctId).toBe('$company_acme');
    expect(group!.properties).toMatchObject({ $group_type: 'company', $group_key: 'acme', $group_set: { name: 'Acme Inc' } });
    expect(grouped!.properties.$groups).toEqual({ company: 'acme' });
  });

  it('batches many events per request and every one is stored exactly once', async () => {
    const { client, requests, errors } = nodeClient({ flushAt: 20, maxBatchSize: 100, disableCompression: false });
    for (let i = 0; i < 45; i++) client.capture({ distinctId: `batch-user-${i % 3}`, event: 'node batch', properties: { i } });
    await client.shutdown();

    expect(errors).toEqual([]);
    const sent = requests.flatMap((r) => decodeNodeBody(r).batch);
    expect(sent).toHaveLength(45);
    expect(requests.length).toBeLessThan(45);
    expect(Math.max(...requests.map((r) => decodeNodeBody(r).batch.length))).toBeGreaterThan(1);

    const stored = await storedByUuid(server, sent.map((m) => m.uuid));
    expect(stored.size).toBe(45);
    expect([...stored.values()].map((e) => e.properties.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(await countEvents(server, { event: 'node batch' })).toBe(45);
  });

  it('an SDK retry of the same requests stores nothing new and is still a success', async () => {
    const { client, requests } = nodeClient({ flushAt: 5, disableCompression: false });
    for (let i = 0; i < 10; i++) client.capture({ distinctId: 'retry-user', event: 'node retry', properties: { i } });
    await client.shutdown();
    expect(await countEvents(server, { event: 'node retry' })).toBe(10);

    for (const request of requests) {
      const reply = await send(server, new URL(request.url).pathname, { method: 'POST', headers: request.headers, body: request.body });
      expectOk(reply, 0, decodeNodeBody(request).batch.length);
    }
    expect(await countEvents(server, { event: 'node retry' })).toBe(10);
  });

  it('works uncompressed, with explicit uuids and timestamps, and with captureImmediate', async () => {
    const { client, requests, errors } = nodeClient({ flushAt: 1, disableCompression: true });
    const uuid = '0190f000-0000-7000-8000-0000000000aa';
    const timestamp = new Date(Date.now() - 3_600_000);
    client.capture({ distinctId: 'plain-user', event: 'node plain', uuid, timestamp });
    await client.captureImmediate({ distinctId: 'plain-user', event: 'node immediate' });
    await client.shutdown();

    expect(errors).toEqual([]);
    for (const request of requests) expect(request.headers['Content-Encoding']).toBeUndefined();
    const stored = await storedByUuid(server, [uuid]);
    expect(stored.get(uuid)).toMatchObject({ event: 'node plain', distinctId: 'plain-user' });
    // Skew correction keeps the hour between the event and the send.
    const shift = Date.now() - stored.get(uuid)!.timestamp.getTime();
    expect(shift).toBeGreaterThanOrEqual(3_600_000);
    expect(shift).toBeLessThan(3_600_000 + 60_000);
    expect(await countEvents(server, { event: 'node immediate', distinctId: 'plain-user' })).toBe(1);
  });

  it('historicalMigration batches are accepted', async () => {
    const { client, requests, errors } = nodeClient({ flushAt: 2, historicalMigration: true });
    client.capture({ distinctId: 'old-user', event: 'node historical', timestamp: new Date('2021-05-05T05:05:05Z') });
    client.capture({ distinctId: 'old-user', event: 'node historical', timestamp: new Date('2021-05-06T05:05:05Z') });
    await client.shutdown();
    expect(errors).toEqual([]);
    expect(decodeNodeBody(requests[0]!).historical_migration).toBe(true);
    expect(await countEvents(server, { event: 'node historical' })).toBe(2);
  });
});

/** posthog-js's request entry point, loaded from the installed package. */
type JsRequest = (options: Record<string, unknown>, onResponse?: (response: { statusCode: number; text?: string }) => void) => void;

describe("posthog-js's own request layer", () => {
  let jsRequest: JsRequest;
  /** Requests posthog-js handed to fetch, as they left it. */
  const wire: { url: string; contentType: string | null; body: Buffer }[] = [];
  const beacons: { url: string; type: string; response: Promise<Response> }[] = [];
  const restore: (() => void)[] = [];

  beforeAll(() => {
    // The request module picks its transports (fetch, sendBeacon) when it loads, so both are put in
    // place first: a recording fetch, and a beacon that posts with fetch as the browser would.
    const realFetch = globalThis.fetch;
    const recordingFetch: typeof fetch = async (input, init) => {
      if (init?.body !== undefined && init.body !== null) {
        const body = Buffer.from(await new Response(init.body).arrayBuffer());
        wire.push({ url: String(input), contentType: new Headers(init.headers).get('content-type'), body });
        return realFetch(input, { ...init, body });
      }
      return realFetch(input, init);
    };
    globalThis.fetch = recordingFetch;
    restore.push(() => (globalThis.fetch = realFetch));

    const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    const sendBeacon = (url: string, body: Blob) => {
      beacons.push({ url, type: body.type, response: realFetch(url, { method: 'POST', headers: { 'content-type': body.type }, body }) });
      return true;
    };
    Object.defineProperty(globalThis, 'navigator', { value: { sendBeacon, onLine: true, userAgent: 'node' }, configurable: true, writable: true });
    restore.push(() => {
      if (previous) Object.defineProperty(globalThis, 'navigator', previous);
      else delete (globalThis as { navigator?: unknown }).navigator;
    });
    jsRequest = (require('posthog-js/lib/src/request.js') as { request: JsRequest }).request;
  });

  afterAll(() => {
    for (const undo of restore) undo();
  });

  function jsEvents(name: string, n: number) {
    return Array.from({ length: n }, (_, i) => ({
      uuid: crypto.randomUUID(),
      event: name,
      properties: { token, distinct_id: 'js-user', $lib: 'web', $lib_version: '1.449.2', i, text: 'ünïcödé 😀 + / =' },
      timestamp: new Date(),
    }));
  }

  function viaJs(options: Record<string, unknown>): Promise<{ statusCode: number; text?: string }> {
    return new Promise((resolve) => jsRequest({ method: 'POST', timestampMode: 'capture-body', ...options }, resolve));
  }

  it.each([
    ['gzip-js: gzip as text/plain with no compression parameter', 'gzip-js', 'text/plain', null, true],
    ['base64: a urlencoded form with ?compression=base64', 'base64', 'application/x-www-form-urlencoded', 'base64', false],
    ['no compression: application/json', undefined, 'application/json', null, false],
  ])('%s', async (_name, compression, contentType, queryCompression, gzipped) => {
    const events = jsEvents(`js ${compression ?? 'none'}`, 3);
    const sentBefore = wire.length;
    const response = await viaJs({ url: `${server.url}/e/`, data: events, compression, transport: 'fetch' });
    expect(response.statusCode).toBe(200);

    const [request] = wire.slice(sentBefore);
    expect(request).toBeDefined();
    expect(request!.contentType).toBe(contentType);
    expect(new URL(request!.url).searchParams.get('compression')).toBe(queryCompression);
    expect(request!.body[0] === 0x1f && request!.body[1] === 0x8b).toBe(gzipped);

    const stored = await storedByUuid(server, events.map((e) => e.uuid));
    expect(stored.size).toBe(3);
    for (const e of events) {
      expect(stored.get(e.uuid)).toMatchObject({ event: e.event, distinctId: 'js-user' });
      expect(stored.get(e.uuid)!.properties).toMatchObject({ $lib: 'web', text: 'ünïcödé 😀 + / =', i: e.properties.i });
    }
  });

  it('sendBeacon: a base64 form with a CORS-simple content type', async () => {
    const events = jsEvents('js beacon', 2);
    // A beacon is fire-and-forget: no callback ever runs, so wait for the request it handed to the browser.
    jsRequest({ method: 'POST', timestampMode: 'capture-body', url: `${server.url}/e/`, data: events, transport: 'sendBeacon' });
    expect(beacons).toHaveLength(1);
    const beacon = beacons[0]!;
    expect(new URL(beacon.url).searchParams.get('compression')).toBe('base64');
    expect(beacon.type).toBe('application/x-www-form-urlencoded');
    expect((await beacon.response).status).toBe(200);
    expect((await storedByUuid(server, events.map((e) => e.uuid))).size).toBe(2);
  });
});

describe('recorded posthog-js fixtures', () => {
  const fixtures = buildFixtures().map((f) => f.name);

  function decodeFixtureBody(fixture: CaptureFixture): unknown {
    const bytes = Buffer.from(fixture.request.bodyBase64, 'base64');
    if (fixture.encoding === 'gzip') return JSON.parse(gunzipSync(bytes).toString('utf8'));
    if (fixture.encoding === 'form-base64') {
      const data = new URLSearchParams(bytes.toString('utf8')).get('data')!;
      return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    }
    return JSON.parse(bytes.toString('utf8'));
  }

  function replay(fixture: CaptureFixture) {
    return send(server, fixture.request.path, {
      method: fixture.request.method,
      headers: fixture.request.headers,
      body: Buffer.from(fixture.request.bodyBase64, 'base64'),
    });
  }

  it('the files on disk are exactly what the generator produces', () => {
    for (const fixture of buildFixtures()) {
      expect(readFileSync(fixturePath(fixture.name), 'utf8')).toBe(serializeFixture(fixture));
    }
  });

  it.each(fixtures)('%s: the recorded bytes decode to the recorded payload', (name) => {
    const fixture = readFixture(name);
    expect(decodeFixtureBody(fixture)).toEqual(fixture.payload);
  });

  it.each(fixtures)('%s: replayed, every event is stored as sent at the corrected time; a retry adds nothing', async (name) => {
    const fixture = readFixture(name);
    const before = Date.now();
    const reply = await replay(fixture);
    const after = Date.now();
    expect(reply.status, reply.text).toBe(fixture.expected.status);
    expect(reply.body).toMatchObject({ status: 'Ok', accepted: fixture.expected.events.length, duplicates: 0 });

    const stored = await storedByUuid(server, fixture.expected.events.map((e) => e.uuid));
    expect(stored.size).toBe(fixture.expected.events.length);
    for (const expected of fixture.expected.events) {
      const got = stored.get(expected.uuid)!;
      expect(got.event).toBe(expected.event);
      expect(got.distinctId).toBe(expected.distinctId);
      expect(got.projectId).toBe(fixtureProjectId);
      expect(got.properties.$lib).toBe(expected.lib);
      expect(got.properties.token).toBe(FIXTURE_TOKEN);
      // The client's clock is months off; the server keeps only the gap between event and send.
      expect(got.timestamp.getTime()).toBeGreaterThanOrEqual(before - expected.msBeforeSend);
      expect(got.timestamp.getTime()).toBeLessThanOrEqual(after - expected.msBeforeSend);
    }

    // The SDK resends the same request after a timeout: every event is a duplicate, nothing changes.
    expectOk(await replay(fixture), 0, fixture.expected.events.length);
    for (const expected of fixture.expected.events) expect(await countEvents(server, { uuid: expected.uuid })).toBe(1);
    const again = await storedByUuid(server, fixture.expected.events.map((e) => e.uuid));
    for (const [uuid, got] of again) expect(got.timestamp).toEqual(stored.get(uuid)!.timestamp);
  });

  it('the $identify in the current format keeps its top-level $set / $set_once and the anonymous id', async () => {
    const fixture = readFixture('posthog-js-1.449-gzip');
    expect((await replay(fixture)).status).toBe(200);
    const identify = (await storedEvents(server, { uuid: '01972bb0-0a00-7000-8000-000000000003' }))[0]!;
    expect(identify.event).toBe('$identify');
    expect(identify.distinctId).toBe('user-42@example.com');
    expect(identify.properties.$set).toMatchObject({ email: 'user-42@example.com', plan: 'pro' });
    expect(identify.properties.$set_once).toMatchObject({ first_seen_plan: 'free' });
    expect(identify.properties.$anon_distinct_id).toBe('01900000-0000-7000-8000-00000000d001');
    expect(identify.properties.$session_id).toBe('01900000-0000-7000-8000-00000000c001');
  });

  it('fixture events land only in the project owning the fixture token', async () => {
    for (const fixture of buildFixtures()) expect((await replay(fixture)).status).toBe(200);
    const uuids = buildFixtures().flatMap((f) => f.expected.events.map((e) => e.uuid));
    expect(await countEvents(server, { uuid: { $in: uuids }, projectId: { $ne: fixtureProjectId } })).toBe(0);
    expect(await countEvents(server, { uuid: { $in: uuids }, projectId: fixtureProjectId })).toBe(uuids.length);
  });
});
