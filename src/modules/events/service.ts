import { ObjectId, type Filter } from 'mongodb';
import type { EventDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../graphql/connections.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { resolveEntityFilters } from './entity-filters.ts';
import { compileEventFilter, type EventFilter } from './filters.ts';
import { toEventModel, type EventModel } from './model.ts';

/** Reading events: newest first, keyset-paginated on (timestamp, _id) so pages stay stable while events arrive. */
export class EventService {
  /** Bound on every user-driven read, so one heavy filter cannot hold the database. */
  constructor(private readonly maxTimeMS = 15_000) {}

  /** `extra` narrows further (e.g. a person's distinct ids); it is trusted, never user input. */
  async list(scope: ProjectScope, filter: EventFilter | null | undefined, size: number, after?: string | null, extra: Filter<EventDocument>[] = []): Promise<Page<EventModel>> {
    const resolved = await resolveEntityFilters(scope, filter, this.maxTimeMS);
    const conditions: Filter<EventDocument>[] = [compileEventFilter(resolved.filter), ...resolved.conditions, ...extra];
    if (after) conditions.push(olderThan(after));
    const docs = await scope
      .findEvents({ $and: conditions }, { sort: { timestamp: -1, _id: -1 }, limit: size + 1, maxTimeMS: this.maxTimeMS })
      .toArray();
    const page = toPage(docs, size, (doc) => encodeCursor([doc.timestamp.getTime(), doc._id.toHexString()]));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toEventModel(e.node) })), pageInfo: page.pageInfo };
  }

  async byUuid(scope: ProjectScope, uuid: string): Promise<EventModel | null> {
    const doc = await scope.findEvent({ uuid: uuid.toLowerCase() });
    return doc === null ? null : toEventModel(doc);
  }
}

/** What {@link EventService.list} puts in a cursor: epoch milliseconds and the `_id` in hex. */
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/;

function olderThan(cursor: string): Filter<EventDocument> {
  const [ms, id] = decodeCursor(cursor, ['number', 'string']) as [number, string];
  // An out-of-range instant would be stored as an invalid date and silently match nothing (or everything).
  const timestamp = new Date(ms);
  if (!Number.isSafeInteger(ms) || Number.isNaN(timestamp.getTime()) || !OBJECT_ID_HEX.test(id)) {
    throw new BadUserInputError('"after" is not a cursor returned by this list.');
  }
  return { $or: [{ timestamp: { $lt: timestamp } }, { timestamp, _id: { $lt: new ObjectId(id) } }] };
}
