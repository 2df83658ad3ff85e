import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createKey, createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

interface Warning {
  id: string;
  type: string;
  details: Record<string, unknown>;
  eventUuid: string | null;
  distinctId: string | null;
  timestamp: string;
}

const WARNINGS = `query($id: ID!, $first: Int, $after: String) {
  project(id: $id) {
    ingestionWarnings(first: $first, after: $after) {
      edges { cursor node { id type details eventUuid distinctId timestamp } }
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

async function capture(project: ProjectDocument, batch: Record<string, unknown>[]): Promise<{ accepted: number }> {
  const response = await fetch(`${server.url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: project.apiToken, batch }),
  });
  const body = (await response.json()) as { accepted: number };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

type WarningPage = { edges: { cursor: string; node: Warning }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

async function page(projectId: string, variables: { first?: number; after?: string | null } = {}, key = server.adminKey): Promise<WarningPage | undefined> {
  const res = await gql(server, WARNINGS, { id: projectId, ...variables }, key);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project?.ingestionWarnings;
}

async function events(projectId: string): Promise<{ uuid: string }[]> {
  const res = await gql(server, `query($id: ID!) { project(id: $id) { events(first: 100) { edges { node { uuid } } } } }`, { id: projectId }, server.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.project.events.edges.map((e: { node: { uuid: string } }) => e.node);
}

describe('Project.ingestionWarnings', () => {
  it('shows a warning for an event whose timestamp could not be read, and the event is still stored', async () => {
    const project = await createProject(server, 'bad timestamp');
    const uuid = randomUUID();
    await capture(project, [{ event: 'e', distinct_id: 'clock-user', uuid, timestamp: 'not a time' }]);
    const warnings = (await page(project._id))!.edges.map((e) => e.node);
    expect(warnings).toEqual([{ id: expect.any(String), type: 'ignored_invalid_timestamp', details: expect.any(Object), eventUuid: uuid, distinctId: 'clock-user', timestamp: expect.any(String) }]);
    expect((await events(project._id)).map((e) => e.uuid)).toEqual([uuid]);
  });

  it('shows a warning for a sixth group type, naming the type and the event', async () => {
    const project = await createProject(server, 'sixth type');
    await capture(project, [{ event: 'e', distinct_id: 'u', properties: { $groups: { a: '1', b: '2', c: '3', d: '4', e: '5' } } }]);
    const uuid = randomUUID();
    await capture(project, [{ event: 'e', distinct_id: 'group-user', uuid, properties: { $groups: { sixth: 'x' } } }]);
    const warnings = (await page(project._id))!.edges.map((e) => e.node);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ type: 'group_type_limit_exceeded', eventUuid: uuid, distinctId: 'group-user', details: { groupType: 'sixth', limit: 5 } });
  });

  it('lists warnings newest first and walks them page by page without gaps or repeats while new ones arrive', async () => {
    const project = await createProject(server, 'walk');
    const sentOrder: string[] = [];
    for (let i = 0; i < 7; i++) {
      const uuid = randomUUID();
      sentOrder.push(uuid);
      await capture(project, [{ event: 'e', distinct_id: `u${i}`, uuid, timestamp: `bad-${i}` }]);
    }
    const walked: Warning[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const result: WarningPage = (await page(project._id, { first: 2, after }))!;
      walked.push(...result.edges.map((e) => e.node));
      // A new warning between pages is newer than the cursor, so it does not show up in this walk.
      await capture(project, [{ event: 'e', distinct_id: 'late', uuid: randomUUID(), timestamp: 'bad-late' }]);
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    expect(walked.map((w) => w.eventUuid)).toEqual([...sentOrder].reverse());
    expect(new Set(walked.map((w) => w.id)).size).toBe(7);
    const times = walked.map((w) => Date.parse(w.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("is empty for a project without warnings and hides other projects' warnings", async () => {
    const noisy = await createProject(server, 'noisy');
    const quiet = await createProject(server, 'quiet');
    await capture(noisy, [{ event: 'e', distinct_id: 'u', timestamp: 'garbage' }]);
    const { key } = await createKey(server, [quiet._id]);
    expect((await page(quiet._id, {}, key))!.edges).toEqual([]);
    expect(await page(noisy._id, {}, key)).toBeUndefined();
  });

  it.each([['bogus'], [Buffer.from(JSON.stringify([1e20, 'zz'])).toString('base64url')]])('refuses the cursor %s with BAD_USER_INPUT', async (after) => {
    const project = await createProject(server, 'bad cursor');
    const res = await gql(server, WARNINGS, { id: project._id, after }, server.adminKey);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
