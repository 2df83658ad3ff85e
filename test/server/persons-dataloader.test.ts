import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify, pageview, query, sendBatch, sorted } from '../helpers/capture.ts';
import { createProject, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * A page of events with their persons must not cost one database round trip per event. The server's
 * own driver client reports every command it sends (command monitoring); the test counts the ones
 * that read persons or their distinct ids while one GraphQL request runs.
 */

const PERSON_COLLECTIONS = new Set(['persons', 'personDistinctIds']);
/** An event page resolves persons in two steps (distinct ids → person ids → persons); one spare for distinct-id lists. */
const MAX_PERSON_QUERIES = 3;

let server: TestServer;
let seen: { name: string; collection: string }[] = [];

beforeAll(async () => {
  server = await startTestServer({ monitorCommands: true });
  server.storage.client.on('commandStarted', (event: CommandStartedEvent) => {
    const command = event.command as Record<string, unknown>;
    const collection = event.commandName === 'getMore' ? command.collection : command[event.commandName];
    if (typeof collection === 'string') seen.push({ name: event.commandName, collection });
  });
});

afterAll(async () => {
  await server?.dispose();
});

/** Runs `fn` and returns the commands it sent to the person collections. */
async function personQueriesDuring(fn: () => Promise<void>): Promise<{ name: string; collection: string }[]> {
  seen = [];
  await fn();
  const during = seen.filter((c) => PERSON_COLLECTIONS.has(c.collection));
  seen = [];
  return during;
}

const PAGE = `query($p: ID!) { project(id: $p) { events(first: 100) { edges { node { distinctId person { id distinctIds } } } } } }`;

describe('Event.person is batched', () => {
  it('a page of 100 events from 100 persons reads persons in a bounded number of queries, with the right answers', async () => {
    const project = await createProject(server, 'dataloader 100');
    await sendBatch(
      server,
      project.apiToken,
      Array.from({ length: 100 }, (_, i) => pageview(`person-${i}`, i)),
    );

    let data: any;
    const queries = await personQueriesDuring(async () => {
      data = await query(server, PAGE, { p: project._id });
    });

    const edges = data.project.events.edges as { node: { distinctId: string; person: { id: string; distinctIds: string[] } | null } }[];
    expect(edges).toHaveLength(100);
    for (const { node } of edges) expect(node.person?.distinctIds).toEqual([node.distinctId]);
    expect(new Set(edges.map((e) => e.node.person!.id)).size).toBe(100);

    // Monitoring works (the persons were read from the database) and the reads were batched.
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.length, JSON.stringify(queries)).toBeLessThanOrEqual(MAX_PERSON_QUERIES);
  });

  it('stays bounded with merged persons (several events per person) and personless events on the page', async () => {
    const project = await createProject(server, 'dataloader mixed');
    const events = [];
    for (let i = 0; i < 20; i++) {
      events.push(pageview(`anon-${i}`, i), pageview(`anon-${i}`, i + 1));
      events.push(identify(`user-${i}`, `anon-${i}`, i + 2));
    }
    for (let i = 0; i < 30; i++) events.push(pageview(`ghost-${i}`, 5, { $process_person_profile: false }));
    for (let i = 0; i < 10; i++) events.push(pageview(`solo-${i}`, 7));
    expect(events).toHaveLength(100);
    await sendBatch(server, project.apiToken, events);

    let data: any;
    const queries = await personQueriesDuring(async () => {
      data = await query(server, PAGE, { p: project._id });
    });

    const nodes = (data.project.events.edges as { node: { distinctId: string; person: { id: string; distinctIds: string[] } | null } }[]).map((e) => e.node);
    expect(nodes).toHaveLength(100);
    for (const node of nodes) {
      if (node.distinctId.startsWith('ghost-')) {
        expect(node.person).toBeNull();
      } else if (node.distinctId.startsWith('solo-')) {
        expect(node.person?.distinctIds).toEqual([node.distinctId]);
      } else {
        const i = node.distinctId.split('-')[1];
        expect(sorted(node.person!.distinctIds)).toEqual([`anon-${i}`, `user-${i}`]);
      }
    }
    expect(new Set(nodes.filter((n) => n.person !== null).map((n) => n.person!.id)).size).toBe(30);

    expect(queries.length).toBeGreaterThan(0);
    expect(queries.length, JSON.stringify(queries)).toBeLessThanOrEqual(MAX_PERSON_QUERIES);
  });

  it('Project.persons with their distinct ids does not query per person either', async () => {
    const project = await createProject(server, 'dataloader persons');
    await sendBatch(
      server,
      project.apiToken,
      Array.from({ length: 50 }, (_, i) => identify(`user-${i}`, `anon-${i}`, i)),
    );
    let data: any;
    const queries = await personQueriesDuring(async () => {
      data = await query(server, `query($p: ID!) { project(id: $p) { persons(first: 50) { edges { node { id distinctIds } } } } }`, { p: project._id });
    });
    const nodes = data.project.persons.edges.map((e: { node: { distinctIds: string[] } }) => e.node);
    expect(nodes).toHaveLength(50);
    for (const node of nodes) {
      const i = node.distinctIds.find((d: string) => d.startsWith('user-')).split('-')[1];
      expect(sorted(node.distinctIds)).toEqual([`anon-${i}`, `user-${i}`]);
    }
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.length, JSON.stringify(queries)).toBeLessThanOrEqual(MAX_PERSON_QUERIES);
  });
});
