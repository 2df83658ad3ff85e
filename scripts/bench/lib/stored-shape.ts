import type { EventDocument } from '../../../src/db/documents.ts';
import { escapeKeys } from '../../../src/db/property-keys.ts';
import type { CaptureEvent } from './posthog-events.ts';

/**
 * The document the capture path stores for `event` (see CaptureService): the sender's address added as
 * `$ip`, property keys escaped, `sessionId` lifted onto the envelope, `projectId` stamped last. The raw
 * driver baseline inserts exactly these, so the comparison measures the HTTP path and nothing else.
 */
export function storedShape(event: CaptureEvent, projectId: string, createdAt: Date, clientIp: string): EventDocument {
  const properties = { ...event.properties };
  if (!Object.hasOwn(properties, '$ip')) properties.$ip = clientIp;
  const doc: Omit<EventDocument, 'projectId'> = {
    uuid: event.uuid,
    event: event.event,
    distinctId: event.distinct_id,
    timestamp: new Date(event.timestamp),
    properties: escapeKeys(properties) as Record<string, unknown>,
    createdAt,
  };
  const sessionId = properties.$session_id;
  if (typeof sessionId === 'string' && sessionId.length > 0) doc.sessionId = sessionId;
  return { ...doc, projectId };
}
