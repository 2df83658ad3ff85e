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
  ingestionWarnings,
  pageview,
  personById,
  personOf,
  query,
  sendBatch,
  sorted,
  type PersonView,
  type SentEvent,
} from '../helpers/capture.ts';
import { createKey, createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Identity and person processing, checked against posthog-semantics.md §2 (merge rules §2.6, property
 * operations §2.5, personless events §2.7) and the persons GraphQL contract. Events go over real HTTP
 * to `/batch` with the project token; each request is a separate `sendBatch` where send order is the
 * point. Outcomes are read back through GraphQL only. Every expected value below is worked out by hand
 * from the specification.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

interface Project {
  id: string;
  token: string;
}

async function newProject(name: string): Promise<Project> {
  const project = await createProject(server, name);
  return { id: project._id, token: project.apiToken };
}

function codesOf(res: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

/** The event with more properties (e.g. posthog-js's `$device_id`, which is not an anonymous id for merging). */
function withProperties(event: SentEvent, extra: Record<string, unknown>): SentEvent {
  return { ...event, properties: { ...event.properties, ...extra } };
}

/** The person holding `distinctId` in a list of persons. */
function holderOf(persons: PersonView[], distinctId: string): PersonView | undefined {
  return persons.find((p) => p.distinctIds.includes(distinctId));
}

// ---------------------------------------------------------------------------------------------
// The merge table
// ---------------------------------------------------------------------------------------------

interface ExpectedPerson {
  /** The person's distinct ids, in any order. */
  ids: string[];
  identified: boolean;
  /** Properties that must have exactly these values. */
  props?: Record<string, unknown>;
  /** Property keys that must be absent. */
  absent?: string[];
  createdAt?: string;
  /** The person keeps the id that `distinctId`'s person had right after request number `step`. */
  keepsIdOf?: { distinctId: string; step: number };
}

interface ExpectedWarning {
  type: 'cannot_merge_already_identified' | 'cannot_merge_with_illegal_distinct_id';
  /** The distinct id of the event that raised it. */
  distinctId: string;
  /** The event that raised it: `steps[step][index]`. */
  step: number;
  index?: number;
}

interface MergeCase {
  name: string;
  /** One capture request per entry, sent in this order. */
  steps: SentEvent[][];
  persons: ExpectedPerson[];
  /** When false, other persons may exist besides the listed ones (e.g. for an illegal distinct_id's own events). */
  exact?: boolean;
  warnings?: ExpectedWarning[];
  /** Persons that must no longer exist: the person `distinctId` had right after request `step`. */
  gone?: { distinctId: string; step: number }[];
}

/** distinct id → person id, for every person of the project. */
async function personIdsByDistinctId(projectId: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const person of await allPersons(server, projectId)) for (const id of person.distinctIds) map.set(id, person.id);
  return map;
}

async function runMergeCase(c: MergeCase): Promise<void> {
  const project = await newProject(c.name);
  const snapshots: Map<string, string>[] = [];
  for (const step of c.steps) {
    await sendBatch(server, project.token, step);
    snapshots.push(await personIdsByDistinctId(project.id));
  }
  const persons = await allPersons(server, project.id);

  // No distinct id belongs to two persons.
  const owners = persons.flatMap((p) => p.distinctIds);
  expect(new Set(owners).size, `distinct ids on more than one person: ${JSON.stringify(persons)}`).toBe(owners.length);

  if (c.exact ?? true) {
    expect(sorted(persons.map((p) => sorted(p.distinctIds).join(' | ')))).toEqual(sorted(c.persons.map((p) => sorted(p.ids).join(' | '))));
  }
  for (const expected of c.persons) {
    const person = holderOf(persons, expected.ids[0]!);
    expect(person, `a person holding ${expected.ids[0]}`).toBeDefined();
    expect(sorted(person!.distinctIds)).toEqual(sorted(expected.ids));
    expect(person!.isIdentified, `isIdentified of ${expected.ids.join(', ')}`).toBe(expected.identified);
    for (const [key, value] of Object.entries(expected.props ?? {})) expect(person!.properties[key], `property ${key}`).toEqual(value);
    for (const key of expected.absent ?? []) expect(person!.properties, `property ${key} should be absent`).not.toHaveProperty([key]);
    if (expected.createdAt !== undefined) expect(person!.createdAt).toBe(expected.createdAt);
    if (expected.keepsIdOf !== undefined) {
      const before = snapshots[expected.keepsIdOf.step]!.get(expected.keepsIdOf.distinctId);
      expect(before, `${expected.keepsIdOf.distinctId} had a person after request ${expected.keepsIdOf.step}`).toBeDefined();
      expect(person!.id).toBe(before);
    }
  }

  for (const gone of c.gone ?? []) {
    const id = snapshots[gone.step]!.get(gone.distinctId);
    expect(id, `${gone.distinctId} had a person after request ${gone.step}`).toBeDefined();
    expect(await personById(server, project.id, id!)).toBeNull();
  }

  // Every event is stored, keeps its distinct id, and resolves to the person its distinct id has now.
  const sent = c.steps.flat();
  const events = await allEvents(server, project.id);
  expect(sorted(events.map((e) => e.uuid))).toEqual(sorted(sent.map((e) => e.uuid)));
  for (const event of events) {
    const original = sent.find((s) => s.uuid === event.uuid)!;
    expect(event.distinctId).toBe(original.distinct_id);
    expect(event.person?.id ?? null, `person of ${event.event} from ${event.distinctId}`).toBe(holderOf(persons, event.distinctId)?.id ?? null);
  }

  const warnings = await ingestionWarnings(server, project.id);
  const got = sorted(warnings.map((w) => JSON.stringify([w.type, w.distinctId, w.eventUuid])));
  const want = sorted((c.warnings ?? []).map((w) => JSON.stringify([w.type, w.distinctId, c.steps[w.step]![w.index ?? 0]!.uuid])));
  expect(got).toEqual(want);
}

const ALREADY = 'cannot_merge_already_identified' as const;
const ILLEGAL = 'cannot_merge_with_illegal_distinct_id' as const;

const MERGE_CASES: MergeCase[] = [
  {
    name: 'same id: an $identify naming itself as the anonymous id merges nothing and identifies no one',
    steps: [[identify('self', 'self', 1, { $set: { email: 'self@example.com' } })]],
    persons: [{ ids: ['self'], identified: false, props: { email: 'self@example.com' } }],
  },
  {
    name: 'same id: a $create_alias of itself (posthog-node self-alias) merges nothing',
    steps: [[pageview('self', 1)], [alias('self', 'self', 2)]],
    persons: [{ ids: ['self'], identified: false, keepsIdOf: { distinctId: 'self', step: 0 } }],
  },
  {
    name: 'neither id has a person: $identify creates one identified person with both ids and the $set/$set_once',
    steps: [[identify('user', 'anon', 3, { $set: { email: 'user@example.com' }, $set_once: { first_plan: 'free' } })]],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { email: 'user@example.com', first_plan: 'free' }, createdAt: at(3) }],
  },
  {
    name: 'neither id has a person: $create_alias creates one identified person with both ids',
    steps: [[alias('user', 'legacy-id', 1)]],
    persons: [{ ids: ['legacy-id', 'user'], identified: true }],
  },
  {
    name: 'neither id has a person: $merge_dangerously creates one identified person with both ids',
    steps: [[alias('user', 'other-id', 1, '$merge_dangerously')]],
    persons: [{ ids: ['other-id', 'user'], identified: true }],
  },
  {
    name: 'only the distinct_id has a person: the anonymous id joins it',
    steps: [[pageview('user', 1, { $set: { plan: 'pro' } })], [identify('user', 'anon', 2)]],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'pro' }, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'only the anonymous id has a person: the distinct_id joins it',
    steps: [[pageview('anon', 1, { $set: { color: 'red' } })], [identify('user', 'anon', 2, { $set: { email: 'u@example.com' } })]],
    persons: [
      { ids: ['anon', 'user'], identified: true, props: { color: 'red', email: 'u@example.com' }, keepsIdOf: { distinctId: 'anon', step: 0 } },
    ],
  },
  {
    name: '$create_alias where only the alias has a person: the distinct_id joins it',
    steps: [[pageview('old-id', 1)], [alias('new-id', 'old-id', 2)]],
    persons: [{ ids: ['new-id', 'old-id'], identified: true, keepsIdOf: { distinctId: 'old-id', step: 0 } }],
  },
  {
    name: '$create_alias where only the distinct_id has a person: the alias joins it',
    steps: [[pageview('main', 1)], [alias('main', 'crm-123', 2)]],
    persons: [{ ids: ['crm-123', 'main'], identified: true, keepsIdOf: { distinctId: 'main', step: 0 } }],
  },
  {
    name: 'exactly one has a person, and it is identified: the new id still joins it, without a warning',
    steps: [[identify('user', 'anon', 1)], [alias('new-device', 'user', 2)]],
    persons: [{ ids: ['anon', 'new-device', 'user'], identified: true, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'both ids already on the same person: nothing merges and nothing warns; the $set still applies',
    steps: [
      [identify('user', 'anon', 1, { $set: { plan: 'a' } })],
      [identify('user', 'anon', 2, { $set: { plan: 'b' } })],
      [alias('user', 'anon', 3), alias('anon', 'user', 4)],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'b' }, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'different persons, anonymous source: merged into the target; target wins conflicts; earlier createdAt; source person gone',
    steps: [
      [pageview('anon', 1, { $set: { color: 'red', plan: 'free' } })],
      [pageview('user', 5, { $set: { plan: 'pro', email: 'u@example.com' } })],
      [identify('user', 'anon', 6)],
    ],
    persons: [
      {
        ids: ['anon', 'user'],
        identified: true,
        props: { color: 'red', plan: 'pro', email: 'u@example.com' },
        createdAt: at(1),
        keepsIdOf: { distinctId: 'user', step: 1 },
      },
    ],
    gone: [{ distinctId: 'anon', step: 1 }],
  },
  {
    name: 'different persons: the merging event’s own $set/$set_once/$unset apply after the merge',
    steps: [
      [pageview('anon', 1, { $set: { color: 'red', plan: 'free', tmp: 1 } })],
      [pageview('user', 2, { $set: { plan: 'pro' } })],
      [identify('user', 'anon', 3, { $set: { plan: 'enterprise' }, $set_once: { color: 'blue', first: 'x' }, $unset: ['tmp'] })],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'enterprise', color: 'red', first: 'x' }, absent: ['tmp'] }],
  },
  {
    name: 'different persons merged by $create_alias (alias side anonymous): target wins conflicts',
    steps: [
      [pageview('alias-id', 1, { $set: { a: 1, shared: 'alias' } })],
      [pageview('main', 2, { $set: { shared: 'main' } })],
      [alias('main', 'alias-id', 3)],
    ],
    persons: [{ ids: ['alias-id', 'main'], identified: true, props: { a: 1, shared: 'main' }, createdAt: at(1), keepsIdOf: { distinctId: 'main', step: 1 } }],
    gone: [{ distinctId: 'alias-id', step: 1 }],
  },
  {
    name: 'a returning user on a new device: the second anonymous person folds into the identified one',
    steps: [[pageview('anon-1', 1)], [identify('user', 'anon-1', 2)], [pageview('anon-2', 3, { $set: { device: 'phone' } })], [identify('user', 'anon-2', 4)]],
    persons: [{ ids: ['anon-1', 'anon-2', 'user'], identified: true, props: { device: 'phone' }, createdAt: at(1), keepsIdOf: { distinctId: 'user', step: 1 } }],
    gone: [{ distinctId: 'anon-2', step: 2 }],
  },
  {
    name: 'different persons, identified source, $identify: refused with cannot_merge_already_identified; the event goes to the target',
    steps: [
      [identify('other-user', 'other-anon', 1, { $set: { plan: 'other' } })],
      [pageview('user', 2, { $set: { plan: 'mine' } })],
      [identify('user', 'other-user', 3, { $set: { email: 'user@example.com' } })],
    ],
    persons: [
      { ids: ['other-anon', 'other-user'], identified: true, props: { plan: 'other' }, absent: ['email'] },
      // Every merge path marks the target identified, the refused one too (§2.6).
      { ids: ['user'], identified: true, props: { plan: 'mine', email: 'user@example.com' }, keepsIdOf: { distinctId: 'user', step: 1 } },
    ],
    warnings: [{ type: ALREADY, distinctId: 'user', step: 2 }],
  },
  {
    name: 'different persons, identified source, $create_alias: refused with cannot_merge_already_identified',
    steps: [[identify('a-user', 'a-anon', 1)], [pageview('main', 2)], [alias('main', 'a-user', 3)]],
    persons: [
      { ids: ['a-anon', 'a-user'], identified: true },
      { ids: ['main'], identified: true },
    ],
    warnings: [{ type: ALREADY, distinctId: 'main', step: 2 }],
  },
  {
    name: 'different persons, identified source, $merge_dangerously: merged anyway',
    steps: [
      [identify('a-user', 'a-anon', 1, { $set: { plan: 'old', only_a: 1 } })],
      [identify('main', 'main-anon', 2, { $set: { plan: 'new' } })],
      [alias('main', 'a-user', 3, '$merge_dangerously')],
    ],
    persons: [
      {
        ids: ['a-anon', 'a-user', 'main', 'main-anon'],
        identified: true,
        props: { plan: 'new', only_a: 1 },
        createdAt: at(1),
        keepsIdOf: { distinctId: 'main', step: 1 },
      },
    ],
    gone: [{ distinctId: 'a-user', step: 1 }],
  },
  {
    name: 'issue #11873: identify Alice/a1, Bob/b1, then Alice with anonymous b1 is not merged',
    steps: [
      [pageview('a1', 1)],
      [identify('Alice', 'a1', 2, { $set: { name: 'Alice' } })],
      [pageview('b1', 3)],
      [identify('Bob', 'b1', 4, { $set: { name: 'Bob' } })],
      [identify('Alice', 'b1', 5)],
    ],
    persons: [
      { ids: ['Alice', 'a1'], identified: true, props: { name: 'Alice' } },
      { ids: ['Bob', 'b1'], identified: true, props: { name: 'Bob' } },
    ],
    warnings: [{ type: ALREADY, distinctId: 'Alice', step: 4 }],
  },
  {
    name: '$identify without $anon_distinct_id neither merges nor identifies (even with $device_id)',
    steps: [[pageview('anon', 1)], [withProperties(identify('user', undefined, 2, { $set: { email: 'u@example.com' } }), { $device_id: 'anon' })]],
    persons: [
      { ids: ['anon'], identified: false, absent: ['email'] },
      { ids: ['user'], identified: false, props: { email: 'u@example.com' } },
    ],
  },
  {
    name: '$identify without $anon_distinct_id on an existing person only applies its properties',
    steps: [[pageview('u', 1)], [identify('u', undefined, 2, { $set: { email: 'u@example.com' } })]],
    persons: [{ ids: ['u'], identified: false, props: { email: 'u@example.com' }, keepsIdOf: { distinctId: 'u', step: 0 } }],
  },
  {
    name: 'an identify merge and plain events in one request are processed in order',
    steps: [
      [
        pageview('anon', 1, { $set: { step: 'anon' } }),
        identify('user', 'anon', 2, { $set: { step: 'identify' } }),
        pageview('user', 3, { $set: { step: 'after' } }),
        pageview('anon', 4, { $set_once: { first_seen: 'anon' } }),
      ],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { step: 'after', first_seen: 'anon' }, createdAt: at(1) }],
  },
];

describe('merge rules (§2.6), one row per case', () => {
  it.each(MERGE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runMergeCase(c);
  });
});

// ---------------------------------------------------------------------------------------------
// Illegal distinct ids
// ---------------------------------------------------------------------------------------------

const ILLEGAL_IDS: [string, string][] = [
  // case-insensitive
  ['anonymous', 'anonymous'],
  ['Anonymous', 'anonymous, any case'],
  ['guest', 'guest'],
  ['GUEST', 'guest, any case'],
  ['distinctid', 'distinctid'],
  ['DistinctId', 'distinctid, any case'],
  ['distinct_id', 'distinct_id'],
  ['id', 'id'],
  ['ID', 'id, any case'],
  ['not_authenticated', 'not_authenticated'],
  ['Not_Authenticated', 'not_authenticated, any case'],
  ['email', 'email'],
  ['EMAIL', 'email, any case'],
  ['undefined', 'undefined'],
  ['Undefined', 'undefined, any case'],
  ['true', 'true'],
  ['TRUE', 'true, any case'],
  ['false', 'false'],
  ['False', 'false, any case'],
  // case-sensitive
  ['[object Object]', '[object Object]'],
  ['NaN', 'NaN'],
  ['None', 'None'],
  ['none', 'none'],
  ['null', 'null'],
  ['0', '0'],
  // quoted forms
  ['"null"', 'double-quoted null'],
  ["'null'", 'single-quoted null'],
  ['"anonymous"', 'double-quoted anonymous'],
  ["'guest'", 'single-quoted guest'],
  ['"[object Object]"', 'double-quoted [object Object]'],
  ["'undefined'", 'single-quoted undefined'],
  ['"0"', 'double-quoted 0'],
  // empty, whitespace, and surrounding whitespace (checked after trimming)
  ['', 'empty'],
  [' ', 'one space'],
  ['   ', 'spaces'],
  ['\t', 'a tab'],
  [' \n ', 'newline and spaces'],
  [' null ', 'null with spaces around'],
  ['  anonymous\t', 'anonymous with whitespace around'],
];

/** Near misses that are ordinary ids: the case-sensitive entries in other cases, and look-alikes. */
const LEGAL_LOOKALIKES: [string, string][] = [
  ['NULL', 'null in capitals (null is case-sensitive)'],
  ['Null', 'Null (null is case-sensitive)'],
  ['nan', 'nan (NaN is case-sensitive)'],
  ['NONE', 'NONE (None/none are case-sensitive)'],
  ['[OBJECT OBJECT]', '[OBJECT OBJECT] ([object Object] is case-sensitive)'],
  ['00', '00'],
  ['anonymous-42', 'anonymous-42'],
  ['guest@example.com', 'guest@example.com'],
  ['"hello"', 'a quoted ordinary word'],
];

describe('illegal distinct ids never merge (§2.6)', () => {
  const rows: MergeCase[] = [];
  for (const [id, label] of ILLEGAL_IDS) {
    rows.push({
      name: `$identify with $anon_distinct_id ${label} (${JSON.stringify(id)})`,
      steps: [[identify('real-user', id, 1, { $set: { email: 'real@example.com' } })]],
      persons: [{ ids: ['real-user'], identified: false, props: { email: 'real@example.com' } }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 0 }],
    });
  }
  for (const [id, label] of ILLEGAL_IDS.filter(([id]) => ['null', 'anonymous', '[object Object]', ' ', 'GUEST', '"null"'].includes(id))) {
    rows.push({
      name: `$create_alias with alias ${label} (${JSON.stringify(id)})`,
      steps: [[pageview('real-user', 1)], [alias('real-user', id, 2)]],
      persons: [{ ids: ['real-user'], identified: false, keepsIdOf: { distinctId: 'real-user', step: 0 } }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 1 }],
    });
  }
  for (const id of ['undefined', 'distinct_id', "'null'"]) {
    rows.push({
      name: `$merge_dangerously with alias ${JSON.stringify(id)}`,
      steps: [[pageview('real-user', 1)], [alias('real-user', id, 2, '$merge_dangerously')]],
      persons: [{ ids: ['real-user'], identified: false }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 1 }],
    });
  }
  // The illegal id as the identified side (the event's own distinct_id). Capture refuses blank distinct ids,
  // so only non-blank ones can be sent; whether the placeholder gets a person of its own is not the point.
  for (const id of ['anonymous', 'null', '[object Object]', 'undefined', '0', 'Email', '"guest"']) {
    rows.push({
      name: `$identify from distinct_id ${JSON.stringify(id)} with a real anonymous id`,
      steps: [[pageview('real-anon', 1, { $set: { seen: true } })], [identify(id, 'real-anon', 2)]],
      persons: [{ ids: ['real-anon'], identified: false, props: { seen: true }, keepsIdOf: { distinctId: 'real-anon', step: 0 } }],
      exact: false,
      warnings: [{ type: ILLEGAL, distinctId: id, step: 1 }],
    });
  }
  for (const [id, label] of LEGAL_LOOKALIKES) {
    rows.push({
      name: `control: ${label} is an ordinary id and merges (${JSON.stringify(id)})`,
      steps: [[identify('real-user', id, 1)]],
      persons: [{ ids: ['real-user', id], identified: true }],
    });
  }

  it.each(rows.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runMergeCase(c);
  });

  it('an illegal-id warning names the event, and the event itself is stored and attributed to the sender', async () => {
    const project = await newProject('illegal warning details');
    const event = identify('someone', 'null', 7);
    await sendBatch(server, project.token, [event]);
    const [warning, ...rest] = await ingestionWarnings(server, project.id);
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ type: ILLEGAL, eventUuid: event.uuid, distinctId: 'someone' });
    expect(Number.isNaN(Date.parse(warning!.timestamp))).toBe(false);
    const stored = await eventByUuid(server, project.id, event.uuid);
    expect(stored).toMatchObject({ event: '$identify', distinctId: 'someone' });
    expect(stored!.person?.distinctIds).toEqual(['someone']);

    // Warnings are listed newest first.
    await sendBatch(server, project.token, [pageview('x1', 8)]);
    await sendBatch(server, project.token, [identify('x2', 'x1', 9)]);
    await sendBatch(server, project.token, [pageview('other', 10)]);
    await sendBatch(server, project.token, [identify('someone', 'x2', 11)]);
    const later = alias('someone', 'anonymous', 12);
    await sendBatch(server, project.token, [later]);
    const listed = await ingestionWarnings(server, project.id);
    expect(listed.map((w) => [w.type, w.eventUuid])).toEqual([
      [ILLEGAL, later.uuid],
      [ALREADY, expect.any(String)],
      [ILLEGAL, event.uuid],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property operations
// ---------------------------------------------------------------------------------------------

/** The person's properties without the `$`-keys the server may derive itself (e.g. `$initial_*`). */
function ownProps(person: PersonView | null): Record<string, unknown> {
  expect(person).not.toBeNull();
  return Object.fromEntries(Object.entries(person!.properties).filter(([key]) => !key.startsWith('$')));
}

describe('person property operations (§2.5, §2.3 normalizeEvent)', () => {
  it('within one event: $set_once first, then $set, then $unset', async () => {
    const project = await newProject('ops within one event');
    await sendBatch(server, project.token, [
      pageview('u', 1, { $set_once: { a: 'once', b: 'once' }, $set: { a: 'set', c: 'set' }, $unset: ['b', 'c'] }),
    ]);
    // set_once: a=once, b=once; set: a=set, c=set; unset: b, c.
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ a: 'set' });
  });

  it('$set_once only fills keys the person does not have, and a null value counts as present', async () => {
    const project = await newProject('set once');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { plan: 'free', nothing: null } })]);
    await sendBatch(server, project.token, [pageview('u', 2, { $set_once: { plan: 'pro', signup: 'jan', nothing: 'filled' } })]);
    await sendBatch(server, project.token, [pageview('u', 3, { $set_once: { signup: 'feb' } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ plan: 'free', nothing: null, signup: 'jan' });
  });

  it('across requests, later events win, and $unset removes', async () => {
    const project = await newProject('ops across requests');
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
    const project = await newProject('ops in one request');
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
    const project = await newProject('unset forms');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { k1: 1, k2: 2, k3: 3, k4: 4 } })]);
    await sendBatch(server, project.token, [pageview('u', 2, { $unset: ['k1', 'k2', 'never-set'] })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ k3: 3, k4: 4 });
    await sendBatch(server, project.token, [pageview('u', 3, { $unset: { k3: 'any value', k4: null } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({});
  });

  it('top-level $set/$set_once (posthog-js) are merged with properties.$set/$set_once, and the top level wins', async () => {
    const project = await newProject('top-level ops');
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
    const project = await newProject('set event');
    await sendBatch(server, project.token, [ev('$set', 'u', { $set: { address: { city: 'Oslo', zip: '0150' }, tags: ['a', 'b'] } }, { timestamp: at(1) })]);
    await sendBatch(server, project.token, [ev('$set', 'u', { $set: { address: { city: 'Bergen' } } }, { timestamp: at(2) })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ address: { city: 'Bergen' }, tags: ['a', 'b'] });
  });

  it('property keys with dots and dollar signs come back as sent', async () => {
    const project = await newProject('odd keys');
    await sendBatch(server, project.token, [pageview('u', 1, { $set: { 'a.b': 1, 'price$': 2, 'x.y.z': 'deep' } })]);
    expect(ownProps(await personOf(server, project.id, 'u'))).toEqual({ 'a.b': 1, 'price$': 2, 'x.y.z': 'deep' });
  });
});

// ---------------------------------------------------------------------------------------------
// Personless events
// ---------------------------------------------------------------------------------------------

describe('personless events (§2.7)', () => {
  it('create no person; a later $identify naming the id as anonymous re-points the old events to the identified person', async () => {
    const project = await newProject('personless re-pointing');
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
    const project = await newProject('personless known id');
    await sendBatch(server, project.token, [pageview('known', 1, { $set: { plan: 'a' } })]);
    const personless = pageview('known', 2, { $process_person_profile: false, $set: { plan: 'b', extra: 1 } });
    await sendBatch(server, project.token, [personless]);
    const person = await personOf(server, project.id, 'known');
    expect(ownProps(person)).toEqual({ plan: 'a' });
    expect((await eventByUuid(server, project.id, personless.uuid))!.person?.id).toBe(person!.id);
  });

  it('once the distinct id gets a person through an ordinary event, its earlier personless events resolve to it', async () => {
    const project = await newProject('personless then person');
    const personless = pageview('later', 1, { $process_person_profile: false });
    await sendBatch(server, project.token, [personless]);
    await sendBatch(server, project.token, [pageview('later', 2, { $set: { plan: 'x' } })]);
    const person = await personOf(server, project.id, 'later');
    expect(ownProps(person)).toEqual({ plan: 'x' });
    expect((await eventByUuid(server, project.id, personless.uuid))!.person?.id).toBe(person!.id);
  });

  it('personless events from several distinct ids create no persons at all', async () => {
    const project = await newProject('personless only');
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
    const project = await newProject('created at');
    await sendBatch(server, project.token, [pageview('late', 30)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(30));
    await sendBatch(server, project.token, [pageview('late', 10)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(10));
    await sendBatch(server, project.token, [pageview('late', 20)]);
    expect((await personOf(server, project.id, 'late'))!.createdAt).toBe(at(10));
  });

  it('after a merge, an even earlier event of the merged-in id moves createdAt back', async () => {
    const project = await newProject('created at after merge');
    await sendBatch(server, project.token, [pageview('anon', 20)]);
    await sendBatch(server, project.token, [pageview('user', 15)]);
    await sendBatch(server, project.token, [identify('user', 'anon', 25)]);
    expect((await personOf(server, project.id, 'user'))!.createdAt).toBe(at(15));
    await sendBatch(server, project.token, [pageview('anon', 5)]);
    expect((await personOf(server, project.id, 'user'))!.createdAt).toBe(at(5));
  });
});

// ---------------------------------------------------------------------------------------------
// Events follow merges
// ---------------------------------------------------------------------------------------------

describe('events follow their distinct id’s person', () => {
  it('keep their distinctId after a merge; Event.person and Person.events follow the merge', async () => {
    const project = await newProject('events follow');
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
    const project = await newProject('person events paging');
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
    const project = await newProject('merge persons');
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
    const project = await newProject('merge several');
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
    const project = await newProject('merge unknown');
    await sendBatch(server, project.token, [pageview('x', 1), pageview('y', 2)]);
    const x = (await personOf(server, project.id, 'x'))!;
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(codesOf(await gql(server, MERGE, { p: project.id, into: x.id, from: [unknown] }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(codesOf(await gql(server, MERGE, { p: project.id, into: unknown, from: [x.id] }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(await allPersons(server, project.id)).toHaveLength(2);
  });

  it("cannot reach another project's person", async () => {
    const project = await newProject('merge isolation a');
    const other = await newProject('merge isolation b');
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
    const project = await newProject('split default');
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
    const project = await newProject('split keep');
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
    const project = await newProject('split restores');
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
    const project = await newProject('split errors');
    await sendBatch(server, project.token, [identify('user', 'anon', 1), pageview('stranger', 2)]);
    const person = (await personOf(server, project.id, 'user'))!;
    expect(codesOf(await gql(server, SPLIT, { p: project.id, id: person.id, keep: 'stranger' }, server.adminKey))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gql(server, SPLIT, { p: project.id, id: '00000000-0000-4000-8000-000000000000' }, server.adminKey))).toEqual(['NOT_FOUND']);
    expect(sorted((await personOf(server, project.id, 'user'))!.distinctIds)).toEqual(['anon', 'user']);
  });
});

describe('deletePerson', () => {
  it('deletes the person and its distinct ids but keeps the events; a later event creates a new person', async () => {
    const project = await newProject('delete keep events');
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
    const project = await newProject('delete with events');
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
    const project = await newProject('delete unknown');
    const res = await gql(server, DELETE, { p: project.id, id: '00000000-0000-4000-8000-000000000000' }, server.adminKey);
    expect(codesOf(res)).toEqual(['NOT_FOUND']);
  });
});

describe('person mutations need write access', () => {
  it('a QUERY_READ key gets FORBIDDEN, no key gets UNAUTHENTICATED, a PROJECT_WRITE key may act', async () => {
    const project = await newProject('person permissions');
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

// ---------------------------------------------------------------------------------------------
// Finding persons
// ---------------------------------------------------------------------------------------------

describe('finding persons', () => {
  let project: Project;
  let ids: Record<string, string>;

  beforeAll(async () => {
    project = await newProject('find persons');
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
    const other = await newProject('find persons elsewhere');
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
    const project = await newProject('events by person property');
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
