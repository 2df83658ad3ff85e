import type { Filter } from 'mongodb';
import type { EventDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { toPage, type Page } from '../../graphql/connections.ts';
import { keysetAfter, keysetCursor } from '../../graphql/keyset.ts';
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
    if (after) conditions.push(keysetAfter<EventDocument>(after, 'timestamp', 'descending'));
    const docs = await scope
      .findEvents({ $and: conditions }, { sort: { timestamp: -1, _id: -1 }, limit: size + 1, maxTimeMS: this.maxTimeMS })
      .toArray();
    const page = toPage(docs, size, (doc) => keysetCursor(doc.timestamp, doc._id));
    return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toEventModel(e.node) })), pageInfo: page.pageInfo };
  }

  async byUuid(scope: ProjectScope, uuid: string): Promise<EventModel | null> {
    const doc = await scope.findEvent({ uuid: uuid.toLowerCase() });
    return doc === null ? null : toEventModel(doc);
  }
}

