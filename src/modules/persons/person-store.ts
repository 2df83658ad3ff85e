import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { PersonDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { duplicateKeyIndexes, isDuplicateKey } from '../../db/write-errors.ts';
import { NetOps } from './property-ops.ts';

/** Fixed namespace for person ids derived from a project and a distinct id. */
const PERSON_NAMESPACE = '0b6b6d0e-5c1e-4b8e-9d3a-0f6c1f6f3a51';
/** How often a step that lost a race is re-run before the request gives up with 503 (PostHog retries 5 times). */
export const MAX_ATTEMPTS = 10;

/** Raised when persons kept changing under a step for {@link MAX_ATTEMPTS} tries; the request answers 503. */
export class PersonConflictError extends Error {}

/** Awaits a write whose only acceptable failures are duplicate keys (someone else created the same thing first). */
async function ignoringDuplicates(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (duplicateKeyIndexes(error) === undefined) throw error;
  }
}

/**
 * The id of the person first created for `distinctId`. Deterministic, so every request and process that
 * creates "the person of this new distinct id" at the same moment creates the same document, and the
 * upserts collapse into one.
 */
export function personIdFor(projectId: string, distinctId: string): string {
  return uuidv5(`${projectId}\u0000${distinctId}`, PERSON_NAMESPACE);
}

/** A fresh id for a person that no distinct id derives from (a split). */
export const newPersonId = (): string => randomUUID();

/**
 * The race-safe primitives of person storage. Nothing here reads, decides and writes without a guard:
 * distinct ids are claimed through the unique `{projectId, distinctId}` index, person properties change
 * only through atomic per-key updates (never a read-modify-write of the whole document), and a person
 * being merged is frozen (`mergingInto`) so that whoever meets it finishes the merge instead of writing
 * to it. `version` counts changes.
 */
export class PersonStore {
  constructor(readonly scope: ProjectScope) {}

  private get data() {
    return this.scope.data;
  }

  async mappings(distinctIds: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (distinctIds.length === 0) return found;
    const docs = await this.data.personDistinctIds.find({ distinctId: { $in: distinctIds } }, { projection: { distinctId: 1, personId: 1 } }).toArray();
    for (const doc of docs) found.set(doc.distinctId, doc.personId);
    return found;
  }

  async mapping(distinctId: string): Promise<string | undefined> {
    const doc = await this.data.personDistinctIds.findOne({ distinctId }, { projection: { personId: 1 } });
    return doc?.personId;
  }

  async persons(ids: string[]): Promise<Map<string, PersonDocument>> {
    const found = new Map<string, PersonDocument>();
    if (ids.length === 0) return found;
    for (const doc of await this.data.persons.find({ _id: { $in: ids } }).toArray()) found.set(doc._id, doc);
    return found;
  }

  person(id: string): Promise<PersonDocument | null> {
    return this.data.persons.findOne({ _id: id });
  }

  /**
   * Maps `distinctId` to `personId` unless it is mapped already; returns the person it maps to now.
   * Two concurrent claims of one new id both end with the winner's mapping.
   */
  async claim(distinctId: string, personId: string, at = new Date()): Promise<string> {
    try {
      const result = await this.data.personDistinctIds.updateOne({ distinctId }, { $setOnInsert: { personId, createdAt: at } }, { upsert: true });
      if (result.upsertedCount === 1) return personId;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const now = await this.mapping(distinctId);
    if (now === undefined) throw new PersonConflictError(`distinct id ${distinctId} vanished while being claimed`);
    return now;
  }

  /**
   * Claims many new distinct ids at once, each for its derived person id; returns the mappings
   * afterwards. A mapping's `createdAt` is the event time that claimed it, so "oldest distinct id"
   * means first seen in event time, whichever path created it.
   */
  async claimMany(claims: { distinctId: string; at: Date }[]): Promise<Map<string, string>> {
    if (claims.length === 0) return new Map();
    // Plain inserts (far cheaper than upserts): a concurrent request that claimed an id first makes
    // ours fail on the unique index, and the re-read below sees its claim.
    const docs = claims.map(({ distinctId, at }) => ({ distinctId, personId: personIdFor(this.scope.projectId, distinctId), createdAt: at }));
    await ignoringDuplicates(this.data.personDistinctIds.insertMany(docs, { ordered: false }));
    return this.mappings(claims.map((c) => c.distinctId));
  }

  /**
   * Inserts new persons (the scope stamps `projectId`); returns the ids that existed already
   * because a concurrent request created them first.
   */
  async insertPersons(docs: PersonDocument[]): Promise<Set<string>> {
    const lost = new Set<string>();
    try {
      await this.data.persons.insertMany(docs.map(({ projectId: _scoped, ...doc }) => doc), { ordered: false });
    } catch (error) {
      const existing = duplicateKeyIndexes(error);
      if (existing === undefined) throw error;
      for (const index of existing) lost.add(docs[index]!._id);
    }
    return lost;
  }

  /** Which of these persons were merged away (their merge records). */
  async mergedAway(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const records = await this.data.personMerges.find({ personId: { $in: ids } }, { projection: { personId: 1 } }).toArray();
    return new Set(records.map((r) => r.personId));
  }

  /** Creates person documents that are mapped to but missing; existing ones are left alone. */
  async ensurePersons(people: { id: string; createdAt: Date }[]): Promise<void> {
    if (people.length === 0) return;
    const now = new Date();
    const docs = people.map(({ id, createdAt }) => ({ _id: id, properties: {}, isIdentified: false, createdAt, version: 0, updatedAt: now }));
    await ignoringDuplicates(this.data.persons.insertMany(docs, { ordered: false }));
  }

  /**
   * The live person `distinctId` belongs to, following merges and finishing any merge left half done;
   * with `create`, a new distinct id gets a new person. Null when it has none and `create` is false.
   */
  async resolve(distinctId: string, at: Date, create: boolean): Promise<PersonDocument | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let personId = await this.mapping(distinctId);
      if (personId === undefined) {
        if (!create) return null;
        personId = await this.claim(distinctId, personIdFor(this.scope.projectId, distinctId), at);
      }
      const person = await this.person(personId);
      if (person === null) {
        await this.repairMissing(distinctId, personId, at);
        continue;
      }
      if (person.mergingInto !== undefined) {
        await this.finishMerge(person);
        continue;
      }
      return person;
    }
    throw new PersonConflictError(`person of ${distinctId} kept changing`);
  }

  /**
   * A mapping names a person that is not there. Either it was merged away (follow the merge record),
   * or it is being created right now, or it was deleted (the mapping is gone on a re-read).
   */
  async repairMissing(distinctId: string, personId: string, at: Date): Promise<void> {
    const merged = await this.data.personMerges.findOne({ personId });
    if (merged !== null) {
      await this.data.personDistinctIds.updateOne({ distinctId, personId }, { $set: { personId: merged.mergedInto } });
      return;
    }
    if ((await this.mapping(distinctId)) === personId) await this.ensurePersons([{ id: personId, createdAt: at }]);
  }

  /**
   * Applies folded operations to a live person in one atomic update: no read first, so concurrent
   * writers never overwrite each other's keys. `identify` marks the person identified; `createdAt`
   * lowers its creation time. False when the person is gone or frozen by a merge (the caller
   * re-resolves and applies to the survivor).
   */
  async update(personId: string, net: NetOps, change: { identify?: boolean; createdAt?: Date } = {}): Promise<boolean> {
    const fields: Record<string, unknown> = { version: { $add: ['$version', 1] }, updatedAt: '$$NOW' };
    if (change.identify) fields.isIdentified = true;
    if (change.createdAt) fields.createdAt = { $min: ['$createdAt', { $literal: change.createdAt }] };
    const result = await this.data.persons.updateOne({ _id: personId, mergingInto: { $exists: false } }, [...net.stages(), { $set: fields }]);
    return result.matchedCount === 1;
  }

  /**
   * Completes the merge of a frozen `source` into `source.mergingInto`, idempotently, from wherever
   * it stopped: fill the target's absent keys from the source (so the target's values win), move the
   * distinct ids, record the merge, delete the source. Returns the surviving person's id (the source's
   * own id if a merge cycle was broken in its favour meanwhile).
   */
  async finishMerge(source: PersonDocument, chain: string[] = [source._id]): Promise<string> {
    const targetId = source.mergingInto;
    if (targetId === undefined) throw new Error('finishMerge needs a person being merged');
    let target = await this.liveTarget(targetId, chain);
    if (target?._id === source._id) return source._id;
    if (target === null) return this.unfreeze(source, targetId);
    if (source.folded !== true) {
      for (let attempt = 0; ; attempt++) {
        if (await this.update(target._id, NetOps.fillAbsent(source.properties), { identify: true, createdAt: source.createdAt })) break;
        if (attempt === MAX_ATTEMPTS) throw new PersonConflictError(`merge target ${target._id} kept changing`);
        target = await this.liveTarget(target._id, chain);
        if (target?._id === source._id) return source._id;
        if (target === null) return this.unfreeze(source, targetId);
      }
      // Conditional: a cycle breaker may have unfrozen the source meanwhile. Then the source survives
      // and the target, frozen into it, will be folded back into it.
      const marked = await this.data.persons.updateOne({ _id: source._id, mergingInto: targetId }, { $set: { folded: true } });
      if (marked.matchedCount === 0) return source._id;
    }
    await this.data.personDistinctIds.updateMany({ personId: source._id }, { $set: { personId: target._id } });
    await this.data.personMerges.updateOne({ personId: source._id }, { $set: { mergedInto: target._id, mergedAt: new Date() } }, { upsert: true });
    await this.data.persons.deleteOne({ _id: source._id, mergingInto: targetId });
    return target._id;
  }

  /**
   * The merge target was deleted (a privacy request) before the merge finished: the source becomes a
   * person of its own again rather than blocking its distinct ids forever. Whatever it already folded
   * into the target went with the deletion.
   */
  private async unfreeze(source: PersonDocument, targetId: string): Promise<string> {
    await this.data.persons.updateOne({ _id: source._id, mergingInto: targetId }, { $unset: { mergingInto: '', folded: '' }, $inc: { version: 1 } });
    return source._id;
  }

  /**
   * The surviving person behind `personId`, following merge records and finishing the merges it meets.
   * `chain` holds the persons whose merges are being finished further up; meeting one of them again
   * means concurrent merges froze persons into each other in a cycle. The cycle is broken the same
   * way by everyone: its smallest-id member not yet folded is unfrozen and survives.
   */
  private async liveTarget(personId: string, chain: string[]): Promise<PersonDocument | null> {
    let id = personId;
    for (let hop = 0; hop < MAX_ATTEMPTS; hop++) {
      const person = await this.person(id);
      if (person !== null && person.mergingInto === undefined) return person;
      if (person !== null) {
        const loop = chain.indexOf(person._id);
        if (loop >= 0) {
          await this.breakCycle(chain.slice(loop));
          // If the person whose merge is being finished here was the one unfrozen, it survives: hand it back.
          const current = await this.person(chain.at(-1)!);
          if (current !== null && current.mergingInto === undefined) return current;
          // In a longer cycle the member unfrozen may lie further on: step past this one towards it.
          const again = await this.person(person._id);
          if (again?.mergingInto !== undefined) id = again.mergingInto;
          continue;
        }
        id = await this.finishMerge(person, [...chain, person._id]);
        continue;
      }
      const merged = await this.data.personMerges.findOne({ personId: id });
      if (merged === null) return null;
      id = merged.mergedInto;
    }
    throw new PersonConflictError(`merge chain of ${personId} too long`);
  }

  private async breakCycle(members: string[]): Promise<void> {
    // Every breaker must pick the same member: the smallest id not folded, whether or not another
    // breaker has unfrozen it already (then there is nothing left to do). Folded members stay frozen.
    const docs = await this.data.persons.find({ _id: { $in: members }, folded: { $exists: false } }).toArray();
    const survivor = docs.sort((a, b) => (a._id < b._id ? -1 : 1))[0];
    if (survivor === undefined || survivor.mergingInto === undefined) return;
    await this.data.persons.updateOne({ _id: survivor._id, mergingInto: { $exists: true }, folded: { $exists: false } }, { $unset: { mergingInto: '' }, $inc: { version: 1 } });
  }

  /**
   * Freezes `sourceId` for a merge into `targetId` and returns the frozen document, or null if it is
   * gone, already frozen, or (with `unidentifiedOnly`) became identified since the caller looked:
   * the caller starts over. From here on, every writer that meets the source finishes the merge first.
   */
  async freeze(sourceId: string, targetId: string, unidentifiedOnly: boolean): Promise<PersonDocument | null> {
    return this.data.persons.findOneAndUpdate(
      { _id: sourceId, mergingInto: { $exists: false }, ...(unidentifiedOnly ? { isIdentified: false } : {}) },
      { $set: { mergingInto: targetId }, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
  }
}
