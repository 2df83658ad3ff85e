import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, gql, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

const CREATE = `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id name timezone weekStart } } }`;
const UPDATE = `mutation($input: UpdateProjectInput!) { updateProject(input: $input) { project { id name timezone weekStart } } }`;

describe('project settings', () => {
  it('weeks start on Sunday unless the project says Monday', async () => {
    const plain = await gql(server, CREATE, { input: { name: 'Plain' } }, server.adminKey);
    expect(plain.data.createProject.project).toMatchObject({ name: 'Plain', timezone: 'UTC', weekStart: 'SUNDAY' });
    const monday = await gql(server, CREATE, { input: { name: 'Berlin', timezone: 'Europe/Berlin', weekStart: 'MONDAY' } }, server.adminKey);
    expect(monday.data.createProject.project).toMatchObject({ timezone: 'Europe/Berlin', weekStart: 'MONDAY' });
  });

  it('updateProject changes only the settings given, and they are read back', async () => {
    const created = await gql(server, CREATE, { input: { name: 'Shop', timezone: 'Asia/Tokyo' } }, server.adminKey);
    const id = created.data.createProject.project.id;
    const renamed = await gql(server, UPDATE, { input: { id, name: '  Shop EU  ', weekStart: 'MONDAY' } }, server.adminKey);
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data.updateProject.project).toEqual({ id, name: 'Shop EU', timezone: 'Asia/Tokyo', weekStart: 'MONDAY' });
    const moved = await gql(server, UPDATE, { input: { id, timezone: 'Europe/Lisbon' } }, server.adminKey);
    expect(moved.data.updateProject.project).toEqual({ id, name: 'Shop EU', timezone: 'Europe/Lisbon', weekStart: 'MONDAY' });
    const read = await gql(server, `query($id: ID!) { project(id: $id) { name timezone weekStart } }`, { id }, server.adminKey);
    expect(read.data.project).toEqual({ name: 'Shop EU', timezone: 'Europe/Lisbon', weekStart: 'MONDAY' });
  });

  it('refuses a bad time zone or name with BAD_USER_INPUT and changes nothing', async () => {
    const created = await gql(server, CREATE, { input: { name: 'Keep' } }, server.adminKey);
    const id = created.data.createProject.project.id;
    for (const input of [{ id, timezone: 'Mars/Olympus' }, { id, name: '   ' }]) {
      const res = await gql(server, UPDATE, { input }, server.adminKey);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const read = await gql(server, `query($id: ID!) { project(id: $id) { name timezone } }`, { id }, server.adminKey);
    expect(read.data.project).toEqual({ name: 'Keep', timezone: 'UTC' });
  });

  it('needs project:write on that project: a read-only key is FORBIDDEN, a key for another project gets NOT_FOUND', async () => {
    const a = (await gql(server, CREATE, { input: { name: 'A' } }, server.adminKey)).data.createProject.project.id;
    const b = (await gql(server, CREATE, { input: { name: 'B' } }, server.adminKey)).data.createProject.project.id;
    const reader = await createKey(server, [a], ['QUERY_READ']);
    const writerOfB = await createKey(server, [b], ['QUERY_READ', 'PROJECT_WRITE']);
    expect((await gql(server, UPDATE, { input: { id: a, name: 'x' } }, reader.key)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(server, UPDATE, { input: { id: a, name: 'x' } }, writerOfB.key)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const own = await gql(server, UPDATE, { input: { id: b, name: 'B2' } }, writerOfB.key);
    expect(own.data.updateProject.project.name).toBe('B2');
  });
});
