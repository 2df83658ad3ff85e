import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import type { LiveLimits } from '../../src/live/limits.ts';
import { TEST_ADMIN_KEY, createKey, createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waiting.ts';
import { connectGraphQLWs, type CloseInfo } from '../helpers/ws.ts';

/*
 * The WebSocket transport's promises: authentication at connection_init, protocol limits, revoked
 * keys losing their sockets, slow consumers cut off without harming anyone else, and a graceful
 * stop that says "going away". Real sockets throughout; some tests run a second app on the same
 * database, which is what a second process is.
 */

const STREAM = `subscription($projectId: ID!) { eventStream(projectId: $projectId) { uuid event properties } }`;
const PROTOCOL = 'graphql-transport-ws';

let server: TestServer;
const clients: Client[] = [];
const rawSockets: WebSocket[] = [];
const siblings: App[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const socket of rawSockets) socket.terminate();
  for (const app of siblings) await app.stop(1_000);
  await server?.dispose();
});

/** A second app on the same database, as another process would be, with its own live limits. */
async function startSibling(live: Partial<LiveLimits>, logger = pino({ level: 'silent' })): Promise<{ app: App; wsUrl: string }> {
  const app = createApp({
    config: { http: { port: 0, host: '127.0.0.1' }, adminKey: TEST_ADMIN_KEY, production: false },
    storage: server.storage,
    logger,
    live,
  });
  siblings.push(app);
  const { url } = await app.start();
  return { app, wsUrl: `${url.replace(/^http/, 'ws')}/graphql` };
}

interface RawSocket {
  socket: WebSocket;
  /** The TCP connection underneath, to stop reading from it. */
  tcp: Socket;
  messages: { id?: string; type: string; payload?: any }[];
  closed: Promise<{ code: number; reason: string }>;
  /** Sends connection_init with `params` and waits for the ack. */
  init(params: Record<string, unknown>): Promise<void>;
}

/** A protocol-level client, for what a well-behaved client library would never do. */
async function rawSocket(wsUrl: string): Promise<RawSocket> {
  const socket = new WebSocket(wsUrl, PROTOCOL);
  rawSockets.push(socket);
  const messages: RawSocket['messages'] = [];
  let tcp: Socket | undefined;
  socket.on('upgrade', (response) => (tcp = response.socket as Socket));
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  socket.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    tcp: tcp!,
    messages,
    closed,
    async init(params) {
      socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
      await waitFor(() => messages.some((m) => m.type === 'connection_ack'), 5_000, 'connection_ack');
    },
  };
}

function connect(wsUrl: string, secret: string): { client: Client; closed: Promise<CloseInfo> } {
  const connection = connectGraphQLWs(wsUrl, secret);
  clients.push(connection.client);
  return connection;
}

interface Collected {
  events: { uuid: string; event: string }[];
  errors: any[];
}

function subscribe(client: Client, projectId: string): Collected {
  const out: Collected = { events: [], errors: [] };
  client.subscribe<{ eventStream: { uuid: string; event: string } }>(
    { query: STREAM, variables: { projectId } },
    {
      next: (result) => {
        if (result.errors) out.errors.push(...result.errors);
        if (result.data?.eventStream) out.events.push(result.data.eventStream);
      },
      error: (error) => out.errors.push(...(Array.isArray(error) ? error : [error])),
      complete: () => undefined,
    },
  );
  return out;
}

/** The value of `promise`, failing the test (naming `what`) if it does not settle in time. */
async function settled<T>(promise: Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  let outcome: { value: T } | undefined;
  void promise.then((value) => (outcome = { value }));
  await waitFor(() => outcome !== undefined, timeoutMs, what);
  return outcome!.value;
}

async function capture(token: string, batch: Record<string, unknown>[]): Promise<void> {
  const response = await fetch(`${server.url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: token, batch }),
  });
  expect(response.status).toBe(200);
}

async function revoke(keyId: string): Promise<void> {
  const res = await gql(server, `mutation($id: ID!) { revokePersonalApiKey(id: $id) { apiKey { id } } }`, { id: keyId }, server.adminKey);
  expect(res.errors).toBeUndefined();
}

describe('connection', () => {
  it('closes with 4403 when connection_init carries no credentials, or a wrong key', async () => {
    const anonymous = await rawSocket(server.wsUrl);
    anonymous.socket.send(JSON.stringify({ type: 'connection_init' }));
    expect((await settled(anonymous.closed, 'the close')).code).toBe(4403);

    const wrong = await rawSocket(server.wsUrl);
    wrong.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer slk_not_a_real_key' } }));
    expect((await settled(wrong.closed, 'the close')).code).toBe(4403);
    expect(wrong.messages.some((m) => m.type === 'connection_ack')).toBe(false);
  });

  it('closes with 4408 when no connection_init arrives in time', async () => {
    const silent = await rawSocket(server.wsUrl);
    expect((await settled(silent.closed, 'the close', 10_000)).code).toBe(4408);
  });

  it('closes with 1009 when a message exceeds the maximum payload', async () => {
    const raw = await rawSocket(server.wsUrl);
    await raw.init({ authorization: `Bearer ${server.adminKey}` });
    raw.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ __typename }`, padding: 'x'.repeat(70 * 1024) } }));
    expect((await settled(raw.closed, 'the close')).code).toBe(1009);
  });

  it('refuses subscriptions beyond the per-socket cap and accepts them up to it', async () => {
    const { key } = await createKey(server, [server.project._id]);
    const { client } = connect(server.wsUrl, key);
    const live = server.app.services.live;
    const before = live.subscriberCount;
    const accepted = Array.from({ length: 50 }, () => subscribe(client, server.project._id));
    await waitFor(() => live.subscriberCount === before + 50, 5_000, '50 subscriptions');
    const refused = subscribe(client, server.project._id);
    await waitFor(() => refused.errors.length > 0, 5_000, 'the refusal');
    expect(refused.errors[0].extensions?.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(accepted.every((s) => s.errors.length === 0)).toBe(true);
    await client.dispose();
    // Closing the socket ends all of its subscriptions on the server.
    await waitFor(() => live.subscriberCount === before, 5_000, 'the subscriptions to go');
  });
});

describe('revocation', () => {
  it('revoking a key closes its sockets with 4403', async () => {
    const { key, id } = await createKey(server, [server.project._id]);
    const { key: otherKey } = await createKey(server, [server.project._id]);
    const revoked = connect(server.wsUrl, key);
    const kept = connect(server.wsUrl, otherKey);
    const before = server.app.services.live.subscriberCount;
    subscribe(revoked.client, server.project._id);
    const keptSub = subscribe(kept.client, server.project._id);
    await waitFor(() => server.app.services.live.subscriberCount === before + 2, 5_000, 'both subscriptions');

    await revoke(id);
    expect((await settled(revoked.closed, 'the revoked key’s socket to close')).code).toBe(4403);
    // The other key's socket is untouched and still delivers.
    await capture(server.project.apiToken, [{ event: 'after-revoke', distinct_id: 'u' }]);
    await waitFor(() => keptSub.events.some((e) => e.event === 'after-revoke'), 5_000, 'delivery to the other key');
  });

  it('a key revoked through another process loses its sockets here at the next re-check', async () => {
    const sibling = await startSibling({ keyRecheckIntervalMs: 50 });
    const { key, id } = await createKey(server, [server.project._id]);
    const { client, closed } = connect(sibling.wsUrl, key);
    const before = sibling.app.services.live.subscriberCount;
    subscribe(client, server.project._id);
    await waitFor(() => sibling.app.services.live.subscriberCount === before + 1, 5_000, 'the subscription');

    // Revoked through the first app: the sibling hears nothing in memory, only the database knows.
    await revoke(id);
    expect((await settled(closed, 'the re-check to close the socket')).code).toBe(4403);
    await waitFor(() => sibling.app.services.live.subscriberCount === before, 5_000, 'the subscription to end');
  });
});

describe('slow consumers', () => {
  const payload = 'x'.repeat(2_000);

  /** Captures rounds of events until `done` holds; returns how many were captured. */
  async function flood(token: string, done: () => boolean, round = 400, maxRounds = 30): Promise<number> {
    let sent = 0;
    for (let i = 0; i < maxRounds && !done(); i++) {
      await capture(
        token,
        Array.from({ length: round }, (_, j) => ({ event: 'flood', distinct_id: `u${j % 7}`, properties: { payload, n: sent + j } })),
      );
      sent += round;
    }
    return sent;
  }

  it('a subscriber that stops reading is ended with SLOW_CONSUMER while another still receives everything', async () => {
    const project = await createProject(server, 'slow consumer');
    const { key } = await createKey(server, [project._id]);
    const live = server.app.services.live;
    const before = live.subscriberCount;

    const fast = subscribe(connect(server.wsUrl, key).client, project._id);
    const slow = await rawSocket(server.wsUrl);
    await slow.init({ authorization: `Bearer ${key}` });
    slow.socket.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: STREAM, variables: { projectId: project._id } } }));
    await waitFor(() => live.subscriberCount === before + 2, 5_000, 'both subscriptions');
    slow.tcp.pause();

    let sent = await flood(project.apiToken, () => live.subscriberCount === before + 1);
    expect(live.subscriberCount, 'the slow subscription was ended').toBe(before + 1);
    // Life goes on for the fast one: everything, before and after the cut.
    sent += await flood(project.apiToken, () => false, 100, 1);
    await waitFor(() => fast.events.length === sent, 15_000, `all ${sent} events at the fast subscriber`);
    expect(fast.errors).toEqual([]);

    slow.tcp.resume();
    await waitFor(() => slow.messages.some((m) => m.id === 'slow' && m.type === 'error'), 10_000, 'the slow subscription’s error');
    const error = slow.messages.find((m) => m.type === 'error')!;
    expect(error.payload[0].extensions.code).toBe('SLOW_CONSUMER');
    expect(slow.messages.filter((m) => m.type === 'next').length).toBeLessThan(sent);
  });

  it('a socket whose unsent data passes the buffer cap is closed with 1008', async () => {
    const warnings: string[] = [];
    const logSink = new Writable({
      write(chunk, _encoding, done) {
        warnings.push(String(JSON.parse(String(chunk)).msg));
        done();
      },
    });
    // The queue bound is out of the way here, so only the socket's buffer can trip.
    const sibling = await startSibling(
      { queueLimit: 1_000_000, maxBufferedBytes: 1_024, bufferCheckIntervalMs: 20, closeGraceMs: 60_000 },
      pino({ level: 'warn' }, logSink),
    );
    const project = await createProject(server, 'stuck socket');
    const { key } = await createKey(server, [project._id]);
    const stuck = await rawSocket(sibling.wsUrl);
    await stuck.init({ authorization: `Bearer ${key}` });
    stuck.socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: STREAM, variables: { projectId: project._id } } }));
    await waitFor(() => sibling.app.services.live.subscriberCount === 1, 5_000, 'the subscription');
    stuck.tcp.pause();

    const closing = () => warnings.some((w) => w.includes('does not read'));
    await flood(project.apiToken, closing);
    expect(closing()).toBe(true);
    // The close frame waits behind the unread data; reading again lets the handshake finish.
    stuck.tcp.resume();
    expect((await settled(stuck.closed, 'the close')).code).toBe(1008);
  });
});

describe('graceful stop', () => {
  it('app.stop() closes subscription sockets with 1001 and ends their subscriptions', async () => {
    const sibling = await startSibling({});
    const { key } = await createKey(server, [server.project._id]);
    const { client, closed } = connect(sibling.wsUrl, key);
    const sub = subscribe(client, server.project._id);
    await waitFor(() => sibling.app.services.live.subscriberCount === 1, 5_000, 'the subscription');

    siblings.splice(siblings.indexOf(sibling.app), 1);
    await sibling.app.stop(1_000);
    expect((await settled(closed, 'the close')).code).toBe(1001);
    expect(sibling.app.services.live.subscriberCount).toBe(0);
    expect(sub.errors.map((e) => e.code)).toEqual([1001]);
  });
});
