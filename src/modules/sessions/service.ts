import { ObjectId, type Filter } from 'mongodb';
import type { EventDocument, SessionDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../graphql/connections.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { toEventModel, type EventModel } from '../events/model.ts';
import { compileSessionFilter, type SessionFilter } from './filters.ts';
import { toSessionModel, type SessionModel } from './model.ts';

/**
 * Reading sessions (newest start first) and a session's events (in the order they happened), both
 * keyset-paginated on (time, _id) so pages stay stable while events arrive.
 */
export class SessionService {
  /** Bound on every user-driven read, so one heavy filter cannot hold the database. */
  constructor(private readonly maxTimeMS = 15_000) {}

  async list(scope: ProjectScope, filter: SessionFilter | null | undefined, size: number, after?: string | null): Promise<Page<SessionModel>> {
    const conditions: Filter<SessionDocument>[] = [compileSessionFilter(filter)];
    if (after) conditions.push(keysetAfter<SessionDocument>(after, 'startTimestamp', 'descending'));
    const docs = await scope.data.sessions
      .find({ $and: conditions }, { sort: { startTimestamp: -1, _id: -1 }, limit: size + 1, maxTimeMS: this.maxTimeMS })
      .toArray();
    const page = toPage(docs, size, (doc) => encodeCursor([doc.startTimestamp.getTime(), doc._id.toHexString()]));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toSessionModel(e.node, scope) })), pageInfo: page.pageInfo };
  }

  async byId(scope: ProjectScope, sessionId: string): Promise<SessionModel | null> {
    const doc = await scope.data.sessions.findOne({ sessionId: { $eq: sessionId } });
    return doc === null ? null : toSessionModel(doc, scope);
  }

  /** The session's events, oldest first: a session reads as a timeline. */
  async events(scope: ProjectScope, sessionId: string, size: number, after?: string | null): Promise<Page<EventModel>> {
    const conditions: Filter<EventDocument>[] = [{ sessionId: { $eq: sessionId } }];
    if (after) conditions.push(keysetAfter<EventDocument>(after, 'timestamp', 'ascending'));
    const docs = await scope
      .findEvents({ $and: conditions }, { sort: { timestamp: 1, _id: 1 }, limit: size + 1, maxTimeMS: this.maxTimeMS })
      .toArray();
    const page = toPage(docs, size, (doc) => encodeCursor([doc.timestamp.getTime(), doc._id.toHexString()]));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toEventModel(e.node) })), pageInfo: page.pageInfo };
  }
}

/** What a cursor of these lists holds: epoch milliseconds and the `_id` in hex. */
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/;

/** Items strictly after the cursor's position in a list sorted on `(field, _id)` in `direction`. */
function keysetAfter<T>(cursor: string, field: string, direction: 'ascending' | 'descending'): Filter<T> {
  const [ms, id] = decodeCursor(cursor, ['number', 'string']) as [number, string];
  // An out-of-range instant would be stored as an invalid date and silently match nothing (or everything).
  const instant = new Date(ms);
  if (!Number.isSafeInteger(ms) || Number.isNaN(instant.getTime()) || !OBJECT_ID_HEX.test(id)) {
    throw new BadUserInputError('"after" is not a cursor returned by this list.');
  }
  const beyond = direction === 'descending' ? '$lt' : '$gt';
  return { $or: [{ [field]: { [beyond]: instant } }, { [field]: instant, _id: { [beyond]: new ObjectId(id) } }] } as Filter<T>;
}
