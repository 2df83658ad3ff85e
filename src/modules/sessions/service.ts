import type { Filter } from 'mongodb';
import type { EventDocument, SessionDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { toPage, type Page } from '../../graphql/connections.ts';
import { keysetAfter, keysetCursor } from '../../graphql/keyset.ts';
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
    const page = toPage(docs, size, (doc) => keysetCursor(doc.startTimestamp, doc._id));
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
    const page = toPage(docs, size, (doc) => keysetCursor(doc.timestamp, doc._id));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toEventModel(e.node) })), pageInfo: page.pageInfo };
  }
}

