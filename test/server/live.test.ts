import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { createKey, createProject, gql, spawnServer, startTestServer, type ServerProcess, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waiting.ts';
import { connectGraphQLWs } from '../helpers/ws.ts';

/*
 * The live event stream end to end: events go in through the real capture route, come out of the
 * process's change stream and reach graphql-ws clients over real WebSockets. Expectations come from
 * the `events` query, which is the contract the stream's filters promise to share.
 */

const EVENT_FIELDS = 'id uuid event distinctId timestamp createdAt properties';
const STREAM = `subscription($projectId: ID!, $filter: EventFilter) { eventStream(projectId: $projectId, filter: $filter) { ${EVENT_FIELDS} } }`;
const EVENTS_QUERY = `query($id: ID!, $filter: EventFilter) { project(id: $id) { events(filter: $filter, first: 1000) { edges { node { ${EVENT_FIELDS} } } } } }`;

interface StreamedEvent {
  id: string;
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: string;
  createdAt: string;
  properties: Record<string, unknown>;
}

interface CaptureEvent {
  event: string;
  distinct_id: string;
  uuid?: string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

let server: TestServer;
let key: string;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  ({ key } = await createKey(server, [server.project._id]));
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server?.dispose();
});

async function capture(url: string, token: string, batch: CaptureEvent[]): Promise<void> {
  const response = await fetch(`${url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: token, batch }),
  });
  const body = (await response.json()) as { status?: string; accepted?: number };
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.accepted).toBe(batch.length);
}

function connect(wsUrl: string, secret: string): Client {
  const { client } = connectGraphQLWs(wsUrl, secret);
  clients.push(client);
  return client;
}

interface Subscription {
  events: StreamedEvent[];
  errors: unknown[];
  completed: boolean;
  has(uuid: string): boolean;
  stop(): void;
}

function subscribe(client: Client, variables: Record<string, unknown>): Subscription {
  const sub: Subscription = {
    events: [],
    errors: [],
    completed: false,
    has: (uuid) => sub.events.some((e) => e.uuid === uuid),
    stop: () => undefined,
  };
  sub.stop = client.subscribe<{ eventStream: StreamedEvent }>(
    { query: STREAM, variables },
    {
      next: (result) => {
        if (result.errors) sub.errors.push(...result.errors);
        if (result.data?.eventStream) sub.events.push(result.data.eventStream);
      },
      error: (error) => sub.errors.push(error),
      complete: () => (sub.completed = true),
    },
  );
  return sub;
}

async function queryEvents(projectId: string, filter?: Record<string, unknown>): Promise<StreamedEvent[]> {
  const res = await gql(server, EVENTS_QUERY, { id: projectId, filter }, server.adminKey);
  expect(res.errors).toBeUndefined();
  return res.data.project.events.edges.map((e: { node: StreamedEvent }) => e.node);
}

const uuids = (events: { uuid: string }[]) => events.map((e) => e.uuid).sort();

/** Waits until this process has registered `n` more subscriptions than `before`. */
async function registered(before: number, n: number): Promise<void> {
  await waitFor(() => server.app.services.live.subscriberCount === before + n, 5_000, `${n} subscriptions to register`);
}

describe('eventStream delivery', () => {
  it('delivers events captured over /batch with every field, and property keys as the SDK sent them', async () => {
    const project = await createProject(server, 'delivery');
    const { key: projectKey } = await createKey(server, [project._id]);
    const before = server.app.services.live.subscriberCount;
    const sub = subscribe(connect(server.wsUrl, projectKey), { projectId: project._id });
    await registered(before, 1);

    const sent: CaptureEvent[] = [
      {
        event: '$pageview',
        distinct_id: 'user-1',
        uuid: randomUUID(),
        timestamp: '2024-05-01T10:00:00.000Z',
        properties: { $browser: 'Firefox', 'a.b': 1, '100%': 'x', nested: { $set: { 'c.d': true } }, list: [{ $x: 1 }] },
      },
      { event: 'signup', distinct_id: 'user-2', uuid: randomUUID(), properties: { plan: 'pro' } },
    ];
    await capture(server.url, project.apiToken, sent);
    await waitFor(() => sub.events.length === 2, 5_000, 'both events');

    const stored = await queryEvents(project._id);
    expect(sub.errors).toEqual([]);
    // The stream shows each event exactly as the query does, in the order they were stored.
    const sentOrder = (e: StreamedEvent) => sent.findIndex((s) => s.uuid === e.uuid);
    expect(sub.events).toEqual([...stored].sort((x, y) => sentOrder(x) - sentOrder(y)));
    const [first] = sub.events;
    expect(first).toMatchObject({ id: sent[0]!.uuid, uuid: sent[0]!.uuid, event: '$pageview', distinctId: 'user-1', timestamp: '2024-05-01T10:00:00.000Z' });
    expect(first!.properties).toMatchObject({ $browser: 'Firefox', 'a.b': 1, '100%': 'x', nested: { $set: { 'c.d': true } }, list: [{ $x: 1 }] });
    expect(Object.keys(first!.properties).some((k) => k.includes('%24') || k.includes('%2E'))).toBe(false);
  });

  it('unsubscribing removes the subscription from the server', async () => {
    const before = server.app.services.live.subscriberCount;
    const client = connect(server.wsUrl, key);
    const subs = [subscribe(client, { projectId: server.project._id }), subscribe(client, { projectId: server.project._id })];
    await registered(before, 2);
    subs[0]!.stop();
    await waitFor(() => server.app.services.live.subscriberCount === before + 1, 5_000, 'one subscription to go');
    await client.dispose();
    await waitFor(() => server.app.services.live.subscriberCount === before, 5_000, 'the socket’s subscriptions to go');
  });
});

describe('eventStream filters', () => {
  const T0 = Date.parse('2024-06-01T00:00:00Z');
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
  const dataset = (): CaptureEvent[] =>
    [
      { event: 'pageview', distinct_id: 'u1', timestamp: at(0), properties: { amount: '42', $browser: 'Chrome', 'a.b': 'x' } },
      { event: 'pageview', distinct_id: 'u2', timestamp: at(1), properties: { amount: 7, $browser: 'Firefox' } },
      { event: 'signup', distinct_id: 'u1', timestamp: at(2), properties: { amount: '12.5', $browser: 'firefox-nightly', 'a.b': null } },
      { event: 'signup', distinct_id: 'u3', timestamp: at(3), properties: { amount: 'abc', $browser: 'Safari' } },
      { event: 'purchase', distinct_id: 'u1', timestamp: at(4), properties: { amount: 100, plan: 'pro' } },
      { event: 'purchase', distinct_id: 'u2', timestamp: at(5), properties: { amount: ' 9', $browser: 'Chrome', 'a.b': 3 } },
      { event: 'purchase', distinct_id: 'u3', timestamp: at(6), properties: { amount: true, $browser: 'Edge' } },
      { event: 'logout', distinct_id: 'u2', timestamp: at(7), properties: { amount: '1e3', 'a.b': 'y' } },
      { event: 'logout', distinct_id: 'u1', timestamp: at(8), properties: {} },
    ].map((e): CaptureEvent => ({ ...e, uuid: randomUUID() }));

  const filters: [string, Record<string, unknown>][] = [
    ['event names', { events: ['signup', 'purchase'] }],
    ['distinctId', { distinctId: 'u2' }],
    ['gt on numbers and numeric strings', { properties: [{ key: 'amount', operator: 'gt', value: 10 }] }],
    ['lte with a string bound', { properties: [{ key: 'amount', operator: 'lte', value: '12.5' }] }],
    ['exact on a $ key', { properties: [{ key: '$browser', operator: 'exact', value: ['Chrome', 'Edge'] }] }],
    ['is_not', { properties: [{ key: '$browser', operator: 'is_not', value: ['Chrome'] }] }],
    ['icontains', { properties: [{ key: '$browser', operator: 'icontains', value: 'FIRE' }] }],
    ['regex', { properties: [{ key: '$browser', operator: 'regex', value: '^(Chr|Saf)' }] }],
    ['is_set on a dotted key', { properties: [{ key: 'a.b', operator: 'is_set' }] }],
    ['is_not_set on a dotted key', { properties: [{ key: 'a.b', operator: 'is_not_set' }] }],
    ['time window', { after: at(2), before: at(6) }],
    [
      'everything at once',
      { events: ['purchase', 'pageview'], distinctId: 'u2', properties: [{ key: 'amount', operator: 'gte', value: 7 }] },
    ],
    ['no filter', {}],
  ];

  it('each filter delivers exactly the events the events query returns for it', async () => {
    const project = await createProject(server, 'filters');
    const { key: projectKey } = await createKey(server, [project._id]);
    const client = connect(server.wsUrl, projectKey);
    const before = server.app.services.live.subscriberCount;
    const subs = filters.map(([, filter]) => subscribe(client, { projectId: project._id, filter }));
    await registered(before, filters.length);

    const events = dataset();
    await capture(server.url, project.apiToken, events);
    const expected = await Promise.all(filters.map(([, filter]) => queryEvents(project._id, filter)));

    // A fence per filter: a copy of one of its matches, stored after the whole dataset. Each
    // subscription receives in storage order, so once its fence is in, nothing of the dataset is pending.
    const fences = expected.map((matches, i) => {
      expect(matches.length, `filter "${filters[i]![0]}" matches something`).toBeGreaterThan(0);
      const original = events.find((e) => e.uuid === matches[0]!.uuid)!;
      return { ...original, uuid: randomUUID() };
    });
    await capture(server.url, project.apiToken, fences);
    await waitFor(() => subs.every((sub, i) => sub.has(fences[i]!.uuid)), 5_000, 'every fence');

    const fenceIds = new Set<string>(fences.map((f) => f.uuid));
    filters.forEach(([name], i) => {
      const received = subs[i]!.events.filter((e) => !fenceIds.has(e.uuid));
      expect(subs[i]!.errors, name).toEqual([]);
      expect(uuids(received), name).toEqual(uuids(expected[i]!));
    });
    // Sanity: the filters really differ, so agreeing with the query is not trivial.
    expect(new Set(expected.map((e) => e.length)).size).toBeGreaterThan(3);
  });

  it('refuses an invalid filter when subscribing, as the query does', async () => {
    const client = connect(server.wsUrl, key);
    const sub = subscribe(client, { projectId: server.project._id, filter: { properties: [{ key: 'n', operator: 'gt', value: 'ten' }] } });
    await waitFor(() => sub.errors.length > 0, 5_000, 'the error');
    expect(sub.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
  });
});

describe('eventStream tenancy', () => {
  it('a key for project A cannot subscribe to project B and never sees B’s events, even with identical ids and names', async () => {
    const a = await createProject(server, 'tenant A');
    const b = await createProject(server, 'tenant B');
    const { key: keyA } = await createKey(server, [a._id]);
    const client = connect(server.wsUrl, keyA);

    const intoB = subscribe(client, { projectId: b._id });
    await waitFor(() => intoB.errors.length > 0, 5_000, 'the refusal');
    expect(intoB.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    expect(intoB.events).toEqual([]);

    const before = server.app.services.live.subscriberCount;
    const ownA = subscribe(client, { projectId: a._id, filter: { events: ['same'], distinctId: 'same-user' } });
    await registered(before, 1);
    const uuid = randomUUID();
    const twin = (origin: string): CaptureEvent => ({ event: 'same', distinct_id: 'same-user', uuid, properties: { origin } });
    await capture(server.url, b.apiToken, [twin('B')]);
    await capture(server.url, a.apiToken, [twin('A')]);
    await waitFor(() => ownA.events.length > 0, 5_000, 'A’s event');
    // B's twin was stored first, so it would have arrived first had it leaked.
    expect(ownA.events.map((e) => e.properties.origin)).toEqual(['A']);
  });
});

describe('eventStream across processes', () => {
  let other: ServerProcess | undefined;

  afterAll(async () => {
    await other?.terminate();
  });

  it('a subscriber on another process sharing the database receives events captured here', async () => {
    other = await spawnServer({ MONGODB_URL: server.storage.url });
    const project = await createProject(server, 'cross-process');
    const { key: projectKey } = await createKey(server, [project._id]);
    const sub = subscribe(connect(`${other.url.replace(/^http/, 'ws')}/graphql`, projectKey), { projectId: project._id });

    // The other process's registration cannot be observed from here; capture until one arrives.
    await waitFor(
      async () => {
        if (sub.events.length > 0 || sub.errors.length > 0) return true;
        await capture(server.url, project.apiToken, [{ event: 'warmup', distinct_id: 'w' }]);
        await new Promise((r) => setTimeout(r, 100));
        return sub.events.length > 0;
      },
      15_000,
      'the other process to deliver a first event',
    );
    expect(sub.errors).toEqual([]);

    const sent = [{ event: 'cross', distinct_id: 'u-x', uuid: randomUUID(), properties: { $current_url: 'https://example.com/a.b' } }];
    await capture(server.url, project.apiToken, sent);
    await waitFor(() => sub.has(sent[0]!.uuid), 5_000, 'the event through the other process');
    expect(sub.events.find((e) => e.uuid === sent[0]!.uuid)).toMatchObject({
      event: 'cross',
      distinctId: 'u-x',
      properties: { $current_url: 'https://example.com/a.b' },
    });
  }, 40_000);
});
