import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { openStorage, type Storage } from '../../src/db/storage.ts';
import { ARMOR_LIMITS } from '../../src/graphql/limits.ts';
import { createKey, createProject, gql, startTestServer, TEST_ADMIN_KEY, type GraphQLResponse, type TestServer } from '../helpers/server.ts';
import { tempDataDir } from '../helpers/store.ts';

function codesOf(res: GraphQLResponse) {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

function messagesOf(res: GraphQLResponse): string {
  return (res.errors ?? []).map((e) => e.message).join('\n');
}

/** An introspection selection `levels` fields deep (`__schema` is level 1). */
function deepIntrospection(levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels - 5; i++) inner = `ofType { ${inner} }`;
  return `{ __schema { types { fields { type { ${inner} } } } } }`;
}

async function projectCount(storage: Storage): Promise<number> {
  return storage.db.collection('projects').countDocuments();
}

/** An event written past the API (say, by hand in a database shell) whose timestamp is not a date: reading it fails unexpectedly. */
async function insertCorruptEvent(storage: Storage, projectId: string): Promise<void> {
  await storage.db.collection('events').insertOne({
    projectId,
    uuid: '00000000-0000-4000-8000-000000000000',
    event: 'broken',
    distinctId: 'u',
    timestamp: 'yesterday',
    properties: {},
    createdAt: new Date(),
  });
}

/** Refused before execution: errors, and no `data` at all. */
function expectRefusedBeforeExecution(res: GraphQLResponse, code = 'QUERY_TOO_EXPENSIVE') {
  expect(codesOf(res)).toEqual([code]);
  expect(res.data).toBeUndefined();
}

describe('query shape limits and error hygiene', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it(`answers a query ${ARMOR_LIMITS.maxDepth} levels deep and refuses one level more before execution`, async () => {
    const atLimit = await gql(server, deepIntrospection(ARMOR_LIMITS.maxDepth), {}, server.adminKey);
    expect(atLimit.errors).toBeUndefined();
    expect(atLimit.data.__schema.types.length).toBeGreaterThan(0);
    expectRefusedBeforeExecution(await gql(server, deepIntrospection(ARMOR_LIMITS.maxDepth + 1), {}, server.adminKey));
  });

  it('counts depth hidden behind fragments', async () => {
    let chain = 'name';
    for (let i = 0; i < ARMOR_LIMITS.maxDepth - 4; i++) chain = `ofType { ${chain} }`;
    const query = `{ __schema { ...S } }
      fragment S on __Schema { types { ...T } }
      fragment T on __Type { fields { type { ...O } } }
      fragment O on __Type { ${chain} }`;
    expectRefusedBeforeExecution(await gql(server, query, {}, server.adminKey));
  });

  it(`answers ${ARMOR_LIMITS.maxAliases} aliases and refuses ${ARMOR_LIMITS.maxAliases + 1} before execution`, async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `v${i}: viewer { kind }`).join(' ')} }`;
    const allowed = await gql(server, aliases(ARMOR_LIMITS.maxAliases), {}, server.adminKey);
    expect(allowed.errors).toBeUndefined();
    expect(Object.keys(allowed.data)).toHaveLength(ARMOR_LIMITS.maxAliases);
    expectRefusedBeforeExecution(await gql(server, aliases(ARMOR_LIMITS.maxAliases + 1), {}, server.adminKey));
  });

  it('refuses a mutation with too many aliases without running any of them', async () => {
    const before = await projectCount(server.storage);
    const mutation = `mutation { ${Array.from(
      { length: ARMOR_LIMITS.maxAliases + 1 },
      (_, i) => `p${i}: createProject(input: { name: "alias ${i}" }) { project { id } }`,
    ).join(' ')} }`;
    expectRefusedBeforeExecution(await gql(server, mutation, {}, server.adminKey));
    expect(await projectCount(server.storage)).toBe(before);
  });

  it('refuses a token bomb before execution', async () => {
    const before = await projectCount(server.storage);
    const padding = ' __typename'.repeat(ARMOR_LIMITS.maxTokens);
    expectRefusedBeforeExecution(await gql(server, `{ viewer { kind${padding} } }`, {}, server.adminKey));
    const mutation = `mutation { createProject(input: { name: "bomb" }) { project { id${padding} } } }`;
    expectRefusedBeforeExecution(await gql(server, mutation, {}, server.adminKey));
    expect(await projectCount(server.storage)).toBe(before);
  });

  it('refuses a cost bomb of nested 1000-item pages written in the query before execution', async () => {
    const query = `{ projects(first: 1000) { edges { node { events(first: 1000) { edges { node { uuid properties } } } } } } }`;
    expectRefusedBeforeExecution(await gql(server, query, {}, server.adminKey));
  });

  it('refuses a cost bomb of nested 1000-item pages passed as variables before any resolver runs', async () => {
    const query = `query($p: Int, $e: Int) { projects(first: $p) { edges { node { events(first: $e) { edges { node { uuid properties } } } } } } }`;
    const res = await gql(server, query, { p: 1000, e: 1000 }, server.adminKey);
    expect(codesOf(res)).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect(res.data?.projects ?? null).toBeNull();
  });

  it('answers one full page of events nested under a project list', async () => {
    const query = `{ projects(first: 1) { edges { node { events(first: 1000) {
      edges { cursor node { id uuid event distinctId timestamp createdAt properties } } pageInfo { hasNextPage endCursor } } } } } }`;
    const res = await gql(server, query, {}, server.adminKey);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.projects.edges).toHaveLength(1);
  });

  it.each([
    ['a misspelled field', `{ viewr { kind } }`, {}, '"viewer"'],
    ['a misspelled nested field', `{ viewer { knd } }`, {}, '"kind"'],
    ['a misspelled argument', `{ projects(frist: 1) { edges { cursor } } }`, {}, '"first"'],
    ['a misspelled type', `query { ...F } fragment F on Querry { viewer { kind } }`, {}, '"Query"'],
    ['a misspelled enum literal', `{ project(id: "x") { events(filter: { properties: [{ key: "k", operator: exakt }] }) { edges { cursor } } } }`, {}, '"exact"'],
    ['a misspelled enum variable', `query($f: EventFilter) { project(id: "x") { events(filter: $f) { edges { cursor } } } }`, { f: { properties: [{ key: 'k', operator: 'exakt' }] } }, '"exact"'],
    ['a misspelled input field variable', `query($f: EventFilter) { project(id: "x") { events(filter: $f) { edges { cursor } } } }`, { f: { propertys: [] } }, '"properties"'],
  ])('hides schema suggestions in the error for %s', async (_label, query, variables, hidden) => {
    const res = await gql(server, query, variables, server.adminKey);
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(messagesOf(res)).not.toMatch(/did you mean/i);
    expect(messagesOf(res)).not.toContain(hidden);
  });

  it('masks unexpected errors outside production too', async () => {
    const project = await createProject(server, 'corrupt');
    await insertCorruptEvent(server.storage, project._id);
    const res = await gql(server, `{ project(id: "${project._id}") { events { edges { cursor } } } }`, {}, server.adminKey);
    expect(res.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    expect(JSON.stringify(res)).not.toContain('getTime');
  });

  it('refuses a batch of operations sent as a JSON array without running any', async () => {
    const before = await projectCount(server.storage);
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminKey}` },
      body: JSON.stringify([
        { query: 'mutation { createProject(input: { name: "batched 1" }) { project { id } } }' },
        { query: 'mutation { createProject(input: { name: "batched 2" }) { project { id } } }' },
      ]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as GraphQLResponse;
    expect(body.data).toBeUndefined();
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(await projectCount(server.storage)).toBe(before);
  });
});

/** The app as `main.ts` builds it for production, over a fresh embedded store. */
async function startProductionServer() {
  const dataDir = await tempDataDir('sightline-production-');
  const logger = pino({ level: 'silent' });
  const storage = await openStorage({ dataDir, embeddedPort: 0, logger });
  const app: App = createApp({ config: { http: { port: 0, host: '127.0.0.1' }, adminKey: TEST_ADMIN_KEY, production: true }, storage, logger });
  const { url } = await app.start();
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    app,
    storage,
    adminKey: TEST_ADMIN_KEY,
    async dispose() {
      await app.stop(5_000);
      await storage.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe('production mode', () => {
  let server: Awaited<ReturnType<typeof startProductionServer>>;

  beforeAll(async () => {
    server = await startProductionServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('answers ordinary queries', async () => {
    const res = await gql(server, `{ viewer { kind } }`, {}, server.adminKey);
    expect(res.errors).toBeUndefined();
    expect(res.data.viewer.kind).toBe('ADMIN');
  });

  it('refuses introspection to anonymous callers', async () => {
    for (const query of [`{ __schema { queryType { name } } }`, `{ __type(name: "Query") { fields { name } } }`, `{ viewer { kind } __schema { types { name } } }`]) {
      const res = await gql(server, query);
      expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
      expect(res.data ?? null).toBeNull();
    }
  });

  it('lets the admin key and a personal key introspect', async () => {
    const project = await server.app.services.projects.create({ name: 'introspection' });
    const { key } = await createKey(server as unknown as TestServer, [project._id]);
    for (const secret of [server.adminKey, key]) {
      const res = await gql(server, `{ __schema { queryType { name } } }`, {}, secret);
      expect(res.errors).toBeUndefined();
      expect(res.data.__schema.queryType.name).toBe('Query');
    }
  });

  it('does not reveal the limits it enforces', async () => {
    const query = `{ ${Array.from({ length: ARMOR_LIMITS.maxAliases + 1 }, (_, i) => `v${i}: viewer { kind }`).join(' ')} }`;
    const res = await gql(server, query, {}, server.adminKey);
    expectRefusedBeforeExecution(res);
    expect(messagesOf(res)).not.toContain(String(ARMOR_LIMITS.maxAliases));
  });

  it('masks unexpected errors: no internal message, no stack trace', async () => {
    const project = await server.app.services.projects.create({ name: 'corrupt' });
    await insertCorruptEvent(server.storage, project._id);
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminKey}` },
      body: JSON.stringify({ query: `{ project(id: "${project._id}") { events { edges { cursor node { uuid } } } } }` }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as GraphQLResponse;
    expect(body.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    for (const leak of ['stack', 'TypeError', 'getTime', 'originalError', '.ts:', 'node_modules']) expect(text).not.toContain(leak);
  });
});
