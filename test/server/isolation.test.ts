import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createKey, createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Two tenants with identical distinct ids, event names, property keys and values: nothing but the
 * project tells their events apart, so any missing project predicate shows up as a leak.
 */

const EVENTS = `query($id: ID!, $filter: EventFilter, $first: Int, $after: String) {
  project(id: $id) { id events(filter: $filter, first: $first, after: $after) {
    edges { node { uuid event distinctId properties } } pageInfo { hasNextPage endCursor } } }
}`;
const EVENT = `query($id: ID!, $uuid: ID!) { project(id: $id) { event(uuid: $uuid) { uuid properties } } }`;

const NAMES = ['$pageview', 'signup', 'purchase'];
const PEOPLE = ['alice', 'bob', 'carol'];
const BASE_MS = Date.parse('2024-06-01T00:00:00.000Z');

let server: TestServer;
let a: ProjectDocument;
let b: ProjectDocument;
let keyA: string;
const uuidsA = new Set<string>();
const uuidsB = new Set<string>();
/** Sent to both projects: the same uuid may exist once per project. */
const sharedUuid = randomUUID();
const onlyInB = randomUUID();

function dataset(uuids: Set<string>): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  let i = 0;
  for (const event of NAMES) {
    for (const distinct_id of PEOPLE) {
      const uuid = randomUUID();
      uuids.add(uuid);
      events.push({
        event,
        distinct_id,
        uuid,
        timestamp: new Date(BASE_MS + i * 60_000).toISOString(),
        properties: { plan: i % 2 === 0 ? 'free' : 'pro', amount: i, $browser: 'Firefox', 'a.b': 'dotted', projectId: 'shared' },
      });
      i++;
    }
  }
  return events;
}

async function captureBatch(body: unknown) {
  const response = await fetch(`${server.url}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function listAll(projectId: string, key: string, filter?: unknown) {
  const res = await gql(server, EVENTS, { id: projectId, filter, first: 1000 }, key);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.events.edges.map((e: { node: { uuid: string; properties: Record<string, unknown> } }) => e.node);
}

beforeAll(async () => {
  server = await startTestServer();
  a = await createProject(server, 'Tenant A');
  b = await createProject(server, 'Tenant B');
  for (const [project, uuids, side] of [
    [a, uuidsA, 'A'],
    [b, uuidsB, 'B'],
  ] as const) {
    uuids.add(sharedUuid);
    const batch = [...dataset(uuids), { event: 'signup', distinct_id: 'alice', uuid: sharedUuid, properties: { side } }];
    const res = await captureBatch({ api_key: project.apiToken, batch });
    expect(res.status).toBe(200);
  }
  uuidsB.add(onlyInB);
  expect((await captureBatch({ api_key: b.apiToken, batch: [{ event: 'signup', distinct_id: 'alice', uuid: onlyInB }] })).status).toBe(200);
  keyA = (await createKey(server, [a._id])).key;
});

afterAll(async () => {
  await server?.dispose();
});

describe('reading across tenants', () => {
  it("answers null for the other project's id", async () => {
    const res = await gql(server, EVENTS, { id: b._id, first: 10 }, keyA);
    expect(res.errors).toBeUndefined();
    expect(res.data.project).toBeNull();
  });

  it("lists exactly the key's own project's events", async () => {
    const nodes = await listAll(a._id, keyA);
    expect(new Set(nodes.map((n: { uuid: string }) => n.uuid))).toEqual(uuidsA);
  });

  it('never returns an event of the other project, whatever the filter', async () => {
    const propertyFilter = fc.oneof(
      fc.record({ key: fc.constantFrom('plan', '$browser', 'a.b', 'projectId', 'side'), operator: fc.constantFrom('exact', 'is_not'), value: fc.constantFrom('free', 'pro', 'A', 'B', 'shared', b._id) }),
      fc.record({ key: fc.constantFrom('amount', 'plan'), operator: fc.constantFrom('gt', 'gte', 'lt', 'lte'), value: fc.integer({ min: -1, max: 20 }) }),
      fc.record({ key: fc.constantFrom('side', 'missing', 'projectId'), operator: fc.constantFrom('is_set', 'is_not_set') }),
      fc.record({ key: fc.constantFrom('plan', '$browser'), operator: fc.constantFrom('icontains', 'regex'), value: fc.constantFrom('r', '.*', '^f', 'FIRE') }),
    );
    const filter = fc.record(
      {
        events: fc.subarray(NAMES, { minLength: 1 }),
        distinctId: fc.constantFrom(...PEOPLE),
        properties: fc.array(propertyFilter, { maxLength: 2 }),
        after: fc.constant(new Date(BASE_MS).toISOString()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        const nodes = await listAll(a._id, keyA, f);
        for (const node of nodes) {
          expect(uuidsA.has(node.uuid)).toBe(true);
          if (node.uuid === sharedUuid) expect(node.properties.side).toBe('A');
        }
      }),
      { numRuns: 60 },
    );
  });

  it("answers null for the other project's event uuid, and this project's copy for a uuid both have", async () => {
    const foreign = await gql(server, EVENT, { id: a._id, uuid: onlyInB }, keyA);
    expect(foreign.errors).toBeUndefined();
    expect(foreign.data.project.event).toBeNull();
    const shared = await gql(server, EVENT, { id: a._id, uuid: sharedUuid }, keyA);
    expect(shared.data.project.event.properties.side).toBe('A');
    // The admin key, asking through B, sees B's copy: the lookup is scoped, not global.
    const viaB = await gql(server, EVENT, { id: b._id, uuid: sharedUuid }, server.adminKey);
    expect(viaB.data.project.event.properties.side).toBe('B');
  });

  it('lists only the own project in projects and viewer.projects, even from a forged starting cursor', async () => {
    const res = await gql(server, `{ projects(first: 100) { edges { node { id } } } viewer { projects { id } } }`, {}, keyA);
    expect(res.data.projects.edges).toEqual([{ node: { id: a._id } }]);
    expect(res.data.viewer.projects).toEqual([{ id: a._id }]);
    const fromStart = Buffer.from(JSON.stringify([''])).toString('base64url');
    const paged = await gql(server, `query($after: String) { projects(first: 100, after: $after) { edges { node { id } } } }`, { after: fromStart }, keyA);
    expect(paged.data.projects.edges).toEqual([{ node: { id: a._id } }]);
  });

  it('keeps the other project hidden behind aliases in one request', async () => {
    const res = await gql(
      server,
      `query($a: ID!, $b: ID!, $uuid: ID!) {
        mine: project(id: $a) { id }
        theirs: project(id: $b) { id events(first: 10) { edges { node { uuid } } } }
        again: project(id: $b) { event(uuid: $uuid) { uuid } }
        stillMine: project(id: $a) { event(uuid: $uuid) { uuid } }
      }`,
      { a: a._id, b: b._id, uuid: onlyInB },
      keyA,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ mine: { id: a._id }, theirs: null, again: null, stillMine: { event: null } });
  });
});

describe('writing across tenants', () => {
  it("stores events captured with A's token in A only", async () => {
    const beforeB = await listAll(b._id, server.adminKey);
    const uuid = randomUUID();
    const res = await captureBatch({ api_key: a.apiToken, batch: [{ event: 'signup', distinct_id: 'alice', uuid, properties: { plan: 'free' } }] });
    expect(res).toMatchObject({ status: 200, body: { accepted: 1 } });
    expect((await listAll(a._id, keyA)).map((n: { uuid: string }) => n.uuid)).toContain(uuid);
    expect(await listAll(b._id, server.adminKey)).toEqual(beforeB);
  });

  it('refuses a capture batch that carries two projects tokens and stores nothing', async () => {
    const beforeA = await listAll(a._id, server.adminKey);
    const beforeB = await listAll(b._id, server.adminKey);
    for (const body of [
      { api_key: a.apiToken, batch: [{ event: 'x', distinct_id: 'alice' }, { event: 'x', distinct_id: 'alice', api_key: b.apiToken }] },
      { api_key: a.apiToken, batch: [{ event: 'x', distinct_id: 'alice', properties: { token: b.apiToken } }] },
      [{ event: 'x', distinct_id: 'alice', token: a.apiToken }, { event: 'x', distinct_id: 'alice', token: b.apiToken }],
    ]) {
      const res = await captureBatch(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('multiple_tokens');
    }
    expect(await listAll(a._id, server.adminKey)).toEqual(beforeA);
    expect(await listAll(b._id, server.adminKey)).toEqual(beforeB);
  });

  it('refuses a capture mutation whose events name another project token and stores nothing', async () => {
    const beforeB = await listAll(b._id, server.adminKey);
    const beforeA = await listAll(a._id, server.adminKey);
    const res = await gql(
      server,
      `mutation($input: CaptureInput!) { capture(input: $input) { accepted duplicates errors { code } } }`,
      { input: { apiToken: a.apiToken, events: [{ event: 'x', distinctId: 'alice', properties: { token: b.apiToken } }] } },
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors?.[0]?.extensions?.reason).toBe('multiple_tokens');
    expect(await listAll(a._id, server.adminKey)).toEqual(beforeA);
    expect(await listAll(b._id, server.adminKey)).toEqual(beforeB);
  });
});
