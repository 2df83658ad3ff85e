import type { CaptureRequestInfo } from '../capture-service.ts';
import type { NormalizedEvent } from '../types.ts';

/** Server-side enrichment: user agent, GeoIP and the person properties PostHog derives from events. */
export class Enricher {
  /** Returns the event with enriched properties. Placeholder: filled in by the enrichment module. */
  enrich(event: NormalizedEvent, request: CaptureRequestInfo): NormalizedEvent {
    // PostHog records the sender's address unless the SDK sent one; GeoIP reads it.
    if (request.clientIp === undefined || Object.hasOwn(event.properties, '$ip')) return event;
    return { ...event, properties: { ...event.properties, $ip: request.clientIp } };
  }
}
