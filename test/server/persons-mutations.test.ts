import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alias,
  allEvents,
  allPersons,
  at,
  ev,
  eventByUuid,
  eventsOfPerson,
  identify,
  pageview,
  personById,
  personOf,
  query,
  sendBatch,
  sorted,
  type PersonView,
} from '../helpers/capture.ts';
import { codesOf, holderOf, newProject, ownProps, type Project } from '../helpers/persons.ts';
import { createKey, gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * The person mutations of the GraphQL contract: mergePersons, splitPerson and deletePerson, and the write
 * access they need. Persons are set up through capture (posthog-semantics.md §2) first.
 * Events go over real HTTP to `/batch` with the project token; each request is a separate `sendBatch`
 * where send order is the point. Outcomes are read back through GraphQL only. Every expected value below
 * is worked out by hand from the specification.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

// ---------------------------------------------------------------------------------------------
// Mutations: mergePersons, splitPerson, deletePerson
// ---------------------------------------------------------------------------------------------

const MERGE = `mutation($p: ID!, $into: ID!, $from: [ID!]!) {
  mergePersons(input: { projectId: $p, intoPersonId: $into, fromPersonIds: $from }) { person { id distinctIds properties isIdentified createdAt } }
}`;
const SPLIT = `mutation($p: ID!, $id: ID!, $keep: String) {
  splitPerson(input: { projectId: $p, personId: $id, keepDistinctId: $keep }) { persons { id distinctIds properties isIdentified createdAt } }
}`;
const DELETE = `mutation($p: ID!, $id: ID!, $events: Boolean) {
  deletePerson(input: { projectId: $p, personId: $id, deleteEvents: $events }) { deletedPersonId deletedDistinctIds deletedEvents }
}`;

describe('mergePersons', () => {
  it('merges identified persons (which capture refuses): all distinct ids and events move, the target wins conflicts', async () => {
    const project = await newProject(server, 'merge persons');
    const aliceEvents = [pageview('a1', 3), identify('alice', 'a1', 4, { $set: { name: 'Alice', plan: 'pro' } })];
    const bobEvents = [pageview('b1', 1), identify('bob', 'b1', 2, { $set: { plan: 'free', team: 'b' } })];
    await sendBatch(server, project.token, aliceEvents);
    await sendBatch(server, project.token, bobEvents);
    // Capture itself refuses this merge (both identified).
    await sendBatch(server, project.token, [identify('alice', 'bob', 5)]);
    const alice = (await personOf(server, project.id, 'alice'))!;
    const bob = (await personOf(server, project.id, 'bob'))!;
    expect(alice.id).not.toBe(bob.id);

    const data = await query(server, MERGE, { p: project.id, into: alice.id, from: [bob.id] });
    const merged = data.mergePersons.person as PersonView;
    expect(merged.id).toBe(alice.id);
    expect(sorted(merged.distinctIds)).toEqual(['a1', 'alice', 'b1', 'bob']);
    expect(merged.isIdentified).toBe(true);
    expect(merged.properties).toMatchObject({ name: 'Alice', plan: 'pro', team: 'b' });
    expect(merged.createdAt).toBe(at(1));

    expect(await personById(server, project.id, bob.id)).toBeNull();
    expect((await personOf(server, project.id, 'b1'))!.id).toBe(alice.id);
    const persons = await allPersons(server, project.id);
    expect(persons.map((p) => p.id)).toEqual([alice.id]);
    for (const e of bobEvents) {
      const stored = (await eventByUuid(server, project.id, e.uuid))!;
      expect(stored.distinctId).toBe(e.distinct_id);
      expect(stored.person?.id).toBe(alice.id);
    }
    expect((await eventsOfPerson(server, project.id, alice.id)).length).toBe(5);

    // Later events of a moved distinct id land on the merged person.
    await sendBatch(server, project.token, [pageview('bob', 6, { $set: { last: 'bob' } })]);
    const after = (await personOf(server, project.id, 'alice'))!;
    expect(after.properties.last).toBe('bob');
    expect(await allPersons(server, project.id)).toHaveLength(1);
  });

  it('merges several persons at once', async () => {
    const project = await newProject(server, 'merge several');
    await sendBatch(server, project.token, [pageview('x', 5, { $set: { who: 'x' } }), pageview('y', 3, { $set: { who: 'y', y: 1 } }), pageview('z', 4, { $set: { z: 1 } })]);
    const [x, y, z] = await Promise.all(['x', 'y', 'z'].map(async (d) => (await personOf(server, project.id, d))!));
    const data = await query(server, MERGE, { p: project.id, into: x!.id, from: [y!.id, z!.id] });
    const merged = data.mergePersons.person as PersonView;
    expect(sorted(merged.distinctIds)).toEqual(['x', 'y', 'z']);
    expect(ownProps(merged)).toEqual({ who: 'x', y: 1, z: 1 });
    expect(merged.createdAt).toBe(at(3));
    expect(merged.isIdentified).toBe(true);
    expect(await allPersons(server, project.id)).toHaveLength(1);
  });

  it('refuses unknown persons with NOT_FOUND and changes nothing', async () => {
    const project = await newProject(server, 'merge unknown');
    await sendBatch(server, project.token, [pageview('x', 1), pageview('y', 2)]);
    const x = (await personOf(server, project.id, 'x'))!;
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(codesOf(await gql(server, MERGE, { p: project.id, into: x.id, from: [unknown] }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gql(server, MERGE, { p: project.id, into: unknown, from: [x.id] }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(await allPersons(server, project.id)).toHaveLength(2);
  });

  it("cannot reach another project's person", async () => {
    const project = await newProject(server, 'merge isolation a');
    const other = await newProject(server, 'merge isolation b');
    await sendBatch(server, project.token, [pageview('x', 1)]);
    await sendBatch(server, other.token, [pageview('y', 1)]);
    const x = (await personOf(server, project.id, 'x'))!;
    const y = (await personOf(server, other.id, 'y'))!;
    expect(codesOf(await gql(server, MERGE, { p: project.id, into: x.id, from: [y.id] }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect((await personOf(server, other.id, 'y'))!.id).toBe(y.id);
    expect((await personOf(server, project.id, 'x'))!.distinctIds).toEqual(['x']);
  });
});

describe('splitPerson', () => {
  /**
   * anon browses (events out of timestamp order), then identifies as user, then user sends more events
   * (one with an earlier timestamp than the identify, sent last), and crm-id is aliased in.
   */
  async function mergedHistory(project: Project) {
    const anon = [
      pageview('anon', 10, { $set: { color: 'blue' } }),
      pageview('anon', 5, { $set: { color: 'red', tmp: 1 } }),
      pageview('anon', 12, { $unset: ['tmp'] }),
      pageview('anon', 7, { $set_once: { first: 'a' } }),
      pageview('anon', 11, { $set_once: { first: 'b' } }),
    ];
    for (const e of anon) await sendBatch(server, project.token, [e]);
    const login = identify('user', 'anon', 20, { $set: { email: 'user@example.com' } });
    await sendBatch(server, project.token, [login]);
    const late = pageview('user', 25, { $set: { plan: 'late' } });
    await sendBatch(server, project.token, [late]);
    const early = pageview('user', 15, { $set: { plan: 'early' } });
    await sendBatch(server, project.token, [early]);
    const crm = alias('crm-id', 'user', 30, '$create_alias', { $set: { crm: true } });
    await sendBatch(server, project.token, [crm]);
    return { anon, user: [login, late, early], crm: [crm] };
  }

  it('after a merge, gives every distinct id its own person; the oldest id keeps the person; others are rebuilt from their own events', async () => {
    const project = await newProject(server, 'split default');
    const history = await mergedHistory(project);
    const before = (await personOf(server, project.id, 'anon'))!;
    expect(sorted(before.distinctIds)).toEqual(['anon', 'crm-id', 'user']);

    const data = await query(server, SPLIT, { p: project.id, id: before.id });
    const persons = data.splitPerson.persons as PersonView[];
    expect(sorted(persons.map((p) => sorted(p.distinctIds).join(',')))).toEqual(['anon', 'crm-id', 'user']);

    const kept = holderOf(persons, 'anon')!;
    const original = persons.find((p) => p.id === before.id);
    expect(kept.id, `the original person id went to ${JSON.stringify(original?.distinctIds)}`).toBe(before.id);
    expect(kept.properties).toEqual(before.properties);
    expect(kept.createdAt).toBe(before.createdAt);

    // user: its own events in timestamp order: early (15) plan=early, identify (20) email, late (25) plan=late.
    const user = holderOf(persons, 'user')!;
    expect(user.id).not.toBe(before.id);
    expect(ownProps(user)).toEqual({ email: 'user@example.com', plan: 'late' });
    expect(user.createdAt).toBe(at(15));
    expect(user.isIdentified).toBe(true);

    // crm-id sent a $create_alias as its own distinct_id.
    const crm = holderOf(persons, 'crm-id')!;
    expect(ownProps(crm)).toEqual({ crm: true });
    expect(crm.createdAt).toBe(at(30));
    expect(crm.isIdentified).toBe(true);
    expect(new Set(persons.map((p) => p.id)).size).toBe(3);

    // The same as the API reports afterwards, and events follow their distinct ids.
    expect(sorted((await allPersons(server, project.id)).map((p) => p.id))).toEqual(sorted(persons.map((p) => p.id)));
    expect(sorted(await eventsOfPerson(server, project.id, kept.id))).toEqual(sorted(history.anon.map((e) => e.uuid)));
    expect(sorted(await eventsOfPerson(server, project.id, user.id))).toEqual(sorted(history.user.map((e) => e.uuid)));
    expect(sorted(await eventsOfPerson(server, project.id, crm.id))).toEqual(sorted(history.crm.map((e) => e.uuid)));
    for (const e of history.user) expect((await eventByUuid(server, project.id, e.uuid))!.person?.id).toBe(user.id);
    for (const e of history.anon) expect((await eventByUuid(server, project.id, e.uuid))!.person?.id).toBe(kept.id);
  });

  it('keepDistinctId chooses who keeps the person; an anonymous id is rebuilt in timestamp order and is not identified', async () => {
    const project = await newProject(server, 'split keep');
    const history = await mergedHistory(project);
    const before = (await personOf(server, project.id, 'user'))!;

    const data = await query(server, SPLIT, { p: project.id, id: before.id, keep: 'user' });
    const persons = data.splitPerson.persons as PersonView[];
    expect(persons).toHaveLength(3);
    const kept = holderOf(persons, 'user')!;
    expect(kept.id).toBe(before.id);
    expect(kept.distinctIds).toEqual(['user']);
    expect(kept.properties).toEqual(before.properties);

    // anon's events by timestamp: 5 color=red tmp=1; 7 first=a; 10 color=blue; 11 first stays a; 12 unset tmp.
    const anon = holderOf(persons, 'anon')!;
    expect(ownProps(anon)).toEqual({ color: 'blue', first: 'a' });
    expect(anon.createdAt).toBe(at(5));
    expect(anon.isIdentified).toBe(false);
    expect(sorted(await eventsOfPerson(server, project.id, anon.id))).toEqual(sorted(history.anon.map((e) => e.uuid)));
  });

  it('restores two persons after a merge of an anonymous and an identified person', async () => {
    const project = await newProject(server, 'split restores');
    const anonEvents = [pageview('anon', 1, { $set: { from: 'anon' } }), pageview('anon', 2)];
    const userEvents = [pageview('user', 3, { $set: { from: 'user', email: 'u@example.com' } })];
    await sendBatch(server, project.token, anonEvents);
    await sendBatch(server, project.token, userEvents);
    const login = identify('user', 'anon', 4);
    await sendBatch(server, project.token, [login]);
    const merged = (await personOf(server, project.id, 'user'))!;
    expect(sorted(merged.distinctIds)).toEqual(['anon', 'user']);

    const data = await query(server, SPLIT, { p: project.id, id: merged.id, keep: 'user' });
    const persons = data.splitPerson.persons as PersonView[];
    expect(sorted(persons.map((p) => p.distinctIds.join(',')))).toEqual(['anon', 'user']);
    const anon = holderOf(persons, 'anon')!;
    expect(ownProps(anon)).toEqual({ from: 'anon' });
    expect(anon.isIdentified).toBe(false);
    expect(anon.createdAt).toBe(at(1));
    expect(sorted(await eventsOfPerson(server, project.id, anon.id))).toEqual(sorted(anonEvents.map((e) => e.uuid)));
    expect(sorted(await eventsOfPerson(server, project.id, merged.id))).toEqual(sorted([...userEvents, login].map((e) => e.uuid)));
  });

  it('refuses a keepDistinctId the person does not have (BAD_USER_INPUT) and an unknown person (NOT_FOUND)', async () => {
    const project = await newProject(server, 'split errors');
    await sendBatch(server, project.token, [identify('user', 'anon', 1), pageview('stranger', 2)]);
    const person = (await personOf(server, project.id, 'user'))!;
    expect(codesOf(await gql(server, SPLIT, { p: project.id, id: person.id, keep: 'stranger' }, server.adminKey))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gql(server, SPLIT, { p: project.id, id: '00000000-0000-4000-8000-000000000000' }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(sorted((await personOf(server, project.id, 'user'))!.distinctIds)).toEqual(['anon', 'user']);
  });
});

describe('deletePerson', () => {
  it('deletes the person and its distinct ids but keeps the events; a later event creates a new person', async () => {
    const project = await newProject(server, 'delete keep events');
    const events = [pageview('anon', 1, { $set: { old: true } }), identify('user', 'anon', 2, { $set: { email: 'u@example.com' } }), pageview('user', 3)];
    await sendBatch(server, project.token, events);
    const other = pageview('bystander', 4);
    await sendBatch(server, project.token, [other]);
    const person = (await personOf(server, project.id, 'user'))!;

    const data = await query(server, DELETE, { p: project.id, id: person.id });
    expect(data.deletePerson).toEqual({ deletedPersonId: person.id, deletedDistinctIds: 2, deletedEvents: 0 });

    expect(await personById(server, project.id, person.id)).toBeNull();
    expect(await personOf(server, project.id, 'anon')).toBeNull();
    expect(await personOf(server, project.id, 'user')).toBeNull();
    expect((await allPersons(server, project.id)).map((p) => p.distinctIds)).toEqual([['bystander']]);
    for (const e of events) {
      const stored = await eventByUuid(server, project.id, e.uuid);
      expect(stored).not.toBeNull();
      expect(stored!.person).toBeNull();
    }

    const comeback = pageview('user', 50, { $set: { fresh: true } });
    await sendBatch(server, project.token, [comeback]);
    const reborn = (await personOf(server, project.id, 'user'))!;
    expect(reborn.id).not.toBe(person.id);
    expect(reborn.distinctIds).toEqual(['user']);
    expect(reborn.isIdentified).toBe(false);
    expect(ownProps(reborn)).toEqual({ fresh: true });
    expect(reborn.createdAt).toBe(at(50));
    expect(await personOf(server, project.id, 'anon')).toBeNull();
    // Event.person is the distinct id's person now.
    expect((await eventByUuid(server, project.id, events[2]!.uuid))!.person?.id).toBe(reborn.id);
    expect((await eventByUuid(server, project.id, events[0]!.uuid))!.person).toBeNull();
  });

  it('with deleteEvents, also deletes every event of its distinct ids and nothing else', async () => {
    const project = await newProject(server, 'delete with events');
    const mine = [pageview('anon', 1), ev('clicked', 'anon', {}, { timestamp: at(2) }), identify('user', 'anon', 3), pageview('user', 4)];
    const theirs = [pageview('bystander', 5), pageview('bystander', 6)];
    await sendBatch(server, project.token, [...mine, ...theirs]);
    const person = (await personOf(server, project.id, 'user'))!;

    const data = await query(server, DELETE, { p: project.id, id: person.id, events: true });
    expect(data.deletePerson).toEqual({ deletedPersonId: person.id, deletedDistinctIds: 2, deletedEvents: 4 });
    for (const e of mine) expect(await eventByUuid(server, project.id, e.uuid)).toBeNull();
    expect(sorted((await allEvents(server, project.id)).map((e) => e.uuid))).toEqual(sorted(theirs.map((e) => e.uuid)));
    expect((await allPersons(server, project.id)).map((p) => p.distinctIds)).toEqual([['bystander']]);
  });

  it('refuses an unknown person with NOT_FOUND', async () => {
    const project = await newProject(server, 'delete unknown');
    const res = await gql(server, DELETE, { p: project.id, id: '00000000-0000-4000-8000-000000000000' }, server.adminKey);
    expect(codesOf(res)).toEqual(['NOT_FOUND']);
  });
});

describe('person mutations need write access', () => {
  it('a QUERY_READ key gets FORBIDDEN, no key gets UNAUTHENTICATED, a PROJECT_WRITE key may act', async () => {
    const project = await newProject(server, 'person permissions');
    await sendBatch(server, project.token, [pageview('x', 1), pageview('y', 2), pageview('z', 3)]);
    const [x, y, z] = await Promise.all(['x', 'y', 'z'].map(async (d) => (await personOf(server, project.id, d))!));
    const reader = await createKey(server, [project.id], ['QUERY_READ']);
    const writer = await createKey(server, [project.id], ['QUERY_READ', 'PROJECT_WRITE']);

    const attempts: [string, Record<string, unknown>][] = [
      [MERGE, { p: project.id, into: x!.id, from: [y!.id] }],
      [SPLIT, { p: project.id, id: x!.id }],
      [DELETE, { p: project.id, id: z!.id }],
    ];
    for (const [mutation, variables] of attempts) {
      expect(codesOf(await gql(server, mutation, variables, reader.key))).toEqual(['FORBIDDEN']);
      expect(codesOf(await gql(server, mutation, variables))).toEqual(['UNAUTHENTICATED']);
    }
    // Nothing changed.
    expect(await allPersons(server, project.id)).toHaveLength(3);

    // The reader can still read persons.
    const read = await gql(server, `query($p: ID!, $d: String) { project(id: $p) { person(distinctId: $d) { id } } }`, { p: project.id, d: 'x' }, reader.key);
    expect(read.errors).toBeUndefined();
    expect(read.data.project.person.id).toBe(x!.id);

    const merged = await gql(server, MERGE, { p: project.id, into: x!.id, from: [y!.id] }, writer.key);
    expect(merged.errors, JSON.stringify(merged.errors)).toBeUndefined();
    expect(sorted(merged.data.mergePersons.person.distinctIds)).toEqual(['x', 'y']);
    const deleted = await gql(server, DELETE, { p: project.id, id: z!.id }, writer.key);
    expect(deleted.errors, JSON.stringify(deleted.errors)).toBeUndefined();
    expect(deleted.data.deletePerson.deletedPersonId).toBe(z!.id);
    expect(await allPersons(server, project.id)).toHaveLength(1);
  });
});
