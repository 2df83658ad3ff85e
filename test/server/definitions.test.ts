import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

interface SentEvent {
  event: string;
  distinct_id: string;
  uuid: string;
  timestamp: string;
  properties?: Record<string, unknown>;
}

interface EventDefinition {
  name: string;
  firstSeen: string;
  lastSeen: string;
  volume: number;
}

interface PropertyDefinition {
  key: string;
  kind: 'EVENT' | 'PERSON' | 'GROUP' | 'SESSION';
  groupTypeIndex: number | null;
  valueType: 'STRING' | 'NUMERIC' | 'BOOLEAN' | 'DATETIME';
  firstSeen: string | null;
  lastSeen: string | null;
  volume: number | null;
}

interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const EVENT_DEFINITIONS = `query($id: ID!, $search: String, $first: Int, $after: String) {
  project(id: $id) {
    eventDefinitions(search: $search, first: $first, after: $after) {
      edges { cursor node { name firstSeen lastSeen volume } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const PROPERTY_DEFINITIONS = `query($id: ID!, $type: PropertyDefinitionKind, $groupTypeIndex: Int, $search: String, $first: Int, $after: String) {
  project(id: $id) {
    propertyDefinitions(type: $type, groupTypeIndex: $groupTypeIndex, search: $search, first: $first, after: $after) {
      edges { cursor node { key kind groupTypeIndex valueType firstSeen lastSeen volume } }
      pageInfo { hasNextPage endCursor }
    }
  }
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

function sent(event: string, second: number, properties: Record<string, unknown> = {}): SentEvent {
  return { event, distinct_id: 'user-1', uuid: randomUUID(), timestamp: at(second), properties };
}

async function capture(project: ProjectDocument, batch: SentEvent[]): Promise<{ accepted: number; duplicates: number }> {
  const response = await fetch(`${server.url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: project.apiToken, batch }),
  });
  const body = (await response.json()) as { accepted: number; duplicates: number };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function eventDefinitions(projectId: string, variables: { search?: string; first?: number; after?: string | null } = {}): Promise<Page<EventDefinition>> {
  const res = await gql(server, EVENT_DEFINITIONS, { id: projectId, ...variables }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.eventDefinitions;
}

type PropertyQuery = { type?: string; groupTypeIndex?: number; search?: string; first?: number; after?: string | null };

async function propertyDefinitions(projectId: string, variables: PropertyQuery = {}): Promise<Page<PropertyDefinition>> {
  const res = await gql(server, PROPERTY_DEFINITIONS, { id: projectId, ...variables }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.propertyDefinitions;
}

async function allProperties(projectId: string, variables: PropertyQuery = {}): Promise<PropertyDefinition[]> {
  const page = await propertyDefinitions(projectId, { ...variables, first: 1000 });
  expect(page.pageInfo.hasNextPage).toBe(false);
  return page.edges.map((e) => e.node);
}

function find(list: PropertyDefinition[], kind: PropertyDefinition['kind'], key: string): PropertyDefinition | undefined {
  return list.find((d) => d.kind === kind && d.key === key);
}

describe('definitions rolled up from captured events', () => {
  let project: ProjectDocument;

  beforeAll(async () => {
    project = await createProject(server, 'definitions');
    const first = [
      sent('$pageview', 10, {
        $browser: 'Chrome',
        count: 3,
        flag: true,
        at: '2024-05-01T10:00:00Z',
        'a.b': 1,
        gone: null,
        obj: { a: 1 },
        list: [1, 2],
        $set: { email: 'a@example.test', plan: 'pro' },
        $set_once: { first_referrer: 'search' },
        $unset: ['old'],
      }),
      sent('$pageview', 20, { $browser: 'Firefox', count: '7' }),
      sent('signed up', 15, { plan: 'pro' }),
    ];
    await capture(project, first);
    // An SDK retry of the same request: every event is a duplicate, nothing may be counted twice.
    const retry = await capture(project, first);
    expect(retry.duplicates).toBe(3);
    await capture(project, [
      sent('$pageview', 5, { $browser: 'Safari', flag: 'yes' }),
      sent('Signed Up Later', 30),
      sent('$groupidentify', 25, { $group_type: 'company', $group_key: 'acme', $group_set: { name: 'Acme', employees: 50 } }),
    ]);
  });

  it('counts each event name once per stored event, with its earliest and latest timestamps, most frequent first', async () => {
    const page = await eventDefinitions(project._id);
    expect(page.edges.map((e) => e.node)).toEqual([
      { name: '$pageview', firstSeen: at(5), lastSeen: at(20), volume: 3 },
      { name: '$groupidentify', firstSeen: at(25), lastSeen: at(25), volume: 1 },
      { name: 'Signed Up Later', firstSeen: at(30), lastSeen: at(30), volume: 1 },
      { name: 'signed up', firstSeen: at(15), lastSeen: at(15), volume: 1 },
    ]);
  });

  it('types event properties by their first value and counts the events that carried them', async () => {
    const list = await allProperties(project._id, { type: 'EVENT' });
    expect(find(list, 'EVENT', '$browser')).toEqual({ key: '$browser', kind: 'EVENT', groupTypeIndex: null, valueType: 'STRING', firstSeen: at(5), lastSeen: at(20), volume: 3 });
    expect(find(list, 'EVENT', 'count')).toMatchObject({ valueType: 'NUMERIC', volume: 2 });
    expect(find(list, 'EVENT', 'flag')).toMatchObject({ valueType: 'BOOLEAN', volume: 2, firstSeen: at(5), lastSeen: at(10) });
    expect(find(list, 'EVENT', 'at')).toMatchObject({ valueType: 'DATETIME', volume: 1 });
    expect(find(list, 'EVENT', 'a.b')).toMatchObject({ valueType: 'NUMERIC', volume: 1 });
    expect(find(list, 'EVENT', 'plan')).toMatchObject({ valueType: 'STRING', volume: 1, firstSeen: at(15) });
    expect(find(list, 'EVENT', '$group_key')).toMatchObject({ valueType: 'STRING', volume: 1 });
  });

  it('records no definition for null, object and array values, nor for the $set-like containers', async () => {
    const keys = (await allProperties(project._id, { type: 'EVENT' })).map((d) => d.key);
    for (const absent of ['gone', 'obj', 'list', '$set', '$set_once', '$unset', '$group_set']) expect(keys).not.toContain(absent);
  });

  it('records person keys from $set and $set_once as person properties', async () => {
    const list = await allProperties(project._id, { type: 'PERSON' });
    expect(find(list, 'PERSON', 'email')).toEqual({ key: 'email', kind: 'PERSON', groupTypeIndex: null, valueType: 'STRING', firstSeen: at(10), lastSeen: at(10), volume: 1 });
    expect(find(list, 'PERSON', 'plan')).toMatchObject({ volume: 1 });
    expect(find(list, 'PERSON', 'first_referrer')).toMatchObject({ valueType: 'STRING', volume: 1 });
    expect(list.every((d) => d.kind === 'PERSON')).toBe(true);
  });

  it('records $group_set keys under their group type index', async () => {
    expect(await allProperties(project._id, { groupTypeIndex: 0 })).toEqual([
      { key: 'employees', kind: 'GROUP', groupTypeIndex: 0, valueType: 'NUMERIC', firstSeen: at(25), lastSeen: at(25), volume: 1 },
      { key: 'name', kind: 'GROUP', groupTypeIndex: 0, valueType: 'STRING', firstSeen: at(25), lastSeen: at(25), volume: 1 },
    ]);
    expect(await allProperties(project._id, { groupTypeIndex: 1 })).toEqual([]);
  });

  it('searches names and keys as case-insensitive literal substrings', async () => {
    expect((await eventDefinitions(project._id, { search: 'SIGNED' })).edges.map((e) => e.node.name)).toEqual(['Signed Up Later', 'signed up']);
    expect((await eventDefinitions(project._id, { search: '.*' })).edges).toEqual([]);
    expect((await allProperties(project._id, { type: 'EVENT', search: 'BROW' })).map((d) => d.key)).toEqual(['$browser']);
    expect((await allProperties(project._id, { search: 'a.b' })).map((d) => d.key)).toEqual(['a.b']);
    expect((await allProperties(project._id, { search: 'plan' })).map((d) => [d.key, d.kind])).toEqual([
      ['plan', 'EVENT'],
      ['plan', 'PERSON'],
    ]);
  });

  it('serves the fixed session property list, with no dates or volume', async () => {
    const list = await allProperties(project._id, { type: 'SESSION' });
    expect(list.every((d) => d.kind === 'SESSION' && d.firstSeen === null && d.lastSeen === null && d.volume === null)).toBe(true);
    expect(find(list, 'SESSION', '$session_duration')?.valueType).toBe('NUMERIC');
    expect(find(list, 'SESSION', '$is_bounce')?.valueType).toBe('BOOLEAN');
    expect(find(list, 'SESSION', '$entry_current_url')?.valueType).toBe('STRING');
    expect(find(list, 'SESSION', '$channel_type')?.valueType).toBe('STRING');
    const keys = list.map((d) => d.key);
    expect(keys).toEqual([...keys].sort());
  });

  it('lists every kind together in key order, and walks it page by page without gaps or repeats', async () => {
    const whole = await allProperties(project._id);
    expect(new Set(whole.map((d) => d.kind))).toEqual(new Set(['EVENT', 'PERSON', 'GROUP', 'SESSION']));
    const keys = whole.map((d) => d.key);
    expect(keys).toEqual([...keys].sort());

    const walked: PropertyDefinition[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page = await propertyDefinitions(project._id, { first: 4, after });
      walked.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(walked).toEqual(whole);
  });

  it('walks event definitions page by page in the same order as one page', async () => {
    const whole = (await eventDefinitions(project._id)).edges.map((e) => e.node);
    const walked: EventDefinition[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await eventDefinitions(project._id, { first: 1, after });
      walked.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(walked).toEqual(whole);
  });

  it.each([
    [{ groupTypeIndex: 5 }],
    [{ groupTypeIndex: -1 }],
    [{ type: 'EVENT', groupTypeIndex: 0 }],
    [{ search: 'x'.repeat(201) }],
    [{ after: 'bogus' }],
  ])('refuses %j with BAD_USER_INPUT', async (variables) => {
    const res = await gql(server, PROPERTY_DEFINITIONS, { id: project._id, ...variables }, server.adminKey);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it("shows another project none of this project's names or keys", async () => {
    const other = await createProject(server, 'definitions elsewhere');
    expect((await eventDefinitions(other._id)).edges).toEqual([]);
    expect((await allProperties(other._id)).every((d) => d.kind === 'SESSION')).toBe(true);
  });
});

describe('definition counts under concurrency', () => {
  it('counts every event exactly once when many requests with the same new names arrive at once', async () => {
    const project = await createProject(server, 'burst');
    await Promise.all(
      Array.from({ length: 12 }, (_, r) => capture(project, Array.from({ length: 5 }, (_, i) => sent('burst', r * 5 + i, { size: i, [`only-${r}`]: 'x' })))),
    );
    const [burst] = (await eventDefinitions(project._id, { search: 'burst' })).edges.map((e) => e.node);
    expect(burst).toEqual({ name: 'burst', firstSeen: at(0), lastSeen: at(59), volume: 60 });
    const list = await allProperties(project._id, { type: 'EVENT' });
    expect(find(list, 'EVENT', 'size')).toMatchObject({ valueType: 'NUMERIC', volume: 60 });
    expect(list.filter((d) => d.key.startsWith('only-')).map((d) => d.volume)).toEqual(Array(12).fill(5));
  });
});
