import { v7 as uuidv7 } from 'uuid';
import { CaptureError } from './errors.ts';
import { extractDistinctId, normalizeEventName, normalizeEventUuid } from './event-fields.ts';
import { exceedsDepth, isPlainObject, jsonTypeName, own } from './json-values.ts';
import { parseCaptureRequest } from './parse-request.ts';
import { buildProperties } from './properties.ts';
import { resolveTimestamp } from './timestamps.ts';
import type { EventRefusal, NormalizedBatch, NormalizedEvent } from './types.ts';

/** PostHog drops events over 1 MB; this is the per-event cap on the event's JSON unless told otherwise. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/**
 * Deepest nesting accepted in one event, the event object being level 1. Stored documents add a level or
 * two of envelope and MongoDB refuses depth 100; far before that, such nesting is a bug or an attack.
 */
export const MAX_EVENT_DEPTH = 32;

/** Options for {@link normalizeCaptureRequest}. */
export interface NormalizeOptions {
  /** Server receive time: the base for skew correction and the default timestamp. */
  now: Date;
  /** The request's query string, for `sent_at` / `_`. */
  query: URLSearchParams;
  route?: 'event' | 'batch' | 'engage';
  maxEventBytes?: number;
}

interface EventContext {
  now: Date;
  sentAt: Date | undefined;
  route: NormalizeOptions['route'];
  maxEventBytes: number;
}

/**
 * Turns a decoded capture payload into events ready to store. Request-level problems (shape, no events,
 * token) throw a CaptureError; a problem with one event refuses only that event, listed in `refused`
 * with its index, so one bad event never sinks its batch. The token is not looked up here.
 */
export function normalizeCaptureRequest(payload: unknown, opts: NormalizeOptions): NormalizedBatch {
  const request = parseCaptureRequest(payload, opts.query);
  const context: EventContext = {
    now: opts.now,
    sentAt: request.sentAt,
    route: opts.route,
    maxEventBytes: opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
  };
  const events: NormalizedEvent[] = [];
  const refused: EventRefusal[] = [];
  request.events.forEach((raw, index) => {
    const outcome = normalizeOne(raw, index, context);
    if ('refusal' in outcome) refused.push(outcome.refusal);
    else events.push(outcome.event);
  });
  return { token: request.token, events, refused, historicalMigration: request.historicalMigration };
}

type Outcome = { event: NormalizedEvent } | { refusal: EventRefusal };

function normalizeOne(raw: unknown, index: number, context: EventContext): Outcome {
  let knownUuid: string | undefined;
  try {
    if (!isPlainObject(raw)) {
      throw new CaptureError('invalid_payload', `event must be a JSON object, got ${jsonTypeName(raw)}`);
    }
    try {
      knownUuid = normalizeEventUuid(own(raw, 'uuid'));
    } catch {
      // Reported below, after the checks that say more about what is wrong with the event.
    }
    // Depth first: measuring the size re-serializes the event, which must not recurse unboundedly.
    if (exceedsDepth(raw, MAX_EVENT_DEPTH)) {
      throw new CaptureError('invalid_payload', `event nests objects or arrays deeper than ${MAX_EVENT_DEPTH} levels`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(raw), 'utf8');
    if (bytes > context.maxEventBytes) {
      throw new CaptureError('event_too_big', `event is ${bytes} bytes of JSON, over the ${context.maxEventBytes} byte limit`);
    }
    const clientUuid = normalizeEventUuid(own(raw, 'uuid'));
    const name = normalizeEventName(own(raw, 'event'), context.route);
    const properties = buildProperties(raw);
    const distinctId = extractDistinctId(raw, properties);
    const { timestamp, warning } = resolveTimestamp({
      now: context.now,
      timestamp: own(raw, 'timestamp'),
      sentAt: context.sentAt,
      offset: own(raw, 'offset'),
      ignoreSentAt: own(properties, '$ignore_sent_at') === true,
    });

    const event: NormalizedEvent = { uuid: clientUuid ?? uuidv7(), event: name, distinctId, timestamp, properties };
    const sessionId = own(properties, '$session_id');
    if (typeof sessionId === 'string' && sessionId.length > 0) event.sessionId = sessionId;
    if (warning !== undefined) event.warnings = [warning];
    return { event };
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    const refusal: EventRefusal = { index, code: error.code, message: error.message };
    if (knownUuid !== undefined) refusal.uuid = knownUuid;
    return { refusal };
  }
}
