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
  personById,
  personOf,
  query,
  sendBatch,
  sorted,
  type PersonView,
} from '../helpers/capture.ts';
import { codesOf, newProject, type Project } from '../helpers/persons.ts';
import { gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Reading persons and their events through GraphQL: Event.person and Person.events following merges,
 * searching, filtering and paging Project.persons, Project.person, and Project.events filtered by person
 * properties.
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
// Events follow merges
// ---------------------------------------------------------------------------------------------

describe('events follow their distinct id’s person', () => {
  it('keep their distinctId after a merge; Event.person and Person.events follow the merge', async () => {
    const project = await newProject(server, 'events follow');
    const anonEvents = [pageview('anon', 1), ev('clicked', 'anon', {}, { timestamp: at(2) })];
    const userEvents = [pageview('user', 3)];
    const bystander = pageview('someone-else', 4);
    await sendBatch(server, project.token, [...anonEvents, ...userEvents, bystander]);

    const anonBefore = (await personOf(server, project.id, 'anon'))!;
    const userBefore = (await personOf(server, project.id, 'user'))!;
    expect(anonBefore.id).not.toBe(userBefore.id);
    expect(sorted(await eventsOfPerson(server, project.id, anonBefore.id))).toEqual(sorted(anonEvents.map((e) => e.uuid)));

    const login = identify('user', 'anon', 5);
    await sendBatch(server, project.token, [login]);

    const merged = (await personOf(server, project.id, 'anon'))!;
    expect(merged.id).toBe(userBefore.id);
    expect(await personById(server, project.id, anonBefore.id)).toBeNull();
    const mine = [...anonEvents, ...userEvents, login];
    expect(sorted(await eventsOfPerson(server, project.id, merged.id))).toEqual(sorted(mine.map((e) => e.uuid)));
    for (const e of mine) {
      const stored = (await eventByUuid(server, project.id, e.uuid))!;
      expect(stored.distinctId).toBe(e.distinct_id);
      expect(stored.person?.id).toBe(merged.id);
      expect(sorted(stored.person!.distinctIds)).toEqual(['anon', 'user']);
    }
    const other = (await eventByUuid(server, project.id, bystander.uuid))!;
    expect(other.person?.distinctIds).toEqual(['someone-else']);
  });

  it('Person.events pages through all of a person’s events without repeats', async () => {
    const project = await newProject(server, 'person events paging');
    const events = Array.from({ length: 7 }, (_, i) => pageview(i % 2 === 0 ? 'pa' : 'pb', i + 1));
    await sendBatch(server, project.token, events);
    await sendBatch(server, project.token, [identify('pa', 'pb', 20)]);
    const person = (await personOf(server, project.id, 'pa'))!;
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const data: any = await query(
        server,
        `query($p: ID!, $id: ID, $after: String) { project(id: $p) { person(id: $id) { events(first: 3, after: $after) { edges { node { uuid } } pageInfo { hasNextPage endCursor } } } } }`,
        { p: project.id, id: person.id, after },
      );
      const page = data.project.person.events;
      expect(page.edges.length).toBeLessThanOrEqual(3);
      seen.push(...page.edges.map((e: { node: { uuid: string } }) => e.node.uuid));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(8);
    expect(sorted(seen)).toEqual(sorted([...events.map((e) => e.uuid), (await allEvents(server, project.id)).find((e) => e.event === '$identify')!.uuid]));
  });
});

// ---------------------------------------------------------------------------------------------
// Finding persons
// ---------------------------------------------------------------------------------------------

describe('finding persons', () => {
  let project: Project;
  let ids: Record<string, string>;

  beforeAll(async () => {
    project = await newProject(server, 'find persons');
    await sendBatch(server, project.token, [
      pageview('user-alice', 1, { $set: { email: 'Alice@Example.com', name: 'Alice Smith', plan: 'pro', seats: 3 } }),
      pageview('user-bob', 2, { $set: { email: 'bob@example.org', name: 'Bob Jones', plan: 'free', seats: '25' } }),
      pageview('user-carol', 3, { $set: { email: 'carol@corp.example.com', name: 'Carol Malice', plan: 'pro', seats: 12 } }),
      pageview('xalice-9', 4),
      pageview('dave', 5, { $set: { name: 'Dave' } }),
    ]);
    ids = {};
    for (const d of ['user-alice', 'user-bob', 'user-carol', 'xalice-9', 'dave']) ids[d] = (await personOf(server, project.id, d))!.id;
  });

  const names = (persons: PersonView[]) => persons.map((p) => p.distinctIds[0]);

  it('lists persons newest createdAt first', async () => {
    expect(names(await allPersons(server, project.id))).toEqual(['dave', 'xalice-9', 'user-carol', 'user-bob', 'user-alice']);
  });

  it.each([
    ['an exact distinct id', 'user-alice', ['user-alice']],
    ['a distinct id prefix', 'user-', ['user-carol', 'user-bob', 'user-alice']],
    ['a longer prefix', 'user-ali', ['user-alice']],
    ['a case-insensitive email substring', 'EXAMPLE.ORG', ['user-bob']],
    ['a name or email substring, not a distinct id infix', 'alice', ['user-carol', 'user-alice']],
    ['a name substring', 'jones', ['user-bob']],
    ['nothing that matches', 'nobody-at-all', []],
  ])('search by %s (%s)', async (_label, search, expected) => {
    expect(names(await allPersons(server, project.id, { search }))).toEqual(expected);
  });

  it.each([
    ['exact', [{ key: 'plan', operator: 'exact', value: 'pro', type: 'person' }], ['user-carol', 'user-alice']],
    ['is_not', [{ key: 'plan', operator: 'is_not', value: 'pro', type: 'person' }], ['dave', 'xalice-9', 'user-bob']],
    ['gt on numbers and numeric strings', [{ key: 'seats', operator: 'gt', value: 10, type: 'person' }], ['user-carol', 'user-bob']],
    ['is_set', [{ key: 'name', operator: 'is_set', type: 'person' }], ['dave', 'user-carol', 'user-bob', 'user-alice']],
    ['is_not_set', [{ key: 'email', operator: 'is_not_set', type: 'person' }], ['dave', 'xalice-9']],
    [
      'two conditions',
      [
        { key: 'plan', operator: 'exact', value: 'pro', type: 'person' },
        { key: 'name', operator: 'icontains', value: 'SMITH', type: 'person' },
      ],
      ['user-alice'],
    ],
  ])('filters by person properties: %s', async (_label, properties, expected) => {
    expect(names(await allPersons(server, project.id, { properties }))).toEqual(expected);
  });

  it('combines search and property filters', async () => {
    const found = await allPersons(server, project.id, { search: 'example', properties: [{ key: 'plan', operator: 'exact', value: 'free', type: 'person' }] });
    expect(names(found)).toEqual(['user-bob']);
  });

  it('pages with first/after through every person once, in order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const data: any = await query(
        server,
        `query($p: ID!, $after: String) { project(id: $p) { persons(first: 2, after: $after) { edges { node { distinctIds } } pageInfo { hasNextPage endCursor } } } }`,
        { p: project.id, after },
      );
      seen.push(...data.project.persons.edges.map((e: { node: { distinctIds: string[] } }) => e.node.distinctIds[0]));
      if (!data.project.persons.pageInfo.hasNextPage) break;
      after = data.project.persons.pageInfo.endCursor;
    }
    expect(seen).toEqual(['dave', 'xalice-9', 'user-carol', 'user-bob', 'user-alice']);
  });

  it('Project.person finds by id or by distinct id, and is null when not found', async () => {
    expect((await personById(server, project.id, ids['user-bob']!))!.distinctIds).toEqual(['user-bob']);
    expect((await personOf(server, project.id, 'user-bob'))!.id).toBe(ids['user-bob']);
    expect(await personOf(server, project.id, 'no-such-id')).toBeNull();
    expect(await personById(server, project.id, '00000000-0000-4000-8000-000000000000')).toBeNull();
    // Another project's person is not found here.
    const other = await newProject(server, 'find persons elsewhere');
    await sendBatch(server, other.token, [pageview('elsewhere', 1)]);
    const foreign = (await personOf(server, other.id, 'elsewhere'))!;
    expect(await personById(server, project.id, foreign.id)).toBeNull();
    expect(await personOf(server, project.id, 'elsewhere')).toBeNull();
  });

  it('Project.person needs exactly one of id and distinctId (BAD_USER_INPUT)', async () => {
    const both = await gql(
      server,
      `query($p: ID!, $id: ID, $d: String) { project(id: $p) { person(id: $id, distinctId: $d) { id } } }`,
      { p: project.id, id: ids['user-bob'], d: 'user-bob' },
      server.adminKey,
    );
    expect(codesOf(both)).toEqual(['BAD_USER_INPUT']);
    const neither = await gql(server, `query($p: ID!) { project(id: $p) { person { id } } }`, { p: project.id }, server.adminKey);
    expect(codesOf(neither)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Project.events filtered by person properties', () => {
  it('selects events by the current properties of their person, including events of merged-in ids; personless events never match', async () => {
    const project = await newProject(server, 'events by person property');
    const anon = [pageview('anon', 1), ev('clicked', 'anon', {}, { timestamp: at(2) })];
    const login = identify('user', 'anon', 3, { $set: { plan: 'pro' } });
    const freeUser = pageview('free-user', 4, { $set: { plan: 'free' } });
    const nobody = pageview('nobody', 5, { $process_person_profile: false });
    await sendBatch(server, project.token, anon);
    await sendBatch(server, project.token, [login, freeUser, nobody]);

    const pro = await allEvents(server, project.id, { properties: [{ key: 'plan', operator: 'exact', value: 'pro', type: 'person' }] });
    expect(sorted(pro.map((e) => e.uuid))).toEqual(sorted([...anon, login].map((e) => e.uuid)));
    expect(new Set(pro.map((e) => e.distinctId))).toEqual(new Set(['anon', 'user']));

    const free = await allEvents(server, project.id, { properties: [{ key: 'plan', operator: 'exact', value: 'free', type: 'person' }] });
    expect(free.map((e) => e.uuid)).toEqual([freeUser.uuid]);

    // Combined with an event condition (type defaults to event).
    const proPageviews = await allEvents(server, project.id, {
      events: ['$pageview'],
      properties: [{ key: 'plan', operator: 'is_set', type: 'person' }],
    });
    expect(sorted(proPageviews.map((e) => e.uuid))).toEqual(sorted([anon[0]!.uuid, freeUser.uuid]));

    // An event property of the same name is not a person property.
    await sendBatch(server, project.token, [pageview('plain', 6, { plan: 'pro' })]);
    const again = await allEvents(server, project.id, { properties: [{ key: 'plan', operator: 'exact', value: 'pro', type: 'person' }] });
    expect(again.map((e) => e.distinctId)).not.toContain('plain');
    const asEvent = await allEvents(server, project.id, { properties: [{ key: 'plan', operator: 'exact', value: 'pro' }] });
    expect(asEvent.map((e) => e.distinctId)).toEqual(['plain']);
  });
});
