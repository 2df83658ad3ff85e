import type { Filter } from 'mongodb';
import type { PersonDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { escapeKey, unescapeKeys } from '../../db/property-keys.ts';
import { DURABLE } from '../../db/write-concern.ts';
import { toPage, type Page } from '../../graphql/connections.ts';
import { keysetAfter, keysetCursor } from '../../graphql/keyset.ts';
import { BadUserInputError, NotFoundError } from '../../graphql/errors.ts';
import { searchPattern } from '../../graphql/search-text.ts';
import { compilePropertyCondition, MAX_PROPERTY_FILTERS, type PropertyFilter } from '../events/filters.ts';
import { identityOf } from './merge.ts';
import { toPersonModel, type PersonModel } from './model.ts';
import { PersonConflictError, PersonStore, MAX_ATTEMPTS, newPersonId } from './person-store.ts';
import { applyPersonOps, personOpsOf } from './property-ops.ts';

/** Identifying properties `search` looks in, besides distinct ids. */
const SEARCHED_PROPERTIES = ['email', 'name', 'username', '$email'];
const MAX_SEARCH_DISTINCT_IDS = 1000;

/** What a person search may narrow by. */
export interface PersonQuery {
  search?: string | null;
  properties?: PropertyFilter[] | null;
}

/** Reading persons, and the operations PostHog lacks: explicit merge, split and delete. */
export class PersonService {
  constructor(private readonly maxTimeMS = 15_000) {}

  /** Newest first, keyset-paginated on (createdAt, _id). */
  async list(scope: ProjectScope, query: PersonQuery, size: number, after?: string | null): Promise<Page<PersonModel>> {
    const and: Filter<PersonDocument>[] = [{ mergingInto: { $exists: false } }];
    const properties = query.properties ?? [];
    if (properties.length > MAX_PROPERTY_FILTERS) throw new BadUserInputError(`At most ${MAX_PROPERTY_FILTERS} property filters.`);
    for (const property of properties) {
      if ((property.type ?? 'person') !== 'person' && property.type !== 'event') {
        throw new BadUserInputError(`Person lists filter on person properties; "${property.type}" filters are not available here.`);
      }
      and.push(compilePropertyCondition(property) as Filter<PersonDocument>);
    }
    if (query.search) and.push(await this.searchCondition(scope, query.search));
    if (after) and.push(keysetAfter<PersonDocument>(after, 'createdAt', 'descending', 'string'));
    const docs = await scope.data.persons.find({ $and: and }, { sort: { createdAt: -1, _id: -1 }, limit: size + 1, maxTimeMS: this.maxTimeMS }).toArray();
    const page = toPage(docs, size, (doc) => keysetCursor(doc.createdAt, doc._id));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toPersonModel(e.node) })), pageInfo: page.pageInfo };
  }

  /**
   * A distinct id equal to or starting with the text, or the text inside an identifying property,
   * case-insensitively. The text is always escaped: it is a literal, never a pattern.
   */
  private async searchCondition(scope: ProjectScope, search: string): Promise<Filter<PersonDocument>> {
    const text = search.trim();
    const literal = searchPattern(text);
    if (literal === undefined) return {};
    const byDistinctId = await scope.data.personDistinctIds
      .find({ distinctId: { $regex: `^${literal}` } }, { projection: { personId: 1 }, limit: MAX_SEARCH_DISTINCT_IDS, maxTimeMS: this.maxTimeMS })
      .toArray();
    return {
      $or: [
        { _id: { $in: [text, ...byDistinctId.map((d) => d.personId)] } },
        ...SEARCHED_PROPERTIES.map((key) => ({ [`properties.${escapeKey(key)}`]: { $regex: literal, $options: 'i' } })),
      ],
    };
  }

  async byId(scope: ProjectScope, id: string): Promise<PersonModel | null> {
    const doc = await scope.data.persons.findOne({ _id: id, mergingInto: { $exists: false } });
    return doc === null ? null : toPersonModel(doc);
  }

  async byDistinctId(scope: ProjectScope, distinctId: string): Promise<PersonModel | null> {
    const doc = await new PersonStore(scope).resolve(distinctId, new Date(), false);
    return doc === null ? null : toPersonModel(doc);
  }

  /**
   * Merges each of `fromIds` into `intoId`, whatever their identified state (PostHog refuses merges of
   * identified persons at ingestion; this is the deliberate, explicit way). Target properties win.
   */
  async merge(scope: ProjectScope, intoId: string, fromIds: string[]): Promise<PersonModel> {
    if (fromIds.length === 0 || fromIds.length > 100) throw new BadUserInputError('Merge 1 to 100 persons at a time.');
    if (fromIds.includes(intoId)) throw new BadUserInputError('A person cannot be merged into itself.');
    const store = new PersonStore(scope);
    for (const fromId of new Set(fromIds)) {
      for (let attempt = 0; ; attempt++) {
        if (attempt === MAX_ATTEMPTS) throw new PersonConflictError(`person ${fromId} kept changing`);
        const [target, source] = await Promise.all([this.live(store, intoId), this.live(store, fromId)]);
        const frozen = await store.freeze(source._id, target._id, false);
        if (frozen !== null) {
          await store.finishMerge(frozen);
          break;
        }
      }
    }
    return toPersonModel(await this.live(store, intoId));
  }

  /**
   * Undoes merges: every distinct id of the person but `keepDistinctId` (default: the oldest) gets a
   * person of its own, rebuilt from that id's own events — their property operations in timestamp
   * order, `createdAt` from its first event, identified if it sent an identity event.
   */
  async split(scope: ProjectScope, personId: string, keepDistinctId?: string | null): Promise<PersonModel[]> {
    const store = new PersonStore(scope);
    const person = await this.live(store, personId);
    const mappings = await scope.data.personDistinctIds.find({ personId: person._id }, { sort: { createdAt: 1, distinctId: 1 } }).toArray();
    const keep = keepDistinctId ?? mappings[0]?.distinctId;
    if (keep === undefined || !mappings.some((m) => m.distinctId === keep)) {
      throw new BadUserInputError(`"${keepDistinctId}" is not a distinct id of person ${personId}.`);
    }
    const result = [toPersonModel(person)];
    for (const { distinctId } of mappings) {
      if (distinctId === keep) continue;
      const rebuilt = await this.rebuild(scope, distinctId);
      const id = newPersonId();
      await scope.data.persons.insertOne({ _id: id, ...rebuilt, version: 0, updatedAt: new Date() });
      // Only if the id still belongs to this person: a concurrent merge may have moved it meanwhile.
      const moved = await scope.data.personDistinctIds.updateOne({ distinctId, personId: person._id }, { $set: { personId: id } });
      if (moved.matchedCount === 0) {
        await scope.data.persons.deleteOne({ _id: id });
        continue;
      }
      result.push(toPersonModel({ ...rebuilt, _id: id, projectId: scope.projectId, version: 0, updatedAt: new Date() }));
    }
    return result;
  }

  private async rebuild(scope: ProjectScope, distinctId: string): Promise<Pick<PersonDocument, 'properties' | 'isIdentified' | 'createdAt'>> {
    const properties: Record<string, unknown> = {};
    let isIdentified = false;
    let createdAt: Date | undefined;
    const events = scope.findEvents({ distinctId }, { sort: { timestamp: 1, _id: 1 }, projection: { event: 1, distinctId: 1, timestamp: 1, properties: 1 }, maxTimeMS: this.maxTimeMS * 4 });
    for await (const doc of events) {
      createdAt ??= doc.timestamp;
      const raw = unescapeKeys(doc.properties) as Record<string, unknown>;
      if (raw.$process_person_profile === false) continue;
      applyPersonOps(properties, personOpsOf(doc.event, raw));
      if (identityOf({ uuid: '', event: doc.event, distinctId, timestamp: doc.timestamp, properties: raw }) !== undefined) isIdentified = true;
    }
    return { properties, isIdentified, createdAt: createdAt ?? new Date() };
  }

  /** Deletes the person and its distinct ids (and, if asked, their events and sessions) for a privacy request. */
  async delete(scope: ProjectScope, personId: string, deleteEvents: boolean): Promise<{ deletedDistinctIds: number; deletedEvents: number }> {
    const store = new PersonStore(scope);
    const person = await this.live(store, personId);
    const distinctIds = (await scope.data.personDistinctIds.find({ personId: person._id }, { projection: { distinctId: 1 } }).toArray()).map((d) => d.distinctId);
    // Distinct ids first: a capture that still holds the person then finds it gone when it writes,
    // and re-resolves its distinct id to a new person instead of reviving this one.
    const removed = await scope.data.personDistinctIds.deleteMany({ personId: person._id }, { writeConcern: DURABLE });
    await scope.data.persons.deleteOne({ _id: person._id }, { writeConcern: DURABLE });
    // Merge records into it lead nowhere now; dropping them lets a distinct id that comes back create
    // its person afresh (the derived id of a merged-away person may be claimed again).
    await scope.data.personMerges.deleteMany({ $or: [{ personId: person._id }, { mergedInto: person._id }] });
    let deletedEvents = 0;
    if (deleteEvents && distinctIds.length > 0) {
      deletedEvents = (await scope.data.events.deleteMany({ distinctId: { $in: distinctIds } }, { writeConcern: DURABLE })).deletedCount;
      await scope.data.sessions.deleteMany({ distinctId: { $in: distinctIds } }, { writeConcern: DURABLE });
    }
    return { deletedDistinctIds: removed.deletedCount, deletedEvents };
  }

  /** A person that exists and is not being merged away, finishing a pending merge if it meets one. */
  private async live(store: PersonStore, id: string): Promise<PersonDocument> {
    const person = await store.person(id);
    if (person === null) throw new NotFoundError(`Person "${id}" was not found.`);
    if (person.mergingInto === undefined) return person;
    await store.finishMerge(person);
    throw new NotFoundError(`Person "${id}" was merged into "${person.mergingInto}".`);
  }
}

