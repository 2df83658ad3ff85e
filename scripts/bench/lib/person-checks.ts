import type { Db } from 'mongodb';
import { IdentityRole, type PersonWorkload } from './person-workload.ts';

/** What the database holds for one project's persons, and what is wrong with it. */
export interface PersonsFound {
  /** Persons not being merged away (no `mergingInto`). */
  persons: number;
  /** Persons frozen by a merge (`mergingInto` set): leftovers once ingestion is idle. */
  merging: number;
  distinctIds: number;
  /** Distinct ids with more than one row: the unique index on {projectId, distinctId} should make this 0. */
  duplicateIds: number;
  /** Distinct ids whose person does not exist. */
  danglingIds: number;
  /** Distinct ids still pointing at a person that is being merged away. */
  idsOnMergingPersons: number;
  /** Persons no distinct id points at. */
  orphanPersons: number;
  personOf: Map<string, string>;
}

/** Reads `persons` and `personDistinctIds` of one project with majority reads, and checks the mapping is a function onto live persons. */
export async function findPersons(db: Db, projectId: string): Promise<PersonsFound> {
  const majority = { readConcern: { level: 'majority' as const } };
  const persons = new Map<string, boolean>();
  for await (const p of db.collection<{ _id: string; projectId: string; mergingInto?: string }>('persons', majority).find({ projectId }, { projection: { _id: 1, mergingInto: 1 }, batchSize: 10_000 })) {
    persons.set(String(p._id), p.mergingInto !== undefined);
  }
  const personOf = new Map<string, string>();
  const referenced = new Set<string>();
  let rows = 0;
  let duplicateIds = 0;
  let danglingIds = 0;
  let idsOnMergingPersons = 0;
  const ids = db.collection<{ projectId: string; distinctId: string; personId: string }>('personDistinctIds', majority);
  for await (const row of ids.find({ projectId }, { projection: { _id: 0, distinctId: 1, personId: 1 }, batchSize: 10_000 })) {
    rows += 1;
    if (personOf.has(row.distinctId)) duplicateIds += 1;
    personOf.set(row.distinctId, row.personId);
    referenced.add(row.personId);
    const merging = persons.get(row.personId);
    if (merging === undefined) danglingIds += 1;
    else if (merging) idsOnMergingPersons += 1;
  }
  let live = 0;
  let orphanPersons = 0;
  for (const [id, merging] of persons) {
    if (!merging) live += 1;
    if (!merging && !referenced.has(id)) orphanPersons += 1;
  }
  return { persons: live, merging: persons.size - live, distinctIds: rows, duplicateIds, danglingIds, idsOnMergingPersons, orphanPersons, personOf };
}

/** The acknowledged events' identity graph compared with the persons a server following PostHog's merge rules must end with. */
export interface IdentityComparison {
  /** Users with at least one acknowledged event. */
  users: number;
  /** Persons expected: one per user, two where the user's anonymous and user ids both appear but the linking event was not acknowledged. */
  expectedPersons: number;
  expectedIds: number;
  /** Distinct ids of acknowledged events that map to no person. */
  missingIds: number;
  /** Users whose linked anonymous id and user id map to different persons: a merge that did not happen. */
  splitUsers: number;
  /** Persons holding the ids of more than one user: a merge that should not have happened. */
  sharedPersons: number;
}

export function compareIdentities(workload: PersonWorkload, acked: Iterable<string>, found: PersonsFound): IdentityComparison {
  const ANON = 1;
  const USER = 2;
  const LINKED = 4;
  const flags = new Map<number, number>();
  for (const uuid of acked) {
    const i = workload.indexOf.get(uuid);
    if (i === undefined) continue;
    const user = workload.userOf[i]!;
    const role = workload.roleOf[i]!;
    const bits =
      role === IdentityRole.Anonymous ? ANON : role === IdentityRole.Link ? ANON | USER | LINKED : USER;
    flags.set(user, (flags.get(user) ?? 0) | bits);
  }
  let expectedPersons = 0;
  let expectedIds = 0;
  let missingIds = 0;
  let splitUsers = 0;
  const usersOfPerson = new Map<string, number>();
  for (const [user, f] of flags) {
    const ids = [f & ANON ? workload.anonymousIdOf(user) : undefined, f & USER ? workload.userIdOf(user) : undefined].filter((id) => id !== undefined);
    expectedIds += ids.length;
    expectedPersons += f & LINKED ? 1 : ids.length;
    const persons = new Set<string>();
    for (const id of ids) {
      const person = found.personOf.get(id);
      if (person === undefined) missingIds += 1;
      else persons.add(person);
    }
    if (f & LINKED && persons.size > 1) splitUsers += 1;
    for (const person of persons) usersOfPerson.set(person, (usersOfPerson.get(person) ?? 0) + 1);
  }
  const sharedPersons = [...usersOfPerson.values()].filter((n) => n > 1).length;
  return { users: flags.size, expectedPersons, expectedIds, missingIds, splitUsers, sharedPersons };
}
