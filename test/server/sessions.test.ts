import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Sessions as a user sees them: events captured over real HTTP (out of order, split over concurrent
 * requests, one request retried), then read through GraphQL. Expected values are worked out by hand
 * from the events written here.
 */

interface SentEvent {
  event: string;
  distinct_id: string;
  uuid: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

const BASE = Date.UTC(2024, 4, 1, 12, 0, 0);

function at(second: number): string {
  return new Date(BASE + second * 1000).toISOString();
}

function ev(sessionId: string, event: string, distinctId: string, second: number, properties: Record<string, unknown> = {}): SentEvent {
  return { event, distinct_id: distinctId, uuid: randomUUID(), timestamp: at(second), properties: { $session_id: sessionId, ...properties } };
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

const SESSION_FIELDS = `id distinctId startTimestamp endTimestamp duration eventCount pageviewCount autocaptureCount isBounce channelType
  entryCurrentUrl entryPathname entryReferrer entryReferringDomain entryUtmSource entryUtmMedium entryUtmCampaign entryUtmTerm
  entryUtmContent entryGclid entryGadSource exitCurrentUrl exitPathname properties`;

const SESSIONS = `query Sessions($id: ID!, $filter: SessionFilter, $first: Int, $after: String) {
  project(id: $id) {
    sessions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ${SESSION_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

async function sessionsPage(projectId: string, variables: { filter?: unknown; first?: number; after?: string | null } = {}) {
  const res = await gql(server, SESSIONS, { id: projectId, ...variables }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.sessions as { edges: { cursor: string; node: Record<string, any> }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

async function sessionIds(projectId: string, filter?: unknown): Promise<string[]> {
  const page = await sessionsPage(projectId, { filter, first: 100 });
  return page.edges.map((e) => e.node.id);
}

function codesOf(res: { errors?: { extensions?: { code?: string } }[] }) {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

describe('sessions from captured events', () => {
  let project: ProjectDocument;
  const A = randomUUID();
  const B = randomUUID();
  const C = randomUUID();
  // Session A: a paid Google visit that browses, clicks and buys over 50 seconds.
  const a0 = ev(A, '$pageview', 'anon-a', 0, {
    $current_url: 'https://shop.example/landing?utm_source=google&utm_medium=cpc',
    $pathname: '/landing',
    $referrer: 'https://www.google.com/',
    $referring_domain: 'www.google.com',
    utm_source: 'google',
    utm_medium: 'cpc',
    utm_campaign: 'spring',
    utm_term: 'shoes',
    utm_content: 'ad-1',
    gclid: 'Cj0KCQ',
    gad_source: '1',
  });
  const a20 = ev(A, '$autocapture', 'anon-a', 20, { $current_url: 'https://shop.example/landing', $pathname: '/landing' });
  const a45 = ev(A, '$pageview', 'anon-a', 45, { $current_url: 'https://shop.example/checkout', $pathname: '/checkout' });
  const a50 = ev(A, 'purchased', 'anon-a', 50);
  // Session B: one direct page view, left after 3 seconds — a bounce.
  const b100 = ev(B, '$pageview', 'user-b', 100, { $current_url: 'https://shop.example/blog/post', $pathname: '/blog/post', $referrer: '$direct', $referring_domain: '$direct' });
  const b103 = ev(B, '$pageleave', 'user-b', 103, { $current_url: 'https://shop.example/blog/post', $pathname: '/blog/post' });
  // Session C: one server-side event, with no page and nothing known about where it came from.
  const c500 = ev(C, 'invoice paid', 'other', 500);

  beforeAll(async () => {
    project = await createProject(server, 'sessions');
    // The latest events first, then two concurrent requests each mixing both sessions, then a retry.
    await capture(project, [a45, b103]);
    const second = [a50, a20, c500];
    await Promise.all([capture(project, second), capture(project, [b100, a0])]);
    const retry = await capture(project, second);
    expect(retry).toMatchObject({ accepted: 0, duplicates: 3 });
    // An event without a session id belongs to no session.
    const orphan = ev('', 'no session', 'anon-a', 10);
    delete orphan.properties.$session_id;
    await capture(project, [orphan]);
  });

  it('rolls up each session from all of its events, whatever order they arrived in, counting a retried request once', async () => {
    const page = await sessionsPage(project._id, { first: 10 });
    const byId = new Map(page.edges.map((e) => [e.node.id, e.node]));
    expect([...byId.keys()].sort()).toEqual([A, B, C].sort());
    expect(byId.get(A)).toEqual({
      id: A,
      distinctId: 'anon-a',
      startTimestamp: at(0),
      endTimestamp: at(50),
      duration: 50,
      eventCount: 4,
      pageviewCount: 2,
      autocaptureCount: 1,
      isBounce: false,
      channelType: 'Paid Search',
      entryCurrentUrl: 'https://shop.example/landing?utm_source=google&utm_medium=cpc',
      entryPathname: '/landing',
      entryReferrer: 'https://www.google.com/',
      entryReferringDomain: 'www.google.com',
      entryUtmSource: 'google',
      entryUtmMedium: 'cpc',
      entryUtmCampaign: 'spring',
      entryUtmTerm: 'shoes',
      entryUtmContent: 'ad-1',
      entryGclid: 'Cj0KCQ',
      entryGadSource: '1',
      exitCurrentUrl: 'https://shop.example/checkout',
      exitPathname: '/checkout',
      properties: {
        $session_id: A,
        $start_timestamp: at(0),
        $end_timestamp: at(50),
        $session_duration: 50,
        $entry_current_url: 'https://shop.example/landing?utm_source=google&utm_medium=cpc',
        $entry_pathname: '/landing',
        $entry_referrer: 'https://www.google.com/',
        $entry_referring_domain: 'www.google.com',
        $entry_utm_source: 'google',
        $entry_utm_medium: 'cpc',
        $entry_utm_campaign: 'spring',
        $entry_utm_term: 'shoes',
        $entry_utm_content: 'ad-1',
        $entry_gclid: 'Cj0KCQ',
        $entry_gad_source: '1',
        $exit_current_url: 'https://shop.example/checkout',
        $exit_pathname: '/checkout',
        $pageview_count: 2,
        $autocapture_count: 1,
        $is_bounce: false,
        $channel_type: 'Paid Search',
      },
    });
    expect(byId.get(B)).toMatchObject({
      distinctId: 'user-b',
      startTimestamp: at(100),
      endTimestamp: at(103),
      duration: 3,
      eventCount: 2,
      pageviewCount: 1,
      autocaptureCount: 0,
      isBounce: true,
      channelType: 'Direct',
      entryCurrentUrl: 'https://shop.example/blog/post',
      entryReferringDomain: '$direct',
      entryUtmSource: null,
      entryGclid: null,
      exitPathname: '/blog/post',
    });
    expect(byId.get(C)).toMatchObject({ eventCount: 1, duration: 0, channelType: 'Unknown', entryCurrentUrl: null, exitCurrentUrl: null });
  });

  it('lists sessions newest start first and pages through them with cursors', async () => {
    expect(await sessionIds(project._id)).toEqual([C, B, A]);
    const first = await sessionsPage(project._id, { first: 2 });
    expect(first.edges.map((e) => e.node.id)).toEqual([C, B]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await sessionsPage(project._id, { first: 2, after: first.pageInfo.endCursor });
    expect(rest.edges.map((e) => e.node.id)).toEqual([A]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by start time, distinct id and session properties', async () => {
    const id = project._id;
    expect(await sessionIds(id, { distinctId: 'anon-a' })).toEqual([A]);
    expect(await sessionIds(id, { after: at(60), before: at(200) })).toEqual([B]);
    expect(await sessionIds(id, { before: at(100) })).toEqual([A]);
    const prop = (key: string, operator: string, value?: unknown) => ({ properties: [{ key, operator, value }] });
    expect(await sessionIds(id, prop('$channel_type', 'exact', 'Direct'))).toEqual([B]);
    expect(await sessionIds(id, prop('$session_duration', 'gt', 10))).toEqual([A]);
    // C has no page view at all, so by the bounce rule it bounced too.
    expect(await sessionIds(id, prop('$is_bounce', 'exact', true))).toEqual([C, B]);
    expect(await sessionIds(id, prop('$channel_type', 'exact', 'Unknown'))).toEqual([C]);
    expect(await sessionIds(id, prop('$entry_utm_source', 'exact', 'google'))).toEqual([A]);
    expect(await sessionIds(id, prop('$entry_utm_source', 'is_not_set'))).toEqual([C, B]);
    expect(await sessionIds(id, prop('$exit_pathname', 'icontains', 'CHECK'))).toEqual([A]);
    expect(await sessionIds(id, prop('$pageview_count', 'gte', 2))).toEqual([A]);
    expect(await sessionIds(id, prop('$start_timestamp', 'gte', at(60)))).toEqual([C, B]);
    expect(await sessionIds(id, prop('$start_timestamp', 'lt', at(60)))).toEqual([A]);
    expect(await sessionIds(id, { properties: [{ key: '$entry_referring_domain', operator: 'exact', value: '$direct' }, { key: '$session_duration', operator: 'lt', value: 5 }] })).toEqual([B]);
  });

  it("filters by person and links each session to its distinct id's person", async () => {
    const res = await gql(
      server,
      `query($id: ID!) { project(id: $id) { person(distinctId: "user-b") { id sessions(first: 10) { edges { node { id } } } } } }`,
      { id: project._id },
      server.adminKey,
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    const person = res.data.project.person;
    expect(person.sessions.edges.map((e: any) => e.node.id)).toEqual([B]);
    expect(await sessionIds(project._id, { personId: person.id })).toEqual([B]);
    const linked = await gql(server, `query($id: ID!, $s: ID!) { project(id: $id) { session(id: $s) { person { id } } } }`, { id: project._id, s: B }, server.adminKey);
    expect(linked.data.project.session.person.id).toBe(person.id);
  });

  it("pages through a session's events oldest first", async () => {
    const query = `query($id: ID!, $s: ID!, $after: String) { project(id: $id) { session(id: $s) {
      events(first: 3, after: $after) { edges { node { uuid event timestamp } } pageInfo { hasNextPage endCursor } } } } }`;
    const first = await gql(server, query, { id: project._id, s: A }, server.adminKey);
    expect(first.errors, JSON.stringify(first.errors)).toBeUndefined();
    const page1 = first.data.project.session.events;
    expect(page1.edges.map((e: any) => e.node.uuid)).toEqual([a0.uuid, a20.uuid, a45.uuid]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await gql(server, query, { id: project._id, s: A, after: page1.pageInfo.endCursor }, server.adminKey);
    expect(second.data.project.session.events.edges.map((e: any) => e.node.uuid)).toEqual([a50.uuid]);
    expect(second.data.project.session.events.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses unknown session properties, naming the ones that exist, and forged cursors', async () => {
    const unknown = await gql(server, SESSIONS, { id: project._id, filter: { properties: [{ key: '$browser', operator: 'exact', value: 'Chrome' }] } }, server.adminKey);
    expect(codesOf(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors?.[0]?.message).toContain('$session_duration');
    const forged = Buffer.from(JSON.stringify([1e20, 'zz'])).toString('base64url');
    for (const after of ['not-a-cursor', forged]) {
      expect(codesOf(await gql(server, SESSIONS, { id: project._id, after }, server.adminKey))).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('sessions paging with equal start times', () => {
  it('walks every session exactly once when many start at the same instant', async () => {
    const project = await createProject(server, 'session ties');
    const ids = Array.from({ length: 7 }, () => randomUUID());
    await capture(project, ids.map((id, i) => ev(id, '$pageview', `u${i}`, 30, { $current_url: 'https://a.example/' })));
    const walked: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await sessionsPage(project._id, { first: 3, after });
      walked.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect([...walked].sort()).toEqual([...ids].sort());
  });

  it('refuses a nested query that would read too many events', async () => {
    const res = await gql(server, `query($id: ID!) { project(id: $id) { sessions(first: 1000) { edges { node { events(first: 1000) { edges { node { uuid } } } } } } } }`, { id: server.project._id }, server.adminKey);
    expect(codesOf(res)).toEqual(['QUERY_TOO_EXPENSIVE']);
  });
});
