import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createKey, createProject, gql, spawnServer, startTestServer, type ServerProcess, type TestServer } from '../helpers/server.ts';

interface SentEvent {
  event: string;
  distinct_id: string;
  uuid?: string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

interface GroupNode {
  typeIndex: number;
  typeName: string | null;
  key: string;
  properties: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

const GROUPS = `query Groups($id: ID!, $typeIndex: Int!, $search: String, $first: Int, $after: String) {
  project(id: $id) {
    groups(typeIndex: $typeIndex, search: $search, first: $first, after: $after) {
      edges { cursor node { typeIndex typeName key properties createdAt updatedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const GROUP_TYPES = `query Types($id: ID!) { project(id: $id) { groupTypes { index name createdAt } } }`;

const WARNINGS = `query Warnings($id: ID!) {
  project(id: $id) { ingestionWarnings(first: 100) { edges { node { type details eventUuid distinctId } } } }
}`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

function at(second: number): string {
  return new Date(Date.UTC(2024, 4, 1, 12, 0, second)).toISOString();
}

async function capture(project: ProjectDocument, batch: SentEvent[], url = server.url): Promise<{ accepted: number; duplicates: number }> {
  const response = await fetch(`${url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: project.apiToken, batch }),
  });
  const body = (await response.json()) as { accepted: number; duplicates: number };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function groupTypes(projectId: string, key = server.adminKey): Promise<{ index: number; name: string; createdAt: string }[]> {
  const res = await gql(server, GROUP_TYPES, { id: projectId }, key);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.groupTypes;
}

async function groupsPage(projectId: string, variables: { typeIndex: number; search?: string; first?: number; after?: string | null }) {
  const res = await gql(server, GROUPS, { id: projectId, ...variables }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.groups as { edges: { cursor: string; node: GroupNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

async function allGroups(projectId: string, typeIndex: number, search?: string): Promise<GroupNode[]> {
  const page = await groupsPage(projectId, { typeIndex, search, first: 1000 });
  expect(page.pageInfo.hasNextPage).toBe(false);
  return page.edges.map((e) => e.node);
}

async function warnings(projectId: string): Promise<{ type: string; details: Record<string, unknown>; eventUuid: string | null; distinctId: string | null }[]> {
  const res = await gql(server, WARNINGS, { id: projectId }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.ingestionWarnings.edges.map((e: { node: unknown }) => e.node);
}

/** The group slots stored on an event (the API exposes them through group filters, which live elsewhere). */
async function storedGroupsOf(project: ProjectDocument, uuid: string): Promise<Record<string, string> | undefined> {
  const doc = await server.storage.db.collection('events').findOne({ projectId: project._id, uuid });
  expect(doc, `event ${uuid} is stored`).not.toBeNull();
  return doc!.groups as Record<string, string> | undefined;
}

function identify(type: string, key: unknown, properties: Record<string, unknown>, second: number): SentEvent {
  return { event: '$groupidentify', distinct_id: 'admin', uuid: randomUUID(), timestamp: at(second), properties: { $group_type: type, $group_key: key, ...properties } };
}

describe('group types', () => {
  it('numbers types 0, 1, … in the order they are first seen and stores each event under those slots', async () => {
    const project = await createProject(server, 'type order');
    const first = randomUUID();
    const second = randomUUID();
    const third = randomUUID();
    await capture(project, [
      { event: 'opened', distinct_id: 'u1', uuid: first, timestamp: at(1), properties: { $groups: { company: 'acme' } } },
      { event: 'opened', distinct_id: 'u1', uuid: second, timestamp: at(2), properties: { $groups: { team: 'red', company: 'acme' } } },
    ]);
    await capture(project, [{ event: 'opened', distinct_id: 'u2', uuid: third, timestamp: at(3), properties: { $groups: { company: 'globex', project: 'p-9' } } }]);

    expect((await groupTypes(project._id)).map(({ index, name }) => ({ index, name }))).toEqual([
      { index: 0, name: 'company' },
      { index: 1, name: 'team' },
      { index: 2, name: 'project' },
    ]);
    expect(await storedGroupsOf(project, first)).toEqual({ g0: 'acme' });
    expect(await storedGroupsOf(project, second)).toEqual({ g0: 'acme', g1: 'red' });
    expect(await storedGroupsOf(project, third)).toEqual({ g0: 'globex', g2: 'p-9' });
  });

  it('lists a group as soon as an event names it, before any $groupidentify, with numeric keys as strings', async () => {
    const project = await createProject(server, 'mentioned');
    await capture(project, [{ event: 'e', distinct_id: 'u', timestamp: at(5), properties: { $groups: { company: 1234 } } }]);
    const groups = await allGroups(project._id, 0);
    expect(groups).toEqual([
      { typeIndex: 0, typeName: 'company', key: '1234', properties: {}, createdAt: at(5), updatedAt: expect.any(String) },
    ]);
  });

  it('ignores a sixth group type with a warning, and still stores the event with its other groups', async () => {
    const project = await createProject(server, 'six types');
    await capture(project, [{ event: 'setup', distinct_id: 'u', timestamp: at(0), properties: { $groups: { a: '1', b: '2', c: '3', d: '4', e: '5' } } }]);
    const uuid = randomUUID();
    const result = await capture(project, [{ event: 'late', distinct_id: 'u-late', uuid, timestamp: at(1), properties: { $groups: { f: 'six', a: 'one' } } }]);
    expect(result.accepted).toBe(1);

    expect((await groupTypes(project._id)).map((t) => t.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await storedGroupsOf(project, uuid)).toEqual({ g0: 'one' });
    const found = (await warnings(project._id)).filter((w) => w.type === 'group_type_limit_exceeded');
    expect(found).toEqual([{ type: 'group_type_limit_exceeded', details: expect.objectContaining({ groupType: 'f', limit: 5 }), eventUuid: uuid, distinctId: 'u-late' }]);
  });

  it('gives a type exactly one index when many requests see it first at the same moment', async () => {
    const project = await createProject(server, 'race one type');
    const sends = Array.from({ length: 24 }, (_, i) =>
      capture(project, [{ event: 'race', distinct_id: `u${i}`, uuid: randomUUID(), timestamp: at(i), properties: { $groups: { workspace: `w${i % 3}` } } }]),
    );
    await Promise.all(sends);
    expect((await groupTypes(project._id)).map(({ index, name }) => ({ index, name }))).toEqual([{ index: 0, name: 'workspace' }]);
    expect((await allGroups(project._id, 0)).map((g) => g.key)).toEqual(['w0', 'w1', 'w2']);
  });

  it('settles on five types with distinct indexes when parallel requests race with seven new types, and every event agrees with them', async () => {
    const project = await createProject(server, 'race seven types');
    const names = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    const sent: { uuid: string; groups: Record<string, string> }[] = [];
    const sends = Array.from({ length: 21 }, (_, i) => {
      const rotated = [...names.slice(i % 7), ...names.slice(0, i % 7)];
      const groups = Object.fromEntries(rotated.map((name) => [name, `${name}-key-${i}`]));
      const uuid = randomUUID();
      sent.push({ uuid, groups });
      return capture(project, [{ event: 'race', distinct_id: `u${i}`, uuid, timestamp: at(i), properties: { $groups: groups } }]);
    });
    await Promise.all(sends);

    const types = await groupTypes(project._id);
    expect(types.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(types.map((t) => t.name)).size).toBe(5);
    for (const { uuid, groups } of sent) {
      const expected = Object.fromEntries(types.map((t) => [`g${t.index}`, groups[t.name]]));
      expect(await storedGroupsOf(project, uuid)).toEqual(expected);
    }
    const limitWarnings = (await warnings(project._id)).filter((w) => w.type === 'group_type_limit_exceeded');
    expect(limitWarnings).toHaveLength(2 * 21);
  });

  it('claims a new $groupidentify type as well', async () => {
    const project = await createProject(server, 'identify claims');
    await capture(project, [identify('organization', 'org-1', { $group_set: { name: 'Org One' } }, 1)]);
    expect((await groupTypes(project._id)).map((t) => t.name)).toEqual(['organization']);
    expect((await allGroups(project._id, 0)).map((g) => ({ key: g.key, properties: g.properties }))).toEqual([{ key: 'org-1', properties: { name: 'Org One' } }]);
  });
});

describe('group properties through $groupidentify', () => {
  it('lets a later $group_set win per key while keeping keys only the earlier one set', async () => {
    const project = await createProject(server, 'identify twice');
    await capture(project, [identify('company', 'acme', { $group_set: { name: 'Acme', plan: 'free', 'billing.email': 'a@acme.test' } }, 1)]);
    await capture(project, [identify('company', 'acme', { $group_set: { plan: 'pro', $seats: 12 } }, 2)]);
    const [acme] = await allGroups(project._id, 0);
    expect(acme?.properties).toEqual({ name: 'Acme', plan: 'pro', 'billing.email': 'a@acme.test', $seats: 12 });
  });

  it('applies the identifies of one request in event order', async () => {
    const project = await createProject(server, 'identify order');
    await capture(project, [
      identify('company', 'acme', { $group_set: { plan: 'free', region: 'eu' } }, 9),
      identify('company', 'acme', { $group_set: { plan: 'pro' } }, 3),
      identify('company', 'acme', { $group_set: { plan: 'enterprise' } }, 5),
    ]);
    const [acme] = await allGroups(project._id, 0);
    expect(acme?.properties).toEqual({ plan: 'enterprise', region: 'eu' });
  });

  it('keeps existing values on $group_set_once and fills only absent keys, storing "$..." strings as data', async () => {
    const project = await createProject(server, 'set once');
    await capture(project, [identify('company', 'acme', { $group_set: { plan: 'pro' } }, 1)]);
    await capture(project, [identify('company', 'acme', { $group_set_once: { plan: 'free', founded: '$year', nested: { 'a.b': 1 } } }, 2)]);
    await capture(project, [identify('company', 'acme', { $group_set_once: { founded: 'later' } }, 3)]);
    const [acme] = await allGroups(project._id, 0);
    expect(acme?.properties).toEqual({ plan: 'pro', founded: '$year', nested: { 'a.b': 1 } });
  });

  it('never loses a key when many requests identify the same group at once with different keys', async () => {
    const project = await createProject(server, 'concurrent identify');
    await capture(project, [identify('company', 'acme', {}, 0)]);
    await Promise.all(Array.from({ length: 16 }, (_, i) => capture(project, [identify('company', 'acme', { $group_set: { [`k${i}`]: i } }, i + 1)])));
    const [acme] = await allGroups(project._id, 0);
    expect(acme?.properties).toEqual(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])));
  });

  it('is unchanged by an SDK retry of the same request', async () => {
    const project = await createProject(server, 'retry');
    const batch = [identify('company', 'acme', { $group_set: { plan: 'pro' } }, 4), { event: 'e', distinct_id: 'u', uuid: randomUUID(), timestamp: at(2), properties: { $groups: { company: 'acme' } } }];
    await capture(project, batch);
    const before = await allGroups(project._id, 0);
    const retried = await capture(project, batch);
    expect(retried.duplicates).toBe(2);
    const after = await allGroups(project._id, 0);
    expect(after.map(({ key, properties, createdAt }) => ({ key, properties, createdAt }))).toEqual(before.map(({ key, properties, createdAt }) => ({ key, properties, createdAt })));
    expect(after).toHaveLength(1);
  });

  it('warns about an unusable group key and stores the event without that group', async () => {
    const project = await createProject(server, 'bad keys');
    const uuid = randomUUID();
    await capture(project, [{ event: 'e', distinct_id: 'u', uuid, timestamp: at(1), properties: { $groups: { company: '', team: { id: 1 }, org: 'ok' } } }]);
    expect(await storedGroupsOf(project, uuid)).toEqual({ g0: 'ok' });
    expect((await groupTypes(project._id)).map((t) => t.name)).toEqual(['org']);
    const found = (await warnings(project._id)).filter((w) => w.type === 'invalid_group_key');
    expect(found.map((w) => w.details.groupType).sort()).toEqual(['company', 'team']);
    expect(found.every((w) => w.eventUuid === uuid)).toBe(true);
  });
});

describe('group createdAt', () => {
  it('is the earliest event timestamp, even when the earlier event arrives later', async () => {
    const project = await createProject(server, 'created at');
    await capture(project, [{ event: 'e', distinct_id: 'u', timestamp: at(40), properties: { $groups: { company: 'acme' } } }]);
    expect((await allGroups(project._id, 0))[0]?.createdAt).toBe(at(40));
    await capture(project, [{ event: 'e', distinct_id: 'u', timestamp: at(10), properties: { $groups: { company: 'acme' } } }]);
    expect((await allGroups(project._id, 0))[0]?.createdAt).toBe(at(10));
    await capture(project, [identify('company', 'acme', { $group_set: { name: 'Acme' } }, 50)]);
    await capture(project, [{ event: 'e', distinct_id: 'u', timestamp: at(20), properties: { $groups: { company: 'acme' } } }]);
    expect((await allGroups(project._id, 0))[0]?.createdAt).toBe(at(10));
    await capture(project, [identify('company', 'acme', { $group_set: { name: 'Acme Inc' } }, 5)]);
    const [acme] = await allGroups(project._id, 0);
    expect(acme?.createdAt).toBe(at(5));
    expect(acme?.properties).toEqual({ name: 'Acme Inc' });
  });
});

describe('Project.groups search and paging', () => {
  let project: ProjectDocument;
  const keys = Array.from({ length: 25 }, (_, i) => `org-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    project = await createProject(server, 'search');
    await capture(
      project,
      keys.map((key, i) => ({ event: 'e', distinct_id: 'u', uuid: randomUUID(), timestamp: at(i), properties: { $groups: { company: key } } })),
    );
    await capture(project, [
      identify('company', 'org-03', { $group_set: { name: 'Hooli' } }, 30),
      identify('company', 'org-17', { $group_set: { name: 'Pied Piper' } }, 31),
      identify('company', 'a.c', { $group_set: { name: 'dots' } }, 32),
      identify('company', 'abc', {}, 33),
    ]);
  });

  it('walks every group once, ordered by key, page by page', async () => {
    const walked: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page = await groupsPage(project._id, { typeIndex: 0, first: 7, after });
      walked.push(...page.edges.map((e) => e.node.key));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(walked).toEqual(['a.c', 'abc', ...keys]);
  });

  it('matches a case-insensitive substring of the key or of the name property', async () => {
    expect((await allGroups(project._id, 0, 'ORG-1')).map((g) => g.key)).toEqual(keys.filter((k) => k.startsWith('org-1')));
    expect((await allGroups(project._id, 0, 'piper')).map((g) => g.key)).toEqual(['org-17']);
    expect((await allGroups(project._id, 0, 'hoo')).map((g) => g.key)).toEqual(['org-03']);
  });

  it('takes search text literally, not as a pattern', async () => {
    expect((await allGroups(project._id, 0, 'a.c')).map((g) => g.key)).toEqual(['a.c']);
    expect(await allGroups(project._id, 0, '.*')).toEqual([]);
  });

  it('has nothing for a type index no type holds yet', async () => {
    expect(await allGroups(project._id, 3)).toEqual([]);
  });

  it.each([-1, 5, 99])('refuses typeIndex %i with BAD_USER_INPUT', async (typeIndex) => {
    const res = await gql(server, GROUPS, { id: project._id, typeIndex }, server.adminKey);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a cursor it did not make with BAD_USER_INPUT', async () => {
    const res = await gql(server, GROUPS, { id: project._id, typeIndex: 0, after: 'not-a-cursor' }, server.adminKey);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('group tenancy', () => {
  it("shows another project's key none of this project's types or groups, and numbers its own types from 0", async () => {
    const mine = await createProject(server, 'tenant a');
    const theirs = await createProject(server, 'tenant b');
    await capture(mine, [{ event: 'e', distinct_id: 'u', timestamp: at(1), properties: { $groups: { company: 'secret-co', team: 'x' } } }]);
    await capture(theirs, [{ event: 'e', distinct_id: 'u', timestamp: at(1), properties: { $groups: { team: 'their-team' } } }]);
    const { key } = await createKey(server, [theirs._id]);

    const direct = await gql(server, GROUPS, { id: mine._id, typeIndex: 0 }, key);
    expect(direct.data?.project ?? null).toBeNull();
    expect(await groupTypes(theirs._id, key)).toEqual([{ index: 0, name: 'team', createdAt: expect.any(String) }]);
    const own = await gql(server, GROUPS, { id: theirs._id, typeIndex: 0, search: 'secret' }, key);
    expect(own.data.project.groups.edges).toEqual([]);
    const all = await gql(server, GROUPS, { id: theirs._id, typeIndex: 0 }, key);
    expect(all.data.project.groups.edges.map((e: { node: GroupNode }) => e.node.key)).toEqual(['their-team']);
  });
});

describe('group types across processes', () => {
  let other: ServerProcess | undefined;

  afterAll(async () => {
    await other?.terminate();
  });

  it('agree on one index per type when two server processes see the same new types at once', async () => {
    other = await spawnServer({ MONGODB_URL: server.storage.url });
    const project = await createProject(server, 'two processes');
    const names = ['alpha', 'beta', 'gamma'];
    const sends = Array.from({ length: 16 }, (_, i) => {
      const ordered = i % 2 === 0 ? names : [...names].reverse();
      const groups = Object.fromEntries(ordered.map((name) => [name, `${name}-${i}`]));
      return capture(project, [{ event: 'race', distinct_id: `u${i}`, uuid: randomUUID(), timestamp: at(i), properties: { $groups: groups } }], i % 2 === 0 ? server.url : other!.url);
    });
    await Promise.all(sends);
    const types = await groupTypes(project._id);
    expect(types.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(types.map((t) => t.name).sort()).toEqual([...names].sort());
    for (const type of types) expect(await allGroups(project._id, type.index)).toHaveLength(16);
  }, 40_000);
});
