import type { MongoBulkWriteError } from 'mongodb';
import type { PersonDocument } from '../../db/documents.ts';
import { permanentFailures } from '../../db/write-errors.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import type { WarningSink } from '../../ingest/warnings.ts';
import { identityOf, mergeIdentities } from './merge.ts';
import { NetOps, PERSON_EVENTS, applyPersonOps, personOpsOf, type PersonOps } from './property-ops.ts';
import { MAX_ATTEMPTS, PersonConflictError, PersonStore, personIdFor } from './person-store.ts';

/** PostHog's rule: `$process_person_profile: false` makes an event personless, unless it carries groups. */
export function processesPerson(event: NormalizedEvent): boolean {
  return event.properties.$process_person_profile !== false || event.groups !== undefined;
}

/**
 * Person processing for one request's events, in their order: merges for identity events, then the
 * property operations of each event on its person. Plain events cost two queries per request
 * (distinct ids → persons), new distinct ids two more, and changed persons one bulk write; identity
 * events go through the merge protocol one by one.
 */
export async function processPersons(scope: ProjectScope, events: NormalizedEvent[], warnings: WarningSink): Promise<void> {
  const work = events.filter(processesPerson);
  if (work.length === 0) return;
  const batch = new PersonBatch(new PersonStore(scope), warnings);
  await batch.prefetch(work);
  for (const event of work) await batch.apply(event);
  await batch.flush();
}

/** A person as this request sees it: what was read plus this request's changes, and those changes folded for one write. */
interface Working {
  id: string;
  /** The stored properties with this request's operations applied: decides which changes are worth a write. */
  properties: Record<string, unknown>;
  createdAt: Date;
  /** A `createdAt` lower than the stored one, to write. */
  lowerCreatedAt?: Date;
  net: NetOps;
  /** Worth a write (PostHog skips writes whose only changes are high-churn keys; those ride along later). */
  dirty: boolean;
  /** Created by this request and not inserted yet: the insert carries all its properties. */
  isNew?: boolean;
}

class PersonBatch {
  /** distinct id → person id, as last read. */
  private readonly mapped = new Map<string, string>();
  private readonly people = new Map<string, Working>();

  constructor(
    private readonly store: PersonStore,
    private readonly warnings: WarningSink,
  ) {}

  /**
   * Reads every distinct id the request names and their persons in two queries, and creates the
   * persons of distinct ids that first appear as a plain event's sender (identity events create theirs
   * through the merge rules, so those are left to them).
   */
  async prefetch(events: NormalizedEvent[]): Promise<void> {
    const firstSeen = new Map<string, { plain: boolean; at: Date }>();
    for (const event of events) {
      const identity = identityOf(event);
      const ids = identity === undefined ? [event.distinctId] : [identity.into, identity.other];
      ids.forEach((id, i) => {
        if (!firstSeen.has(id)) firstSeen.set(id, { plain: identity === undefined && i === 0, at: event.timestamp });
      });
    }
    const found = await this.store.mappings([...firstSeen.keys()]);
    const fresh = [...firstSeen].filter(([id, seen]) => seen.plain && !found.has(id)).map(([id]) => id);
    const created = new Set<string>();
    if (fresh.length > 0) {
      const claimed = await this.store.claimMany(fresh.map((id) => ({ distinctId: id, at: firstSeen.get(id)!.at })));
      const projectId = this.store.scope.projectId;
      for (const id of fresh) {
        const personId = personIdFor(projectId, id);
        // Ours (or a concurrent creator's with the same derived id): the document is written at flush,
        // with this request's properties already in it, instead of an insert and then an update.
        if (claimed.get(id) !== personId) continue;
        created.add(personId);
        this.people.set(personId, { ...workingOf({ _id: personId, projectId, properties: {}, isIdentified: false, createdAt: firstSeen.get(id)!.at, version: 0, updatedAt: new Date() }), isNew: true });
      }
      for (const [id, personId] of claimed) found.set(id, personId);
    }
    for (const [id, personId] of found) this.mapped.set(id, personId);
    const docs = await this.store.persons([...new Set(found.values())].filter((id) => !created.has(id)));
    for (const doc of docs.values()) if (doc.mergingInto === undefined) this.people.set(doc._id, workingOf(doc));
  }

  async apply(event: NormalizedEvent): Promise<void> {
    const ops = personOpsOf(event.event, event.properties);
    if (ops.ignored !== undefined) this.warnings.add('invalid_person_property', { message: 'Person properties with an empty name were ignored.', count: ops.ignored }, event);
    const identity = identityOf(event);
    if (identity !== undefined && identity.other !== identity.into) {
      // The merge reads and writes persons itself, and may move any cached person, so every pending
      // change goes first (identity events are a small share of traffic).
      await this.flush();
      const outcome = await mergeIdentities(this.store, identity, event, ops, this.warnings);
      if (outcome.personId !== null) await this.adopt(outcome.personId, outcome.merged ? [identity.into, identity.other] : [identity.into]);
      if (outcome.applied) return;
    }
    const person = await this.personOf(event.distinctId, event.timestamp);
    this.change(person, ops, event.timestamp, PERSON_EVENTS.has(event.event));
  }

  /**
   * Writes every person with changes worth writing, in one bulk write of atomic updates; `only` limits
   * it to the persons of those distinct ids. A person frozen or merged away meanwhile gets its changes
   * applied to the survivor instead.
   */
  async flush(only?: string[]): Promise<void> {
    const ids = only === undefined ? [...this.people.keys()] : only.map((d) => this.mapped.get(d)).filter((id): id is string => id !== undefined);
    const touched = [...new Set(ids)].map((id) => this.people.get(id)).filter((w): w is Working => w !== undefined);
    const inserts = touched.filter((w) => w.isNew);
    if (inserts.length > 0) {
      const lost = await this.store.insertPersons(inserts.map(documentOf));
      // A concurrent merge may have created, merged away and deleted this very person (same derived id)
      // between our claim and our insert; then the insert revived it with no distinct id. Its merge
      // record is written before the delete, so it is visible now: undo the insert and write to the survivor.
      const inserted = inserts.filter((w) => !lost.has(w.id)).map((w) => w.id);
      const revived = await this.store.mergedAway(inserted);
      if (revived.size > 0) await this.store.scope.data.persons.deleteMany({ _id: { $in: [...revived] } });
      for (const working of inserts) {
        working.isNew = false;
        if (lost.has(working.id) || revived.has(working.id)) {
          // Someone created it first: apply this request's changes, and its earliest timestamp, as an update.
          working.dirty = true;
          working.lowerCreatedAt = working.createdAt;
        } else {
          settle(working);
        }
      }
    }
    const pending = touched.filter((w) => w.dirty);
    if (pending.length === 0) return;
    const operations = pending.map((w) => ({ updateOne: { filter: { _id: w.id, mergingInto: { $exists: false } }, update: updateOf(w) } }));
    let matched: number;
    let refused: number[] = [];
    try {
      matched = (await this.store.scope.data.persons.bulkWrite(operations, { ordered: false })).matchedCount;
    } catch (error) {
      // A person grown past what the database stores (16 MB): that change is dropped with a warning
      // rather than failing every retry of the request; its events are still stored.
      refused = permanentFailures(error, operations.length);
      matched = (error as MongoBulkWriteError).result.matchedCount;
      for (const index of refused) this.warnings.add('person_write_refused', { personId: pending[index]!.id, message: 'The database refused the person update (too large or malformed properties); the person was not changed.' });
    }
    if (matched + refused.length < pending.length) {
      // Which ones missed is not reported per operation. The operations are idempotent, so each is
      // applied again on its own, and whichever finds its person gone or frozen goes to the survivor.
      for (const [i, working] of pending.entries()) {
        if (refused.includes(i)) continue;
        if (!(await this.store.update(working.id, working.net, { createdAt: working.lowerCreatedAt }))) await this.writeToSurvivor(working);
      }
    }
    for (const working of pending) settle(working);
  }

  /** The person was merged away or deleted under us: resolve its distinct id again and write there. */
  private async writeToSurvivor(working: Working): Promise<void> {
    const distinctId = this.anyDistinctIdOf(working.id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await this.store.resolve(distinctId, working.lowerCreatedAt ?? working.createdAt, true);
      if (doc === null) break;
      if (await this.store.update(doc._id, working.net, { createdAt: working.lowerCreatedAt })) {
        if (doc._id !== working.id) this.retarget(working.id, doc._id);
        return;
      }
    }
    throw new PersonConflictError(`person of ${distinctId} kept changing during write`);
  }

  private async personOf(distinctId: string, at: Date): Promise<Working> {
    const personId = this.mapped.get(distinctId);
    const cached = personId === undefined ? undefined : this.people.get(personId);
    if (cached !== undefined) return cached;
    const doc = await this.store.resolve(distinctId, at, true);
    if (doc === null) throw new PersonConflictError(`no person for ${distinctId}`);
    this.remember(doc, [distinctId]);
    return this.people.get(doc._id)!;
  }

  private change(working: Working, ops: PersonOps, at: Date, force: boolean): void {
    working.net.add(ops);
    const outcome = applyPersonOps(working.properties, ops);
    if (outcome.significant || (force && outcome.changed)) working.dirty = true;
    if (at < working.createdAt) {
      working.createdAt = at;
      working.lowerCreatedAt = at;
      working.dirty = true;
    }
  }

  /** After a merge step: reads the person these distinct ids now belong to. */
  private async adopt(personId: string, distinctIds: string[]): Promise<void> {
    const doc = await this.store.person(personId);
    if (doc === null || doc.mergingInto !== undefined) {
      // Changed again already; forget what we knew so the next event resolves afresh.
      for (const id of distinctIds) this.mapped.delete(id);
      return;
    }
    this.remember(doc, distinctIds);
  }

  private remember(doc: PersonDocument, distinctIds: string[]): void {
    for (const id of distinctIds) {
      const previous = this.mapped.get(id);
      if (previous !== undefined && previous !== doc._id) this.retarget(previous, doc._id);
      this.mapped.set(id, doc._id);
    }
    this.people.set(doc._id, workingOf(doc));
  }

  /** A person merged away: every cached distinct id of it now belongs to the survivor. */
  private retarget(from: string, to: string): void {
    this.people.delete(from);
    for (const [id, personId] of this.mapped) if (personId === from) this.mapped.set(id, to);
  }

  private anyDistinctIdOf(personId: string): string {
    for (const [id, mapped] of this.mapped) if (mapped === personId) return id;
    throw new PersonConflictError(`no distinct id known for person ${personId}`);
  }
}

function workingOf(doc: PersonDocument): Working {
  return { id: doc._id, properties: { ...doc.properties }, createdAt: doc.createdAt, net: new NetOps(), dirty: false };
}

function updateOf(working: Working): Record<string, unknown>[] {
  const fields: Record<string, unknown> = { version: { $add: ['$version', 1] }, updatedAt: '$$NOW' };
  if (working.lowerCreatedAt) fields.createdAt = { $min: ['$createdAt', { $literal: working.lowerCreatedAt }] };
  return [...working.net.stages(), { $set: fields }];
}

/** The document a new person is inserted as: this request's view of it, in full. */
function documentOf(working: Working): PersonDocument {
  return { _id: working.id, projectId: '', properties: working.properties, isIdentified: false, createdAt: working.createdAt, version: 0, updatedAt: new Date() };
}

/** Written: what is stored now is what this request believes. */
function settle(working: Working): void {
  working.net = new NetOps();
  working.dirty = false;
  delete working.lowerCreatedAt;
}
