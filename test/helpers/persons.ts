import { expect } from 'vitest';
import { allEvents, allPersons, ingestionWarnings, personById, sendBatch, sorted, type PersonView, type SentEvent } from './capture.ts';
import { createProject, type TestServer } from './server.ts';

/*
 * Shared setup for the persons test files (persons-merge-rules, persons-illegal-ids, persons-properties,
 * persons-mutations, persons-queries): a fresh project per test, small readers of persons and GraphQL
 * errors, and the runner for the merge-rule tables (posthog-semantics.md §2.6).
 */

export interface Project {
  id: string;
  token: string;
}

/** A new project on `server`, with its id and capture token. */
export async function newProject(server: TestServer, name: string): Promise<Project> {
  const project = await createProject(server, name);
  return { id: project._id, token: project.apiToken };
}

export function codesOf(res: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

/** The person holding `distinctId` in a list of persons. */
export function holderOf(persons: PersonView[], distinctId: string): PersonView | undefined {
  return persons.find((p) => p.distinctIds.includes(distinctId));
}

/** The person's properties without the `$`-keys the server may derive itself (e.g. `$initial_*`). */
export function ownProps(person: PersonView | null): Record<string, unknown> {
  expect(person).not.toBeNull();
  return Object.fromEntries(Object.entries(person!.properties).filter(([key]) => !key.startsWith('$')));
}

// ---------------------------------------------------------------------------------------------
// Merge cases: one table row is a sequence of capture requests and the persons they must leave
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

export interface MergeCase {
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
async function personIdsByDistinctId(server: TestServer, projectId: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const person of await allPersons(server, projectId)) for (const id of person.distinctIds) map.set(id, person.id);
  return map;
}

/** Sends the case's requests in order to a new project and checks everything the case expects. */
export async function runMergeCase(server: TestServer, c: MergeCase): Promise<void> {
  const project = await newProject(server, c.name);
  const snapshots: Map<string, string>[] = [];
  for (const step of c.steps) {
    await sendBatch(server, project.token, step);
    snapshots.push(await personIdsByDistinctId(server, project.id));
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

export const ALREADY = 'cannot_merge_already_identified' as const;
export const ILLEGAL = 'cannot_merge_with_illegal_distinct_id' as const;
