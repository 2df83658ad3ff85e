import type { WithId } from 'mongodb';
import type { EventDocument } from '../../db/documents.ts';
import { unescapeKeys } from '../../db/property-keys.ts';

/** An event as the API presents it: properties carry the keys the SDK sent. */
export interface EventModel {
  id: string;
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  createdAt: Date;
  projectId: string;
  properties: Record<string, unknown>;
}

export function toEventModel(doc: WithId<EventDocument> | EventDocument): EventModel {
  return {
    id: doc.uuid,
    uuid: doc.uuid,
    event: doc.event,
    distinctId: doc.distinctId,
    timestamp: doc.timestamp,
    createdAt: doc.createdAt,
    projectId: doc.projectId,
    properties: unescapeKeys(doc.properties) as Record<string, unknown>,
  };
}
