import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { createKey, createProject, gql, startTestServer, TEST_ADMIN_KEY, type TestServer } from '../helpers/server.ts';

const VIEWER = `{ viewer { kind label scopes projects { id } } }`;
const PROJECTS = `{ projects(first: 100) { edges { node { id name } } pageInfo { hasNextPage } } }`;
const PROJECT = `query($id: ID!) { project(id: $id) { id name } }`;
const CREATE_PROJECT = `mutation($name: String!) { createProject(input: { name: $name }) { project { id name apiToken } } }`;
const CREATE_KEY = `mutation($input: CreatePersonalApiKeyInput!) {
  createPersonalApiKey(input: $input) { key apiKey { id label mask scopes projectIds createdAt revokedAt } }
}`;
const REVOKE_KEY = `mutation($id: ID!) { revokePersonalApiKey(id: $id) { apiKey { id label mask scopes projectIds revokedAt } } }`;

let server: TestServer;
let alpha: ProjectDocument;
let beta: ProjectDocument;

beforeAll(async () => {
  server = await startTestServer();
  alpha = await createProject(server, 'Alpha');
  beta = await createProject(server, 'Beta');
});

afterAll(async () => {
  await server?.dispose();
});

function codesOf(res: { errors?: { extensions?: { code?: string } }[] }) {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

async function postWithAuthorization(authorization: string, query: string) {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
}

function projectIdsOf(res: { data?: any }): string[] {
  return res.data.projects.edges.map((e: { node: { id: string } }) => e.node.id).sort();
}

async function projectCount(): Promise<number> {
  return server.storage.db.collection('projects').countDocuments();
}

describe('authentication', () => {
  it.each([VIEWER, PROJECTS])('refuses a request without a key with UNAUTHENTICATED: %s', async (query) => {
    const res = await gql(server, query);
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data ?? null).toBeNull();
  });

  it('refuses a request to read a project without a key with UNAUTHENTICATED', async () => {
    const res = await gql(server, PROJECT, { id: alpha._id });
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['an unknown personal key', 'phx_0000000000000000000000000000000000000000'],
    ['random text', 'let-me-in'],
    ['the admin key with its last character changed', `${TEST_ADMIN_KEY.slice(0, -1)}${TEST_ADMIN_KEY.endsWith('X') ? 'Y' : 'X'}`],
    ['the admin key with a character added', `${TEST_ADMIN_KEY}0`],
  ])('refuses %s with UNAUTHENTICATED', async (_label, key) => {
    const res = await gql(server, VIEWER, {}, key);
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data ?? null).toBeNull();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words'])('refuses the malformed Authorization header "%s" with UNAUTHENTICATED', async (header) => {
    expect(codesOf(await postWithAuthorization(header, VIEWER))).toEqual(['UNAUTHENTICATED']);
  });

  it("refuses a project's public capture token used as a Bearer key with UNAUTHENTICATED", async () => {
    for (const query of [VIEWER, PROJECTS]) {
      const res = await gql(server, query, {}, alpha.apiToken);
      expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
      expect(res.data ?? null).toBeNull();
    }
  });

  it('lets the admin key see every project', async () => {
    const viewer = await gql(server, VIEWER, {}, server.adminKey);
    expect(viewer.data.viewer.kind).toBe('ADMIN');
    const expected = [server.project._id, alpha._id, beta._id].sort();
    expect(viewer.data.viewer.projects.map((p: { id: string }) => p.id).sort()).toEqual(expect.arrayContaining(expected));
    expect(projectIdsOf(await gql(server, PROJECTS, {}, server.adminKey))).toEqual(expect.arrayContaining(expected));
    for (const id of expected) {
      expect((await gql(server, PROJECT, { id }, server.adminKey)).data.project.id).toBe(id);
    }
  });
});

describe('personal API keys', () => {
  it('shows the secret once and stores only its SHA-256', async () => {
    const created = await gql(server, CREATE_KEY, { input: { label: 'ci', scopes: ['QUERY_READ'], projectIds: [alpha._id] } }, server.adminKey);
    expect(created.errors).toBeUndefined();
    const { key, apiKey } = created.data.createPersonalApiKey;
    expect(key).toMatch(/^phx_[0-9A-Za-z]{30,}$/);
    expect(apiKey.mask).toBe(`phx_...${key.slice(-4)}`);

    // Later responses about the key never repeat the secret.
    const viewer = await gql(server, VIEWER, {}, key);
    expect(viewer.data.viewer).toMatchObject({ kind: 'PERSONAL_API_KEY', label: 'ci', scopes: ['QUERY_READ'] });
    const revoked = await gql(server, REVOKE_KEY, { id: apiKey.id }, server.adminKey);
    for (const later of [viewer, revoked]) expect(JSON.stringify(later)).not.toContain(key);

    const stored = await server.storage.db.collection('apiKeys').findOne({ _id: apiKey.id });
    expect(stored).not.toBeNull();
    expect(stored!.secureValue).toBe(`sha256$${createHash('sha256').update(key).digest('hex')}`);
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(JSON.stringify(stored)).not.toContain(key.slice(4, -4));
  });

  it('never stores any secret in plain text', async () => {
    const secrets = [(await createKey(server, [alpha._id])).key, (await createKey(server, [beta._id], ['PROJECT_WRITE'])).key];
    const all = JSON.stringify(await server.storage.db.collection('apiKeys').find({}).toArray());
    for (const secret of secrets) expect(all).not.toContain(secret.slice(4));
  });

  it('lets a key see only the projects it is limited to', async () => {
    const { key } = await createKey(server, [alpha._id]);
    const viewer = await gql(server, VIEWER, {}, key);
    expect(viewer.data.viewer.projects).toEqual([{ id: alpha._id }]);
    expect(projectIdsOf(await gql(server, PROJECTS, {}, key))).toEqual([alpha._id]);
    expect((await gql(server, PROJECT, { id: alpha._id }, key)).data.project).toEqual({ id: alpha._id, name: 'Alpha' });
    for (const id of [beta._id, server.project._id]) {
      const res = await gql(server, PROJECT, { id }, key);
      expect(res.errors).toBeUndefined();
      expect(res.data.project).toBeNull();
    }
  });

  it('refuses createProject to a QUERY_READ key with FORBIDDEN and creates nothing', async () => {
    const { key } = await createKey(server, [alpha._id], ['QUERY_READ']);
    const before = await projectCount();
    const res = await gql(server, CREATE_PROJECT, { name: 'should not exist' }, key);
    expect(codesOf(res)).toEqual(['FORBIDDEN']);
    expect(await projectCount()).toBe(before);
  });

  it('refuses reads to a key without QUERY_READ with FORBIDDEN', async () => {
    const { key } = await createKey(server, [alpha._id], ['PROJECT_WRITE']);
    expect(codesOf(await gql(server, PROJECT, { id: alpha._id }, key))).toEqual(['FORBIDDEN']);
  });

  it('lets a PROJECT_WRITE key create a project and read it in later requests', async () => {
    const { key } = await createKey(server, [alpha._id], ['QUERY_READ', 'PROJECT_WRITE']);
    const created = await gql(server, CREATE_PROJECT, { name: 'Made by a key' }, key);
    expect(created.errors).toBeUndefined();
    const made = created.data.createProject.project;
    expect(made).toMatchObject({ name: 'Made by a key', apiToken: expect.stringMatching(/^phc_/) });

    expect((await gql(server, PROJECT, { id: made.id }, key)).data.project).toEqual({ id: made.id, name: 'Made by a key' });
    expect(projectIdsOf(await gql(server, PROJECTS, {}, key))).toEqual([alpha._id, made.id].sort());
    // Other keys gain nothing from it.
    const { key: bystander } = await createKey(server, [alpha._id]);
    expect((await gql(server, PROJECT, { id: made.id }, bystander)).data.project).toBeNull();
  });

  it('refuses a revoked key with UNAUTHENTICATED', async () => {
    const { key, id } = await createKey(server, [alpha._id]);
    expect((await gql(server, VIEWER, {}, key)).data.viewer.kind).toBe('PERSONAL_API_KEY');
    const revoked = await gql(server, REVOKE_KEY, { id }, server.adminKey);
    expect(revoked.data.revokePersonalApiKey.apiKey.revokedAt).toEqual(expect.any(String));
    for (const query of [VIEWER, PROJECTS]) expect(codesOf(await gql(server, query, {}, key))).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await gql(server, REVOKE_KEY, { id }, server.adminKey))).toEqual(['NOT_FOUND']);
  });

  it('lets only the admin key create and revoke keys', async () => {
    const { key: powerful } = await createKey(server, [alpha._id], ['QUERY_READ', 'PROJECT_WRITE']);
    const { key: target, id: targetId } = await createKey(server, [alpha._id]);
    const keysBefore = await server.storage.db.collection('apiKeys').countDocuments();

    const create = await gql(server, CREATE_KEY, { input: { label: 'escalate', scopes: ['QUERY_READ'], projectIds: [beta._id] } }, powerful);
    expect(codesOf(create)).toEqual(['FORBIDDEN']);
    expect(await server.storage.db.collection('apiKeys').countDocuments()).toBe(keysBefore);

    expect(codesOf(await gql(server, REVOKE_KEY, { id: targetId }, powerful))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gql(server, REVOKE_KEY, { id: targetId }))).toEqual(['UNAUTHENTICATED']);
    expect((await gql(server, VIEWER, {}, target)).data.viewer.kind).toBe('PERSONAL_API_KEY');
  });

  it('refuses to create a key for a project that does not exist with BAD_USER_INPUT', async () => {
    const keysBefore = await server.storage.db.collection('apiKeys').countDocuments();
    for (const projectIds of [['000000000000000000000000'], [alpha._id, 'nope']]) {
      const res = await gql(server, CREATE_KEY, { input: { label: 'ghost', scopes: ['QUERY_READ'], projectIds } }, server.adminKey);
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data?.createPersonalApiKey ?? null).toBeNull();
    }
    expect(await server.storage.db.collection('apiKeys').countDocuments()).toBe(keysBefore);
  });

  it('refuses a key without scopes or without projects with BAD_USER_INPUT', async () => {
    for (const input of [
      { label: 'no scopes', scopes: [], projectIds: [alpha._id] },
      { label: 'no projects', scopes: ['QUERY_READ'], projectIds: [] },
    ]) {
      expect(codesOf(await gql(server, CREATE_KEY, { input }, server.adminKey))).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('refuses a personal key as a capture token', async () => {
    const { key } = await createKey(server, [alpha._id]);
    const response = await fetch(`${server.url}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: key, batch: [{ event: 'e', distinct_id: 'u' }] }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'personal_key_not_allowed' });
  });
});
