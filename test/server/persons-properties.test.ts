import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEvents,
  allPersons,
  at,
  ev,
  eventByUuid,
  eventsOfPerson,
  identify,
  pageview,
  personOf,
  sendBatch,
  sorted,
} from '../helpers/capture.ts';
import { newProject, ownProps } from '../helpers/persons.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Person properties and person creation: property operations (posthog-semantics.md §2.5), personless
 * events and their re-pointing after a later merge (§2.7), and a person's createdAt.
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
// Property operations
// ---------------------------------------------------------------------------------------------

describe('person property operations (§2.5, §2.3 normalizeEvent)', () => {
  it('within one event: $set_once first, then $set, then $unset', async () => {
    const project = await newProject(server, 'ops within one event');
    await sendBatch(server, project.token, [
      pageview('u', 1, { $set_once: { a: 'once', b: 'once' }, $set: { a: 'set', c: 'set' }, $unset: ['b', 'c'] }),
    ]);
    // set_once: a=once, b=once; set: a=set, c=set; unset: b, c.
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ a: 'set' });
  });

  it('$set_once only fills keys the person does not have, and a null value counts as present', async () => {
    const project = await newProject(server, 'set once');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { plan: 'free', nothing: null } })]);
    await sendBatch(server, project.token, [pageview('u', 2, { $set_once: { plan: 'pro', signup: 'jan', nothing: 'filled' } })]);
    await sendBatch(server, project.token, [pageview('u', 3, { $set_once: { signup: 'feb' } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ plan: 'free', nothing: null, signup: 'jan' });
  });

  it('across requests, later events win, and $unset removes', async () => {
    const project = await newProject(server, 'ops across requests');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { x: 1, keep: 'k' } })]);
    await sendBatch(server, project.token, [pageview('u', 2, { $set: { x: 2 } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ x: 2, keep: 'k' });
    await sendBatch(server, project.token, [pageview('u', 3, { $unset: ['x'] })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ keep: 'k' });
    // An unset key is absent again, so $set_once may fill it.
    await sendBatch(server, project.token, [pageview('u', 4, { $set_once: { x: 'again' } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ keep: 'k', x: 'again' });
  });

  it('within one request, events apply in the order they were sent', async () => {
    const project = await newProject(server, 'ops in one request');
    await sendBatch(server, project.token, [
      pageview('u', 1, { $set: { v: 'first', w: 1 } }),
      pageview('u', 2, { $set: { v: 'second' } }),
      pageview('u', 3, { $unset: ['w'] }),
      pageview('u', 4, { $set_once: { v: 'ignored', z: 'z1' } }),
      pageview('u', 5, { $set_once: { z: 'z2' } }),
    ]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ v: 'second', z: 'z1' });
  });

  it('$unset works as an array of keys and as an object whose keys are used', async () => {
    const project = await newProject(server, 'unset forms');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { k1: 1, k2: 2, k3: 3, k4: 4 } })]);
    await sendBatch(server, project.token, [pageview('u', 2, { $unset: ['k1', 'k2', 'never-set'] })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ k3: 3, k4: 4 });
    await sendBatch(server, project.token, [pageview('u', 3, { $unset: { k3: 'any value', k4: null } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({});
  });

  it('top-level $set/$set_once (posthog-js) are merged with properties.$set/$set_once, and the top level wins', async () => {
    const project = await newProject(server, 'top-level ops');
    await sendBatch(server, project.token, [
      ev(
        '$identify',
        'u',
        { $set: { plan: 'props', b: 'props' }, $set_once: { s: 'props', t: 'props' } },
        { timestamp: at(1), $set: { plan: 'top', a: 'top' }, $set_once: { s: 'top' } },
      ),
    ]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ plan: 'top', a: 'top', b: 'props', s: 'top', t: 'props' });
  });

  it('a $set event (posthog-node setPersonProperties) changes the person; nested values are stored whole', async () => {
    const project = await newProject(server, 'set event');
    await sendBatch(server, project.token, [ev('$set', 'u', { $set: { address: { city: 'Oslo', zip: '0150' }, tags: ['a', 'b'] } }, { timestamp: at(1) })]);
    await sendBatch(server, project.token, [ev('$set', 'u', { $set: { address: { city: 'Bergen' } } }, { timestamp: at(2) })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ address: { city: 'Bergen' }, tags: ['a', 'b'] });
  });

  it('property keys with dots and dollar signs come back as sent', async () => {
    const project = await newProject(server, 'odd keys');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { 'a.b': 1, 'price$': 2, 'x.y.z': 'deep' } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ 'a.b': 1, 'price$': 2, 'x.y.z': 'deep' });
  });
});

// ---------------------------------------------------------------------------------------------
// Personless events
// ---------------------------------------------------------------------------------------------

describe('personless events (§2.7)', () => {
  it('create no person; a later $identify naming the id as anonymous re-points the old events to the identified person', async () => {
    const project = await newProject(server, 'personless re-pointing');
    const early = [
      pageview('pl-anon', 1, { $process_person_profile: false, $set: { ignored: true } }),
      ev('clicked', 'pl-anon', { $process_person_profile: false }, { timestamp: at(2) }),
    ];
    await sendBatch(server, project.token, early);

    expect(await allPersons(server, project.id)).toEqual([]);
    expect(await personOf(server, project.id, 'pl-anon')).toBeNull();
    for (const e of early) expect((await eventByUuid(server, project.id, e.uuid))!.person).toBeNull();

    const login = identify('pl-user', 'pl-anon', 3, { $set: { email: 'pl@example.com' } });
    await sendBatch(server, project.token, [login]);

    const persons = await allPersons(server, project.id);
    expect(persons).toHaveLength(1);
    const person = persons[0]!;
    expect(sorted(person.distinctIds)).toEqual(['pl-anon', 'pl-user']);
    expect(person.isIdentified).toBe(true);
    expect(person.properties.email).toBe('pl@example.com');
    // The personless events' $set was never applied.
    expect(person.properties).not.toHaveProperty('ignored');

    for (const e of early) {
      const stored = await eventByUuid(server, project.id, e.uuid);
      expect(stored!.distinctId).toBe('pl-anon');
      expect(stored!.person?.id).toBe(person.id);
    }
    expect(sorted(await eventsOfPerson(server, project.id, person.id))).toEqual(sorted([...early, login].map((e) => e.uuid)));
  });

  it('a personless event from a distinct id that has a person resolves to that person and does not change it', async () => {
    const project = await newProject(server, 'personless known id');
    await sendBatch(server, project.token, [pageview('known', 1, { $set: { plan: 'a' } })]);
    const personless = pageview('known', 2, { $process_person_profile: false, $set: { plan: 'b', extra: 1 } });
    await sendBatch(server, project.token, [personless]);
    const person = await personOf(server, project.id, 'known');
    expect(ownProps(person)).toEqual({ plan: 'a' });
    expect((await eventByUuid(server, project.id, personless.uuid))!.person?.id).toBe(person!.id);
  });

  it('once the distinct id gets a person through an ordinary event, its earlier personless events resolve to it', async () => {
    const project = await newProject(server, 'personless then person');
    const personless = pageview('later', 1, { $process_person_profile: false });
    await sendBatch(server, project.token, [personless]);
    await sendBatch(server, project.token, [pageview('later', 2, { $set: { plan: 'x' } })]);
    const person = await personOf(server, project.id, 'later');
    expect(ownProps(person)).toEqual({ plan: 'x' });
    expect((await eventByUuid(server, project.id, personless.uuid))!.person?.id).toBe(person!.id);
  });

  it('personless events from several distinct ids create no persons at all', async () => {
    const project = await newProject(server, 'personless only');
    await sendBatch(server, project.token, [
      pageview('p1', 1, { $process_person_profile: false }),
      pageview('p2', 2, { $process_person_profile: false }),
      pageview('p1', 3, { $process_person_profile: false }),
    ]);
    expect(await allPersons(server, project.id)).toEqual([]);
    for (const e of await allEvents(server, project.id)) expect(e.person).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// createdAt
// ---------------------------------------------------------------------------------------------

describe('person createdAt', () => {
  it('is the earliest event timestamp, even when the earlier event arrives later', async () => {
    const project = await newProject(server, 'created at');
    await sendBatch(server, project.token, [pageview('late', 30)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(30));
    await sendBatch(server, project.token, [pageview('late', 10)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(10));
    await sendBatch(server, project.token, [pageview('late', 20)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(10));
  });

  it('after a merge, an even earlier event of the merged-in id moves createdAt back', async () => {
    const project = await newProject(server, 'created at after merge');
    await sendBatch(server, project.token, [pageview('anon', 20)]);
    await sendBatch(server, project.token, [pageview('user', 15)]);
    await sendBatch(server, project.token, [identify('user', 'anon', 25)]);
    expect((await personOf(server, project.id, 'user'))!.createdAt).toBe(at(15));
    await sendBatch(server, project.token, [pageview('anon', 5)]);
    expect((await personOf(server, project.id, 'user'))!.createdAt).toBe(at(5));
  });
});
