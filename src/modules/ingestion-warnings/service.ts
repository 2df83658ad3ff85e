import type { Filter, WithId } from 'mongodb';
import type { IngestionWarningDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { toPage, type Page } from '../../graphql/connections.ts';
import { keysetAfter, keysetCursor } from '../../graphql/keyset.ts';

/** A warning as the API presents it. */
export interface IngestionWarningModel {
  id: string;
  type: string;
  details: Record<string, unknown>;
  eventUuid: string | null;
  distinctId: string | null;
  timestamp: Date;
}

const MAX_TIME_MS = 15_000;

/** Warnings newest first, keyset-paginated on (timestamp, _id) so pages stay stable while new warnings arrive. */
export async function listIngestionWarnings(scope: ProjectScope, size: number, after?: string | null): Promise<Page<IngestionWarningModel>> {
  const filter: Filter<IngestionWarningDocument> = after ? keysetAfter<IngestionWarningDocument>(after, 'timestamp', 'descending') : {};
  const docs = await scope.data.ingestionWarnings.find(filter, { sort: { timestamp: -1, _id: -1 }, limit: size + 1, maxTimeMS: MAX_TIME_MS }).toArray();
  const page = toPage(docs, size, (doc) => keysetCursor(doc.timestamp, doc._id));
  return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toModel(e.node) })), pageInfo: page.pageInfo };
}

function toModel(doc: WithId<IngestionWarningDocument>): IngestionWarningModel {
  return {
    id: doc._id.toHexString(),
    type: doc.type,
    details: doc.details ?? {},
    eventUuid: doc.eventUuid ?? null,
    distinctId: doc.distinctId ?? null,
    timestamp: doc.timestamp,
  };
}

