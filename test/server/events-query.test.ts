import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

interface SentEvent {
  event: string;
  distinct_id: string;
  uuid?: string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

interface EventNode {
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

const EVENTS = `query Events($id: ID!, $filter: EventFilter, $first: Int, $after: String) {
  project(id: $id) {
    events(filter: $filter, first: $first, after: $after) {
      edges { cursor node { uuid event distinctId timestamp properties } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const EVENT_BY_UUID = `query Event($id: ID!, $uuid: ID!) {
  project(id: $id) { event(uuid: $uuid) { id uuid event distinctId timestamp properties } }
}`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

/** Stores events through the PostHog-compatible `/batch` route; the body is sent as given. */
async function capture(project: ProjectDocument, batch: SentEvent[] | string): Promise<void> {
  const body = typeof batch === 'string' ? batch : JSON.stringify({ api_key: project.apiToken, batch });
  const response = await fetch(`${server.url}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const result = (await response.json()) as { accepted: number; errors?: unknown };
  expect(response.status, JSON.stringify(result)).toBe(200);
  expect(result.errors).toBeUndefined();
}

async function page(projectId: string, variables: { filter?: unknown; first?: number; after?: string | null } = {}) {
  const res = await gql(server, EVENTS, { id: projectId, ...variables }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.events as {
    edges: { cursor: string; node: EventNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

async function allEvents(projectId: string, filter?: unknown): Promise<EventNode[]> {
  const result = await page(projectId, { filter, first: 1000 });
  expect(result.pageInfo.hasNextPage).toBe(false);
  return result.edges.map((e) => e.node);
}

function at(second: number): string {
  return new Date(Date.UTC(2024, 4, 1, 12, 0, second)).toISOString();
}

function codesOf(res: { errors?: { extensions?: { code?: string } }[] }) {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

function cursorOf(parts: unknown): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

describe('Project.events ordering and paging', () => {
  it('lists events newest first, whatever order they were sent in', async () => {
    const project = await createProject(server, 'ordering');
    const seconds = [7, 2, 9, 0, 5, 3, 8];
    await capture(project, seconds.map((s) => ({ event: `at ${s}`, distinct_id: 'u', timestamp: at(s) })));
    const names = (await allEvents(project._id)).map((e) => e.event);
    expect(names).toEqual(['at 9', 'at 8', 'at 7', 'at 5', 'at 3', 'at 2', 'at 0']);
  });

  it('walks every event exactly once in order across pages of equal timestamps while new events arrive', async () => {
    const project = await createProject(server, 'keyset walk');
    const batch: SentEvent[] = [];
    for (let i = 0; i < 10; i++) batch.push({ event: 'tie-a', distinct_id: `a${i}`, timestamp: at(30) });
    for (let i = 0; i < 7; i++) batch.push({ event: 'tie-b', distinct_id: `b${i}`, timestamp: at(20) });
    for (let i = 0; i < 6; i++) batch.push({ event: 'single', distinct_id: `c${i}`, timestamp: at(i) });
    await capture(project, batch);
    const before = await allEvents(project._id);
    expect(before).toHaveLength(23);

    const walked: EventNode[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const result = await page(project._id, { first: 4, after });
      walked.push(...result.edges.map((e) => e.node));
      // Between pages: a live event (newer than everything), one inside the tie group, and a late one.
      await capture(project, [
        { event: 'arrived', distinct_id: `new${pages}`, timestamp: new Date().toISOString() },
        { event: 'arrived', distinct_id: `tie${pages}`, timestamp: at(30) },
        { event: 'arrived', distinct_id: `old${pages}`, timestamp: at(1) },
      ]);
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }

    const uuids = walked.map((e) => e.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    const known = new Set(before.map((e) => e.uuid));
    expect(walked.filter((e) => known.has(e.uuid)).map((e) => e.uuid)).toEqual(before.map((e) => e.uuid));
    const times = walked.map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('ends a walk with hasNextPage false and continues from the last cursor with nothing', async () => {
    const project = await createProject(server, 'walk end');
    await capture(project, [1, 2, 3].map((s) => ({ event: 'e', distinct_id: 'u', timestamp: at(s) })));
    const first = await page(project._id, { first: 3 });
    expect(first.edges).toHaveLength(3);
    expect(first.pageInfo).toEqual({ hasNextPage: false, endCursor: first.edges[2]!.cursor });
    const rest = await page(project._id, { first: 3, after: first.pageInfo.endCursor });
    expect(rest).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('serves the largest page of 1000 events, also when the size is written in the query text', async () => {
    const project = await createProject(server, 'big page');
    const batch = Array.from({ length: 1001 }, (_, i) => ({ event: 'bulk', distinct_id: `u${i}`, timestamp: at(i % 60) }));
    await capture(project, batch);
    const res = await gql(
      server,
      `{ project(id: "${project._id}") { events(first: 1000) {
          edges { cursor node { id uuid event distinctId timestamp createdAt properties } }
          pageInfo { hasNextPage endCursor } } } }`,
      {},
      server.adminKey,
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.project.events.edges).toHaveLength(1000);
    expect(res.data.project.events.pageInfo.hasNextPage).toBe(true);
  });

  it.each([0, -1, 1001, 5000])('refuses first: %i with BAD_USER_INPUT', async (first) => {
    const viaVariable = await gql(server, EVENTS, { id: server.project._id, first }, server.adminKey);
    expect(codesOf(viaVariable)).toEqual(['BAD_USER_INPUT']);
    const inline = await gql(server, `{ project(id: "${server.project._id}") { events(first: ${first}) { edges { cursor } } } }`, {}, server.adminKey);
    expect(codesOf(inline)).toEqual(['BAD_USER_INPUT']);
  });

  it.each([
    ['random text', 'not-a-cursor'],
    ['an object', cursorOf({ ts: 1, id: 'x' })],
    ['a wrong shape', cursorOf([1, 2])],
    ['a timestamp that is not a number', cursorOf(['2024-01-01', '65f000000000000000000000'])],
    ['an id that is not an ObjectId', cursorOf([1714564800000, 'zzzz'])],
    ['a twelve-character id', cursorOf([1714564800000, 'abcdefghijkl'])],
    ['an instant outside the calendar', cursorOf([1e300, '65f000000000000000000000'])],
    ['a fractional instant', cursorOf([1.5, '65f000000000000000000000'])],
    ['a projects cursor', cursorOf(['65f000000000000000000000'])],
  ])('refuses a forged cursor (%s) with BAD_USER_INPUT', async (_label, after) => {
    const res = await gql(server, EVENTS, { id: server.project._id, first: 5, after }, server.adminKey);
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Project.event(uuid)', () => {
  let project: ProjectDocument;
  let other: ProjectDocument;
  const uuid = randomUUID();
  const otherUuid = randomUUID();

  beforeAll(async () => {
    project = await createProject(server, 'lookup');
    other = await createProject(server, 'lookup elsewhere');
    await capture(project, [
      { event: 'wanted', distinct_id: 'u1', uuid, timestamp: at(1), properties: { plan: 'pro' } },
      { event: 'noise', distinct_id: 'u2', timestamp: at(2) },
    ]);
    await capture(other, [{ event: 'foreign', distinct_id: 'u1', uuid: otherUuid, timestamp: at(1) }]);
  });

  it('finds an event by its uuid, written in any letter case', async () => {
    for (const asked of [uuid, uuid.toUpperCase()]) {
      const res = await gql(server, EVENT_BY_UUID, { id: project._id, uuid: asked }, server.adminKey);
      expect(res.errors).toBeUndefined();
      expect(res.data.project.event).toMatchObject({ id: uuid, uuid, event: 'wanted', distinctId: 'u1', timestamp: at(1) });
      expect(res.data.project.event.properties.plan).toBe('pro');
    }
  });

  it("returns null for another project's event uuid", async () => {
    const res = await gql(server, EVENT_BY_UUID, { id: project._id, uuid: otherUuid }, server.adminKey);
    expect(res.errors).toBeUndefined();
    expect(res.data.project.event).toBeNull();
  });

  it('returns null for a uuid nobody sent', async () => {
    const res = await gql(server, EVENT_BY_UUID, { id: project._id, uuid: randomUUID() }, server.adminKey);
    expect(res.data.project.event).toBeNull();
  });
});

describe('property keys', () => {
  // Keys MongoDB would otherwise read as operators or paths, keys that look already escaped, and
  // keys that name parts of a JavaScript object or of the stored document.
  const AWKWARD_KEYS = ['$lib', 'a.b', '%24x', '$x', '$set', '__proto__', 'constructor', 'prototype', '_id', 'projectId', 'a..b', '.', '%', '%2E'];

  let project: ProjectDocument;
  const uuids = new Map<string, string>();

  beforeAll(async () => {
    project = await createProject(server, 'awkward keys');
    // Object.fromEntries keeps "__proto__" as an ordinary own key, so the JSON sent is what an SDK would send.
    const batch: SentEvent[] = AWKWARD_KEYS.map((key, i) => {
      uuids.set(key, randomUUID());
      return { event: 'single', distinct_id: 'u', uuid: uuids.get(key), timestamp: at(i), properties: Object.fromEntries([[key, 'single']]) };
    });
    // One event carrying every key at once, and one with the same keys inside nested objects and arrays.
    uuids.set('everything', randomUUID());
    uuids.set('nested', randomUUID());
    const everything = Object.fromEntries(AWKWARD_KEYS.map((key) => [key, `value of ${key}`]));
    const nested = Object.fromEntries(AWKWARD_KEYS.map((key) => [key, Object.fromEntries([[key, [Object.fromEntries([[key, key]])]]])]));
    batch.push({ event: 'all', distinct_id: 'u', uuid: uuids.get('everything'), timestamp: at(40), properties: everything });
    batch.push({ event: 'nested', distinct_id: 'u', uuid: uuids.get('nested'), timestamp: at(41), properties: { holder: nested } });
    await capture(project, batch);
  });

  it('round-trips keys with $, dots, percent signs and prototype names exactly', async () => {
    const res = await gql(server, EVENT_BY_UUID, { id: project._id, uuid: uuids.get('everything') }, server.adminKey);
    const properties = res.data.project.event.properties as Record<string, unknown>;
    for (const key of AWKWARD_KEYS) {
      expect(Object.hasOwn(properties, key), key).toBe(true);
      expect(properties[key], key).toBe(`value of ${key}`);
    }
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype);
    expect(Object.keys(properties).filter((k) => k !== '$ip').sort()).toEqual([...AWKWARD_KEYS].sort());
  });

  it('round-trips the same keys inside nested objects and arrays', async () => {
    const res = await gql(server, EVENT_BY_UUID, { id: project._id, uuid: uuids.get('nested') }, server.adminKey);
    const holder = res.data.project.event.properties.holder as Record<string, Record<string, { [k: string]: string }[]>>;
    for (const key of AWKWARD_KEYS) {
      expect(Object.hasOwn(holder, key), key).toBe(true);
      const inner = holder[key]!;
      expect(Object.keys(inner), key).toEqual([key]);
      expect(inner[key], key).toHaveLength(1);
      expect(Object.keys(inner[key]![0]!), key).toEqual([key]);
      expect(inner[key]![0]![key], key).toBe(key);
    }
  });

  it.each(AWKWARD_KEYS)('filters on the key %s literally', async (key) => {
    const setFilter = { properties: [{ key, operator: 'is_set' }] };
    const found = (await allEvents(project._id, setFilter)).map((e) => e.uuid).sort();
    expect(found).toEqual([uuids.get(key), uuids.get('everything')].sort());

    const exact = { properties: [{ key, operator: 'exact', value: `value of ${key}` }] };
    expect((await allEvents(project._id, exact)).map((e) => e.uuid)).toEqual([uuids.get('everything')]);
  });

  it('matches the property named projectId, never the project the event belongs to', async () => {
    const filter = { properties: [{ key: 'projectId', operator: 'exact', value: project._id }] };
    expect(await allEvents(project._id, filter)).toEqual([]);
  });
});
