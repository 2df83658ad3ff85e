import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { PostHog } from 'posthog-node';
import { gzipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TOKEN, readFixture } from '../fixtures/capture/generate.ts';
import { allEvents, allPersons, personOf, sorted, type EventView } from '../helpers/capture.ts';
import { createProject, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Identity as real SDKs produce it: the posthog-node package sending over HTTP to the test server, and
 * posthog-js's wire formats (the recorded current-format fixture, plus hand-built beacon and legacy
 * requests following posthog-semantics.md §1.2). The outcome is read through GraphQL; the expected
 * persons follow §2.5–§2.7.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

async function newProject(name: string): Promise<{ id: string; token: string }> {
  const project = await createProject(server, name);
  return { id: project._id, token: project.apiToken };
}

/**
 * A posthog-node client sending to the test server; errors it reports are collected for the test to check.
 * Queued events leave in one ordered batch at `shutdown()` (or at once with the `*Immediate` calls).
 */
function nodeClient(token: string, options: Record<string, unknown> = {}) {
  const errors: unknown[] = [];
  const client = new PostHog(token, { host: server.url, flushAt: 100, flushInterval: 60_000, ...options });
  client.on('error', (error: unknown) => errors.push(error));
  return { client, errors };
}

function eventsNamed(events: EventView[], name: string): EventView[] {
  return events.filter((e) => e.event === name);
}

describe('posthog-node', () => {
  it('anonymous captures, then identify with $anon_distinct_id, $set and $set_once: one identified person; old events follow', async () => {
    const project = await newProject('node identify');
    const { client, errors } = nodeClient(project.token);
    client.capture({ distinctId: 'node-anon', event: 'viewed pricing', properties: { plan_viewed: 'pro' } });
    client.capture({ distinctId: 'node-anon', event: 'clicked signup' });
    client.identify({
      distinctId: 'node-user',
      properties: { $set: { email: 'node@example.com', plan: 'pro' }, $set_once: { signup_source: 'ads' }, $anon_distinct_id: 'node-anon' },
    });
    client.capture({ distinctId: 'node-user', event: 'upgraded' });
    await client.shutdown();
    expect(errors).toEqual([]);

    const persons = await allPersons(server, project.id);
    expect(persons).toHaveLength(1);
    const person = persons[0]!;
    expect(sorted(person.distinctIds)).toEqual(['node-anon', 'node-user']);
    expect(person.isIdentified).toBe(true);
    expect(person.properties).toMatchObject({ email: 'node@example.com', plan: 'pro', signup_source: 'ads' });
    // An event property is not a person property.
    expect(person.properties).not.toHaveProperty('plan_viewed');

    const events = await allEvents(server, project.id);
    expect(events).toHaveLength(4);
    for (const e of events) expect(e.person?.id, `${e.event}`).toBe(person.id);
    expect(eventsNamed(events, 'viewed pricing')[0]!.distinctId).toBe('node-anon');
    expect(eventsNamed(events, 'clicked signup')[0]!.distinctId).toBe('node-anon');
  });

  it('identify with plain properties sets them; without an anonymous id the person is not identified; $set_once keeps first values', async () => {
    const project = await newProject('node plain identify');
    const { client, errors } = nodeClient(project.token);
    await client.identifyImmediate({ distinctId: 'plain', properties: { name: 'Plain', age: 30 } });
    await client.identifyImmediate({ distinctId: 'plain', properties: { $set: { age: 31 }, $set_once: { name: 'Other', first_city: 'Oslo' } } });
    await client.identifyImmediate({ distinctId: 'plain', properties: { $set_once: { first_city: 'Bergen' } } });
    await client.shutdown();
    expect(errors).toEqual([]);

    const person = (await personOf(server, project.id, 'plain'))!;
    expect(person.distinctIds).toEqual(['plain']);
    expect(person.isIdentified).toBe(false);
    expect(person.properties).toMatchObject({ name: 'Plain', age: 31, first_city: 'Oslo' });
  });

  it('alias merges an anonymous person into the user; a self-alias changes nothing', async () => {
    const project = await newProject('node alias');
    const { client, errors } = nodeClient(project.token);
    await client.captureImmediate({ distinctId: 'legacy-42', event: 'old app event', properties: { $set: { legacy: true, plan: 'old' } } });
    await client.captureImmediate({ distinctId: 'node-user', event: 'new app event', properties: { $set: { plan: 'new' } } });
    const userBefore = (await personOf(server, project.id, 'node-user'))!;
    const legacyBefore = (await personOf(server, project.id, 'legacy-42'))!;
    expect(userBefore.id).not.toBe(legacyBefore.id);

    await client.aliasImmediate({ distinctId: 'node-user', alias: 'legacy-42' });
    await client.aliasImmediate({ distinctId: 'node-user', alias: 'node-user' });
    await client.shutdown();
    expect(errors).toEqual([]);

    const persons = await allPersons(server, project.id);
    expect(persons).toHaveLength(1);
    const person = persons[0]!;
    expect(person.id).toBe(userBefore.id);
    expect(sorted(person.distinctIds)).toEqual(['legacy-42', 'node-user']);
    expect(person.isIdentified).toBe(true);
    expect(person.properties).toMatchObject({ legacy: true, plan: 'new' });
    const events = await allEvents(server, project.id);
    expect(eventsNamed(events, 'old app event')[0]).toMatchObject({ distinctId: 'legacy-42', person: { id: person.id } });
  });

  it('setPersonProperties and unsetPersonProperties apply in order', async () => {
    const project = await newProject('node set/unset');
    const { client, errors } = nodeClient(project.token);
    client.setPersonProperties({ distinctId: 'props-user', properties: { plan: 'pro', seats: 3 }, propertiesOnce: { first_plan: 'pro' } });
    client.setPersonProperties({ distinctId: 'props-user', properties: { plan: 'team' }, propertiesOnce: { first_plan: 'team' } });
    client.unsetPersonProperties({ distinctId: 'props-user', properties: ['seats'] });
    await client.shutdown();
    expect(errors).toEqual([]);

    const person = (await personOf(server, project.id, 'props-user'))!;
    expect(person.properties).toMatchObject({ plan: 'team', first_plan: 'pro' });
    expect(person.properties).not.toHaveProperty('seats');
  });

  it('groupIdentify does not touch the user’s person properties; grouped events belong to the person, also when sent personless', async () => {
    const project = await newProject('node groups');
    const { client, errors } = nodeClient(project.token);
    await client.captureImmediate({ distinctId: 'group-user', event: 'signed up', properties: { $set: { role: 'admin' } } });
    await client.groupIdentifyImmediate({ groupType: 'company', groupKey: 'acme', properties: { name: 'Acme Inc', employees: 50 }, distinctId: 'group-user' });
    await client.captureImmediate({ distinctId: 'group-user', event: 'used feature', groups: { company: 'acme' } });
    // Events with groups always process persons (§2.7), even when marked personless.
    await client.captureImmediate({ distinctId: 'group-only', event: 'used feature', groups: { company: 'acme' }, properties: { $process_person_profile: false } });
    await client.shutdown();
    expect(errors).toEqual([]);

    const person = (await personOf(server, project.id, 'group-user'))!;
    expect(person.properties).toMatchObject({ role: 'admin' });
    expect(person.properties).not.toHaveProperty('name');
    expect(person.properties).not.toHaveProperty('employees');
    const events = await allEvents(server, project.id);
    const used = eventsNamed(events, 'used feature');
    expect(used.find((e) => e.distinctId === 'group-user')!.person?.id).toBe(person.id);
    const groupOnly = (await personOf(server, project.id, 'group-only'))!;
    expect(groupOnly).not.toBeNull();
    expect(used.find((e) => e.distinctId === 'group-only')!.person?.id).toBe(groupOnly.id);
  });

  it('personless captures create no person (also without a distinct id); a later identify re-points them', async () => {
    const project = await newProject('node personless');
    const { client, errors } = nodeClient(project.token);
    await client.captureImmediate({ distinctId: 'pl-node', event: 'anonymous view', properties: { $process_person_profile: false, $set: { ignored: 1 } } });
    // No distinct id: posthog-node sends a fresh uuidv7 and $process_person_profile: false.
    await client.captureImmediate({ event: 'server job ran' });
    expect(await allPersons(server, project.id)).toEqual([]);
    let events = await allEvents(server, project.id);
    expect(events).toHaveLength(2);
    for (const e of events) expect(e.person).toBeNull();
    const jobDistinctId = eventsNamed(events, 'server job ran')[0]!.distinctId;
    expect(jobDistinctId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    await client.identifyImmediate({ distinctId: 'pl-node-user', properties: { $set: { email: 'pl@example.com' }, $anon_distinct_id: 'pl-node' } });
    await client.shutdown();
    expect(errors).toEqual([]);

    const persons = await allPersons(server, project.id);
    expect(persons).toHaveLength(1);
    expect(sorted(persons[0]!.distinctIds)).toEqual(['pl-node', 'pl-node-user']);
    expect(persons[0]!.isIdentified).toBe(true);
    expect(persons[0]!.properties).not.toHaveProperty('ignored');
    events = await allEvents(server, project.id);
    expect(eventsNamed(events, 'anonymous view')[0]).toMatchObject({ distinctId: 'pl-node', person: { id: persons[0]!.id } });
    expect(eventsNamed(events, 'server job ran')[0]!.person).toBeNull();
    expect(await personOf(server, project.id, jobDistinctId)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// posthog-js wire formats
// ---------------------------------------------------------------------------------------------

/** posthog-js `_base64Encode`: the UTF-8 bytes of the text, base64-encoded. */
function jsBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** An event as posthog-js builds it: distinct_id and token inside properties, person ops at the top level. */
function jsEvent(token: string, event: string, distinctId: string, msAgo: number, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    uuid: randomUUID(),
    event,
    properties: {
      token,
      distinct_id: distinctId,
      $lib: 'web',
      $lib_version: '1.449.2',
      $device_id: 'js-device',
      $session_id: '01900000-0000-7000-8000-00000000c0ff',
      ...extra,
    },
    timestamp: new Date(Date.now() - msAgo).toISOString(),
    ...top,
  };
}

async function post(path: string, contentType: string, body: Uint8Array | string): Promise<number> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: body as BodyInit });
  await response.arrayBuffer();
  return response.status;
}

/** The identify flow every format carries: an anonymous pageview, then `$identify` naming the anonymous id. */
function identifyFlow(token: string, anon: string, user: string) {
  return [
    jsEvent(token, '$pageview', anon, 2_000, { $current_url: 'https://shop.example.com/' }),
    jsEvent(token, '$identify', user, 1_000, { $anon_distinct_id: anon }, { $set: { email: `${user}@example.com`, plan: 'pro' }, $set_once: { first_plan: 'free' } }),
  ];
}

async function expectIdentified(projectId: string, anon: string, user: string) {
  const person = (await personOf(server, projectId, user))!;
  expect(person, `person of ${user}`).not.toBeNull();
  expect(sorted(person.distinctIds)).toEqual(sorted([anon, user]));
  expect(person.isIdentified).toBe(true);
  expect(person.properties).toMatchObject({ email: `${user}@example.com`, plan: 'pro', first_plan: 'free' });
  const pageview = (await allEvents(server, projectId, { distinctId: anon }))[0]!;
  expect(pageview).toMatchObject({ event: '$pageview', distinctId: anon, person: { id: person.id } });
  return person;
}

describe('posthog-js request formats carrying $identify', () => {
  it('1.449 gzip text/plain batch (recorded fixture): anonymous events join the identified person with the top-level $set/$set_once', async () => {
    const fixtureProjectId = new ObjectId().toHexString();
    await server.storage.db
      .collection('projects')
      .insertOne({ _id: fixtureProjectId as never, name: 'Fixture project', apiToken: FIXTURE_TOKEN, timezone: 'UTC', createdAt: new Date() });
    const fixture = readFixture('posthog-js-1.449-gzip');
    const status = await post(fixture.request.path, fixture.request.headers['content-type']!, Buffer.from(fixture.request.bodyBase64, 'base64'));
    expect(status).toBe(200);

    const anon = '01900000-0000-7000-8000-00000000d001';
    const user = 'user-42@example.com';
    const person = (await personOf(server, fixtureProjectId, user))!;
    expect(sorted(person.distinctIds)).toEqual(sorted([anon, user]));
    expect(person.isIdentified).toBe(true);
    expect(person.properties).toMatchObject({ email: 'user-42@example.com', plan: 'pro', first_seen_plan: 'free' });
    const events = await allEvents(server, fixtureProjectId);
    expect(events).toHaveLength(3);
    for (const e of events) expect(e.person?.id).toBe(person.id);
    expect(sorted(events.map((e) => e.distinctId))).toEqual(sorted([anon, anon, user]));

    // §2.3: browser and campaign properties of the events are copied to the person, and as $initial_* once.
    expect(person.properties).toMatchObject({
      $browser: 'Chrome',
      $os: 'Mac OS X',
      utm_source: 'newsletter',
      $initial_browser: 'Chrome',
      $initial_os: 'Mac OS X',
      $initial_utm_source: 'newsletter',
      $initial_pathname: '/pricing',
    });
  });

  it('1.449 sendBeacon: base64 data= form with ?compression=base64', async () => {
    const project = await newProject('js beacon identify');
    const payload = { api_key: project.token, batch: identifyFlow(project.token, 'beacon-anon', 'beacon-user'), sent_at: new Date().toISOString() };
    const status = await post('/e/?compression=base64', 'application/x-www-form-urlencoded', `data=${encodeURIComponent(jsBase64(JSON.stringify(payload)))}`);
    expect(status).toBe(200);
    await expectIdentified(project.id, 'beacon-anon', 'beacon-user');
  });

  it('1.200 gzipped bare array with ?compression=gzip-js and the token inside each event', async () => {
    const project = await newProject('js legacy identify');
    const events = identifyFlow(project.token, 'legacy-anon', 'legacy-user');
    const path = `/e/?ip=1&_=${Date.now()}&ver=1.200.0&compression=gzip-js`;
    const status = await post(path, 'text/plain', gzipSync(strToU8(JSON.stringify(events)), { mtime: 0 }));
    expect(status).toBe(200);
    await expectIdentified(project.id, 'legacy-anon', 'legacy-user');
  });

  it('1.449 gzip text/plain batch built the same way: the returning visitor’s second anonymous id joins too', async () => {
    const project = await newProject('js gzip returning');
    const first = { api_key: project.token, batch: identifyFlow(project.token, 'gz-anon-1', 'gz-user'), sent_at: new Date().toISOString() };
    expect(await post('/e/', 'text/plain', gzipSync(strToU8(JSON.stringify(first)), { mtime: 0 }))).toBe(200);
    const second = { api_key: project.token, batch: identifyFlow(project.token, 'gz-anon-2', 'gz-user'), sent_at: new Date().toISOString() };
    expect(await post('/e/', 'text/plain', gzipSync(strToU8(JSON.stringify(second)), { mtime: 0 }))).toBe(200);
    const person = (await personOf(server, project.id, 'gz-user'))!;
    expect(sorted(person.distinctIds)).toEqual(['gz-anon-1', 'gz-anon-2', 'gz-user']);
    expect(await allPersons(server, project.id)).toHaveLength(1);
  });
});
