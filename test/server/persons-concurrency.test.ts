import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEvents,
  allPersons,
  at,
  identify,
  pageview,
  query,
  sendBatchRetrying,
  sorted,
  type PersonView,
  type SentEvent,
  type Target,
} from '../helpers/capture.ts';
import { createProject, freePort, spawnServer, startTestServer, type ServerProcess, type TestServer } from '../helpers/server.ts';
import { tempDataDir } from '../helpers/store.ts';

/*
 * Person processing under concurrency: many requests naming the same new distinct id at once, two
 * server processes sharing one database, and a merge racing with captures for both of its ids. The
 * rules are the sequential ones (posthog-semantics.md §2.5, §2.6); concurrency must not change the
 * outcome: one person per distinct id, every event stored once and attributed, no property lost.
 */

/** Fisher–Yates with a fixed seed, so a failing interleaving of sends can be reproduced. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Asserts the invariants every race must keep, and returns the persons by distinct id. */
async function expectConsistent(target: Target, projectId: string, sent: SentEvent[]): Promise<Map<string, PersonView>> {
  const persons = await allPersons(target, projectId);
  const byDistinctId = new Map<string, PersonView>();
  for (const person of persons) {
    for (const id of person.distinctIds) {
      expect(byDistinctId.has(id), `${id} is on two persons`).toBe(false);
      byDistinctId.set(id, person);
    }
  }
  const events = await allEvents(target, projectId);
  // Every event stored exactly once.
  expect(events).toHaveLength(sent.length);
  expect(sorted(events.map((e) => e.uuid))).toEqual(sorted(sent.map((e) => e.uuid)));
  // Every event attributed to the person its distinct id has now.
  for (const event of events) {
    const person = byDistinctId.get(event.distinctId);
    expect(person, `a person for ${event.distinctId}`).toBeDefined();
    expect(event.person?.id, `person of event ${event.uuid} from ${event.distinctId}`).toBe(person!.id);
  }
  return byDistinctId;
}

describe('one server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('50 parallel requests carrying the first event of one new distinct id make exactly one person holding every event and every $set', async () => {
    const project = await createProject(server, 'first event race');
    const sent = Array.from({ length: 50 }, (_, i) => pageview('racer', 10 + i, { $set: { [`k${i}`]: i } }));
    await Promise.all(sent.map((e) => sendBatchRetrying(server, project.apiToken, [e])));

    const byDistinctId = await expectConsistent(server, project._id, sent);
    const persons = await allPersons(server, project._id);
    expect(persons).toHaveLength(1);
    const person = byDistinctId.get('racer')!;
    expect(person.distinctIds).toEqual(['racer']);
    expect(person.isIdentified).toBe(false);
    // The earliest event's timestamp, whichever request won the race to create the person.
    expect(person.createdAt).toBe(at(10));
    // No request's $set was lost to a concurrent write.
    for (let i = 0; i < 50; i++) expect(person.properties[`k${i}`], `k${i}`).toBe(i);
    // One mapping from the distinct id to the person.
    expect(await server.storage.db.collection('personDistinctIds').countDocuments({ projectId: project._id, distinctId: 'racer' })).toBe(1);
    expect(await server.storage.db.collection('persons').countDocuments({ projectId: project._id })).toBe(1);
  });

  it('a merge racing with captures of both ids loses no event, maps each id once and ends on one person with every property', async () => {
    for (let round = 0; round < 4; round++) {
      const project = await createProject(server, `merge race ${round}`);
      const anon = `race-anon-${round}`;
      const user = `race-user-${round}`;
      const sent: SentEvent[] = [];
      if (round % 2 === 1) {
        // Odd rounds: both ids already have (different) persons, so the race is a two-person merge.
        const seeds = [pageview(anon, 0, { $set: { seed_anon: true } }), pageview(user, 1, { $set: { seed_user: true } })];
        for (const e of seeds) await sendBatchRetrying(server, project.apiToken, [e]);
        sent.push(...seeds);
      }
      const racing: SentEvent[] = [];
      for (let i = 0; i < 25; i++) racing.push(pageview(anon, 10 + i, { $set: { [`anon_${i}`]: true } }));
      for (let i = 0; i < 25; i++) racing.push(pageview(user, 10 + i, { $set: { [`user_${i}`]: true } }));
      for (let i = 0; i < 4; i++) racing.push(identify(user, anon, 40 + i, { $set: { [`identify_${i}`]: true } }));
      sent.push(...racing);
      await Promise.all(shuffled(racing, round + 1).map((e) => sendBatchRetrying(server, project.apiToken, [e])));

      const byDistinctId = await expectConsistent(server, project._id, sent);
      const persons = await allPersons(server, project._id);
      expect(persons, `round ${round}: ${JSON.stringify(persons.map((p) => p.distinctIds))}`).toHaveLength(1);
      const person = byDistinctId.get(user)!;
      expect(sorted(person.distinctIds)).toEqual(sorted([anon, user]));
      expect(person.isIdentified).toBe(true);
      for (const e of sent) {
        for (const key of Object.keys((e.properties.$set ?? {}) as Record<string, unknown>)) {
          expect(person.properties[key], `round ${round}: property ${key}`).toBe(true);
        }
      }
      for (const id of [anon, user]) {
        expect(await server.storage.db.collection('personDistinctIds').countDocuments({ projectId: project._id, distinctId: id }), `mappings of ${id}`).toBe(1);
      }
    }
  });
});

describe('two server processes sharing one database', () => {
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;
  const dirs: string[] = [];
  let a: Target;
  let b: Target;
  let projectId: string;
  let token: string;

  beforeAll(async () => {
    const dirA = await tempDataDir('sightline-persons-a-');
    const dirB = await tempDataDir('sightline-persons-b-');
    dirs.push(dirA, dirB);
    const port = await freePort();
    first = await spawnServer({ DATA_DIR: dirA, EMBEDDED_STORE_PORT: String(port) });
    // The first process keeps the store it embeds on `port`, and the admin key it generated in its data directory.
    const adminKey = (await readFile(join(dirA, 'admin-key'), 'utf8')).trim();
    second = await spawnServer({ MONGODB_URL: `mongodb://127.0.0.1:${port}/?directConnection=true`, DATA_DIR: dirB, ADMIN_KEY: adminKey });
    a = { url: first.url, graphqlUrl: `${first.url}/graphql`, adminKey };
    b = { url: second.url, graphqlUrl: `${second.url}/graphql`, adminKey };
    const data = await query(a, `{ projects(first: 10) { edges { node { id apiToken } } } }`);
    expect(data.projects.edges).toHaveLength(1);
    projectId = data.projects.edges[0].node.id;
    token = data.projects.edges[0].node.apiToken;
  }, 90_000);

  afterAll(async () => {
    // The second process uses the first one's store, so it stops first.
    await second?.terminate();
    await first?.terminate();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('parallel first events for the same new distinct ids, split across both processes, make one person per id', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `shared-${i}`);
    const sends: { target: Target; event: SentEvent }[] = [];
    for (const id of ids) {
      for (let j = 0; j < 10; j++) sends.push({ target: j % 2 === 0 ? a : b, event: pageview(id, 5 + j, { $set: { [`p${j}`]: j } }) });
    }
    await Promise.all(shuffled(sends, 7).map(({ target, event }) => sendBatchRetrying(target, token, [event])));

    const sent = sends.map((s) => s.event);
    const byDistinctId = await expectConsistent(a, projectId, sent);
    const persons = await allPersons(a, projectId);
    expect(persons).toHaveLength(ids.length);
    for (const id of ids) {
      const person = byDistinctId.get(id)!;
      expect(person.distinctIds).toEqual([id]);
      expect(person.createdAt).toBe(at(5));
      for (let j = 0; j < 10; j++) expect(person.properties[`p${j}`], `${id} p${j}`).toBe(j);
    }
    // The other process reads the same persons.
    const fromB = await allPersons(b, projectId);
    expect(sorted(fromB.map((p) => `${p.id} ${p.distinctIds.join(',')}`))).toEqual(sorted(persons.map((p) => `${p.id} ${p.distinctIds.join(',')}`)));
  }, 90_000);

  it('merges sent to one process racing with captures sent to the other end on one person per pair', async () => {
    const pairs = Array.from({ length: 5 }, (_, i) => ({ anon: `x-anon-${i}`, user: `x-user-${i}` }));
    const sends: { target: Target; event: SentEvent }[] = [];
    for (const { anon, user } of pairs) {
      for (let j = 0; j < 6; j++) {
        sends.push({ target: b, event: pageview(anon, 10 + j, { $set: { [`anon_${j}`]: true } }) });
        sends.push({ target: a, event: pageview(user, 10 + j, { $set: { [`user_${j}`]: true } }) });
      }
      sends.push({ target: a, event: identify(user, anon, 30) });
      sends.push({ target: b, event: identify(user, anon, 31) });
    }
    await Promise.all(shuffled(sends, 11).map(({ target, event }) => sendBatchRetrying(target, token, [event])));

    const mine = new Set(pairs.flatMap((p) => [p.anon, p.user]));
    const persons = (await allPersons(a, projectId)).filter((p) => p.distinctIds.some((id) => mine.has(id)));
    expect(persons).toHaveLength(pairs.length);
    for (const { anon, user } of pairs) {
      const person = persons.find((p) => p.distinctIds.includes(user))!;
      expect(sorted(person.distinctIds)).toEqual(sorted([anon, user]));
      expect(person.isIdentified).toBe(true);
      for (let j = 0; j < 6; j++) {
        expect(person.properties[`anon_${j}`], `${anon} anon_${j}`).toBe(true);
        expect(person.properties[`user_${j}`], `${user} user_${j}`).toBe(true);
      }
    }
    const events = (await allEvents(a, projectId)).filter((e) => mine.has(e.distinctId));
    expect(sorted(events.map((e) => e.uuid))).toEqual(sorted(sends.map((s) => s.event.uuid)));
    for (const event of events) {
      expect(event.person?.id).toBe(persons.find((p) => p.distinctIds.includes(event.distinctId))!.id);
    }
  }, 90_000);
});
