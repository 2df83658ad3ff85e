import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collections } from '../../db/collections.ts';
import { ProjectScope } from '../../db/project-scope.ts';
import { unescapeKeys } from '../../db/property-keys.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { WarningSink } from '../../ingest/warnings.ts';
import { startProjectStore, type ProjectStore } from '../../../test/helpers/store.ts';
import { isIllegalDistinctId } from './illegal-ids.ts';
import { processPersons } from './ingest.ts';
import { PersonStore } from './person-store.ts';
import { PersonService } from './service.ts';

let stores: ProjectStore;
let collections: Collections;
const newProject = () => stores.newProject();

beforeAll(async () => {
  stores = await startProjectStore('persons');
  collections = stores.collections;
});

afterAll(async () => {
  await stores?.dispose();
});

let uuids = 0;
function event(name: string, distinctId: string, minute: number, properties: Record<string, unknown> = {}): NormalizedEvent {
  uuids += 1;
  return { uuid: `u${uuids}`, event: name, distinctId, timestamp: new Date(Date.UTC(2026, 0, 1, 0, minute)), properties };
}

/** A person as a user sees it: distinct ids, properties, identified, created. */
interface Outcome {
  ids: string[];
  properties: Record<string, unknown>;
  isIdentified: boolean;
  createdAt: number;
}

async function outcome(scope: ProjectScope): Promise<Outcome[]> {
  const mappings = await scope.data.personDistinctIds.find().toArray();
  const persons = await scope.data.persons.find().toArray();
  const byPerson = new Map<string, string[]>();
  for (const m of mappings) byPerson.set(m.personId, [...(byPerson.get(m.personId) ?? []), m.distinctId]);
  for (const personId of byPerson.keys()) expect(persons.some((p) => p._id === personId), `mapping to missing person ${personId}`).toBe(true);
  return persons
    .map((p) => {
      expect(p.mergingInto, 'no person is left half-merged').toBeUndefined();
      return { ids: (byPerson.get(p._id) ?? []).sort(), properties: unescapeKeys(p.properties) as Record<string, unknown>, isIdentified: p.isIdentified, createdAt: p.createdAt.getTime() };
    })
    .filter((p) => p.ids.length > 0)
    .sort((a, b) => a.ids[0]!.localeCompare(b.ids[0]!));
}

/**
 * The naive model: PostHog's rules (semantics reference §2.5–2.7) applied one event at a time to
 * in-memory maps, written independently of the implementation.
 */
function oracle(events: NormalizedEvent[]): { persons: Outcome[]; warnings: string[] } {
  type P = { ids: Set<string>; properties: Record<string, unknown>; isIdentified: boolean; createdAt: number };
  const owner = new Map<string, P>();
  const warnings: string[] = [];
  const ops = (p: P, props: Record<string, unknown>) => {
    for (const [k, v] of Object.entries((props.$set_once as object) ?? {})) if (!(k in p.properties)) p.properties[k] = v;
    for (const [k, v] of Object.entries((props.$set as object) ?? {})) p.properties[k] = v;
    for (const k of (props.$unset as string[]) ?? []) delete p.properties[k];
  };
  const personOf = (id: string, at: number) => {
    let p = owner.get(id);
    if (!p) {
      p = { ids: new Set([id]), properties: {}, isIdentified: false, createdAt: at };
      owner.set(id, p);
    }
    return p;
  };
  for (const e of events) {
    if (e.properties.$process_person_profile === false) continue;
    const at = e.timestamp.getTime();
    const other = e.event === '$identify' ? e.properties.$anon_distinct_id : e.event === '$create_alias' || e.event === '$merge_dangerously' ? e.properties.alias : undefined;
    const into = e.distinctId;
    let target: P;
    if (typeof other !== 'string' || other === into) {
      target = personOf(into, at);
    } else if (isIllegalDistinctId(other) || isIllegalDistinctId(into)) {
      warnings.push('cannot_merge_with_illegal_distinct_id');
      target = personOf(into, at);
    } else {
      const pI = owner.get(into);
      const pO = owner.get(other);
      if (pI && pO && pI !== pO && pO.isIdentified && e.event !== '$merge_dangerously') {
        warnings.push('cannot_merge_already_identified');
        target = pI;
        target.isIdentified = true;
      } else {
        target = pI ?? pO ?? personOf(into, at);
        if (pI && pO && pI !== pO) {
          target.properties = { ...pO.properties, ...pI.properties };
          target.createdAt = Math.min(pI.createdAt, pO.createdAt);
          for (const id of pO.ids) target.ids.add(id);
        }
        for (const id of [into, other]) target.ids.add(id);
        for (const id of target.ids) owner.set(id, target);
        target.isIdentified = true;
      }
    }
    ops(target, e.properties);
    target.createdAt = Math.min(target.createdAt, at);
  }
  const persons = [...new Set(owner.values())].map((p) => ({ ids: [...p.ids].sort(), properties: p.properties, isIdentified: p.isIdentified, createdAt: p.createdAt }));
  return { persons: persons.sort((a, b) => a.ids[0]!.localeCompare(b.ids[0]!)), warnings };
}

const ID_POOL = ['a1', 'a2', 'a3', 'u1', 'u2', 'u3', 'anonymous', 'null'];
const KEYS = ['plan', 'email', 'age'];

const eventArb = fc.record({
  kind: fc.constantFrom('plain', 'plain', 'plain', '$identify', '$create_alias', '$merge_dangerously', 'personless', '$identify-no-anon'),
  distinctId: fc.constantFrom(...ID_POOL),
  other: fc.constantFrom(...ID_POOL, ''),
  minute: fc.integer({ min: 0, max: 600 }),
  set: fc.dictionary(fc.constantFrom(...KEYS), fc.integer({ min: 0, max: 3 }), { maxKeys: 2 }),
  setOnce: fc.dictionary(fc.constantFrom(...KEYS), fc.integer({ min: 0, max: 3 }), { maxKeys: 2 }),
  unset: fc.subarray(KEYS, { maxLength: 1 }),
});

function toEvent(spec: typeof eventArb extends fc.Arbitrary<infer T> ? T : never): NormalizedEvent {
  const properties: Record<string, unknown> = { $set: spec.set, $set_once: spec.setOnce, $unset: spec.unset };
  switch (spec.kind) {
    case 'plain':
      return event('$pageview', spec.distinctId, spec.minute, properties);
    case 'personless':
      return event('$pageview', spec.distinctId, spec.minute, { ...properties, $process_person_profile: false });
    case '$identify':
      return event('$identify', spec.distinctId, spec.minute, { ...properties, $anon_distinct_id: spec.other });
    case '$identify-no-anon':
      return event('$identify', spec.distinctId, spec.minute, properties);
    default:
      return event(spec.kind, spec.distinctId, spec.minute, { ...properties, alias: spec.other });
  }
}

describe('person processing against a naive model of the merge rules', () => {
  it('any sequence of events, in requests of any size, ends in the persons the rules give', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 25 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 25, maxLength: 25 }), async (specs, sizes) => {
        const scope = newProject();
        const events = specs.map(toEvent);
        const warnings = new WarningSink();
        for (let i = 0, r = 0; i < events.length; i += sizes[r++]!) await processPersons(scope, events.slice(i, i + sizes[r]!), warnings);
        const expected = oracle(events);
        expect(await outcome(scope)).toEqual(expected.persons);
        expect(warnings.list().map((w) => w.type)).toEqual(expected.warnings);
      }),
      { numRuns: 60 },
    );
  });

  it('personless events create no person', async () => {
    const scope = newProject();
    await processPersons(scope, [event('$pageview', 'x', 1, { $process_person_profile: false, $set: { a: 1 } })], new WarningSink());
    expect(await outcome(scope)).toEqual([]);
  });
});

describe('person processing under concurrency', () => {
  it('parallel requests for one new distinct id make one person and lose no property', async () => {
    const scope = newProject();
    // Reversed, so the request carrying the earliest event tends to lose the race to create the person.
    await Promise.all(Array.from({ length: 50 }, (_, i) => processPersons(scope, [event('$set', 'new-user', 49 - i, { $set: { [`k${49 - i}`]: 49 - i } })], new WarningSink())));
    const persons = await outcome(scope);
    expect(persons).toHaveLength(1);
    expect(persons[0]!.ids).toEqual(['new-user']);
    expect(persons[0]!.properties).toEqual(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])));
    expect(persons[0]!.createdAt).toBe(Date.UTC(2026, 0, 1, 0, 0));
  });

  it('merges racing with captures lose no distinct id and no property write', async () => {
    const scope = newProject();
    const users = 6;
    const anonsPerUser = 5;
    const requests: NormalizedEvent[][] = [];
    const expectedKeys = new Map<string, Set<string>>();
    let key = 0;
    const note = (user: number) => {
      key += 1;
      const keys = expectedKeys.get(`user${user}`) ?? new Set<string>();
      keys.add(`k${key}`);
      expectedKeys.set(`user${user}`, keys);
      return { [`k${key}`]: key };
    };
    for (let user = 0; user < users; user++) {
      for (let anon = 0; anon < anonsPerUser; anon++) {
        const anonId = `anon-${user}-${anon}`;
        requests.push([event('$pageview', anonId, 10, { $set: note(user) })]);
        requests.push([event('$identify', `user${user}`, 20, { $anon_distinct_id: anonId, $set: note(user) })]);
        requests.push([event('$pageview', anonId, 30, { $set: note(user) }), event('$pageview', `user${user}`, 31, { $set: note(user) })]);
      }
    }
    // Shuffle deterministically so identify and capture requests interleave.
    const order = requests.map((r, i) => [((i * 7919) % 101) / 101, r] as const).sort((a, b) => a[0] - b[0]);
    await Promise.all(order.map(([, batch]) => processPersons(scope, batch, new WarningSink())));
    const persons = await outcome(scope);
    expect(persons).toHaveLength(users);
    for (const person of persons) {
      const user = person.ids.find((id) => id.startsWith('user'))!;
      const n = user.slice(4);
      expect(person.ids).toEqual([...Array.from({ length: anonsPerUser }, (_, a) => `anon-${n}-${a}`), user].sort());
      expect(person.isIdentified).toBe(true);
      expect(new Set(Object.keys(person.properties))).toEqual(expectedKeys.get(user));
    }
  });
});

describe('merges racing with merges', () => {
  it('opposite $merge_dangerously requests between identified persons end in one person holding every key', async () => {
    const scope = newProject();
    const pairs = 12;
    for (let i = 0; i < pairs; i++) {
      await processPersons(scope, [event('$identify', `left${i}`, 1, { $anon_distinct_id: `l-anon${i}`, $set: { [`left${i}`]: 1 } })], new WarningSink());
      await processPersons(scope, [event('$identify', `right${i}`, 2, { $anon_distinct_id: `r-anon${i}`, $set: { [`right${i}`]: 1 } })], new WarningSink());
    }
    const requests = Array.from({ length: pairs }, (_, i) => [
      [event('$merge_dangerously', `left${i}`, 3, { alias: `right${i}`, $set: { [`a${i}`]: 1 } })],
      [event('$merge_dangerously', `right${i}`, 4, { alias: `left${i}`, $set: { [`b${i}`]: 1 } })],
      [event('$pageview', `l-anon${i}`, 5, { $set: { [`c${i}`]: 1 } })],
      [event('$pageview', `r-anon${i}`, 6, { $set: { [`d${i}`]: 1 } })],
    ]).flat();
    await Promise.all(requests.map((batch) => processPersons(scope, batch, new WarningSink())));
    const persons = await outcome(scope);
    expect(persons).toHaveLength(pairs);
    for (let i = 0; i < pairs; i++) {
      const person = persons.find((p) => p.ids.includes(`left${i}`))!;
      expect(person.ids).toEqual([`l-anon${i}`, `left${i}`, `r-anon${i}`, `right${i}`].sort());
      expect(Object.keys(person.properties).sort()).toEqual([`a${i}`, `b${i}`, `c${i}`, `d${i}`, `left${i}`, `right${i}`].sort());
      expect(person.isIdentified).toBe(true);
    }
  });
});

describe('person processing at the edges of the merge protocol', () => {
  it('a new person still being written when a merge takes its distinct id loses neither the id nor its properties', async () => {
    const scope = newProject();
    await processPersons(scope, [event('$pageview', 'U', 1, { $set: { seed: 1 } })], new WarningSink());
    // The same project seen by a request whose person insert is held back until a merge of its new
    // distinct id X into U has run to the end (it creates X's person, merges it away and deletes it).
    const slow = new ProjectScope(scope.project, collections);
    const insertMany = slow.data.persons.insertMany.bind(slow.data.persons);
    let merged: Promise<void> | undefined;
    slow.data.persons.insertMany = (async (...args: Parameters<typeof insertMany>) => {
      merged ??= processPersons(scope, [event('$identify', 'U', 5, { $anon_distinct_id: 'X' })], new WarningSink());
      await merged;
      return insertMany(...args);
    }) as typeof insertMany;
    await processPersons(slow, [event('$pageview', 'X', 2, { $set: { r1: 1 } })], new WarningSink());
    expect(merged).toBeDefined();
    expect(await outcome(scope)).toEqual([{ ids: ['U', 'X'], properties: { seed: 1, r1: 1 }, isIdentified: true, createdAt: Date.UTC(2026, 0, 1, 0, 1) }]);
    expect(await scope.data.persons.countDocuments()).toBe(1);
  });

  it('three merges that freeze persons into each other in a ring end in one person', async () => {
    const scope = newProject();
    for (let round = 0; round < 6; round++) {
      const [a, b, c] = ['a', 'b', 'c'].map((n) => `${n}${round}`) as [string, string, string];
      for (const id of [a, b, c]) await processPersons(scope, [event('$identify', id, 1, { $anon_distinct_id: `anon-${id}`, $set: { [id]: 1 } })], new WarningSink());
      await Promise.all([
        processPersons(scope, [event('$merge_dangerously', a, 2, { alias: b })], new WarningSink()),
        processPersons(scope, [event('$merge_dangerously', b, 2, { alias: c })], new WarningSink()),
        processPersons(scope, [event('$merge_dangerously', c, 2, { alias: a })], new WarningSink()),
      ]);
      const persons = (await outcome(scope)).filter((p) => p.ids.includes(a) || p.ids.includes(b) || p.ids.includes(c));
      expect(persons).toHaveLength(1);
      expect(persons[0]!.ids).toEqual([a, b, c, `anon-${a}`, `anon-${b}`, `anon-${c}`].sort());
      expect(Object.keys(persons[0]!.properties).sort()).toEqual([a, b, c]);
    }
  });

  it('a person frozen into a merge target that was deleted becomes a person of its own again', async () => {
    const scope = newProject();
    await processPersons(scope, [event('$pageview', 'source', 1, { $set: { kept: true } }), event('$pageview', 'target', 1)], new WarningSink());
    const store = new PersonStore(scope);
    const source = (await store.resolve('source', new Date(), false))!;
    const target = (await store.resolve('target', new Date(), false))!;
    expect(await store.freeze(source._id, target._id, true)).not.toBeNull();
    await new PersonService().delete(scope, target._id, false);
    await processPersons(scope, [event('$pageview', 'source', 3, { $set: { later: 1 } })], new WarningSink());
    expect(await outcome(scope)).toEqual([{ ids: ['source'], properties: { kept: true, later: 1 }, isIdentified: false, createdAt: Date.UTC(2026, 0, 1, 0, 1) }]);
  });

  it('person properties with an empty name are ignored with a warning, and the rest are applied', async () => {
    const scope = newProject();
    const warnings = new WarningSink();
    await processPersons(scope, [event('$set', 'u', 1, { $set: { '': 1, ok: 2 }, $unset: [''] })], warnings);
    expect((await outcome(scope))[0]!.properties).toEqual({ ok: 2 });
    expect(warnings.list().map((w) => [w.type, w.details.count])).toEqual([['invalid_person_property', 2]]);
  });
});

describe('a person that outgrows the database', () => {
  it('a change that would take a person past 16 MB is refused with a warning, without failing the request', async () => {
    const scope = newProject();
    const big = 'x'.repeat(900 * 1024);
    const warnings = new WarningSink();
    // Each request adds under 1 MB (the capture limit per event); the person passes 16 MB after about 18.
    for (let i = 0; i < 20; i++) await processPersons(scope, [event('$set', 'hoarder', i, { $set: { [`k${i}`]: big } })], warnings);
    const refused = warnings.list().filter((w) => w.type === 'person_write_refused');
    expect(refused.length).toBeGreaterThan(0);
    const stored = Object.keys((await outcome(scope))[0]!.properties);
    expect(stored.length).toBe(20 - refused.length);
    // Shrinking still works, and then growing again.
    await processPersons(scope, [event('$set', 'hoarder', 30, { $unset: ['k0', 'k1', 'k2'] }), event('$set', 'hoarder', 31, { $set: { small: 1 } })], warnings);
    expect((await outcome(scope))[0]!.properties.small).toBe(1);
  });
});
