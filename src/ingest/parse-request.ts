import { CaptureError } from './errors.ts';
import { isPlainObject, jsonTypeName, own, type JsonObject } from './json-values.ts';
import { parseSentAt } from './timestamps.ts';

/** Personal API keys start with this; they grant account access and must never be accepted on capture. */
const PERSONAL_KEY_PREFIX = 'phx_';

/** A capture payload split into its request-level fields and the raw events, token already settled. */
export interface ParsedCaptureRequest {
  token: string;
  /** The events as sent, not yet checked one by one. */
  events: unknown[];
  sentAt?: Date;
  historicalMigration: boolean;
}

function stringToken(value: unknown): string | undefined {
  // Blank tokens count as absent: SDKs without a configured key send "" next to the real batch key.
  return typeof value === 'string' && value.trim().length > 0 ? value : undefined;
}

/** The token one event carries: a top-level `token`/`$token`/`api_key`, else `properties.token`. */
function eventTokens(event: unknown): string[] {
  if (!isPlainObject(event)) return [];
  const topLevel = ['token', '$token', 'api_key'].map((key) => stringToken(own(event, key))).filter((t) => t !== undefined);
  if (topLevel.length > 0) return topLevel;
  const properties = own(event, 'properties');
  const fromProperties = isPlainObject(properties) ? stringToken(own(properties, 'token')) : undefined;
  return fromProperties === undefined ? [] : [fromProperties];
}

/**
 * Settles the request's token. Every token found (batch-level and per event) must be the same one, so a
 * request can never spread events over two projects. The token is only checked for shape here; the
 * caller looks it up.
 */
function settleToken(batchTokens: string[], events: unknown[]): string {
  const found = new Set(batchTokens);
  for (const event of events) for (const token of eventTokens(event)) found.add(token);
  if (found.size > 1) {
    throw new CaptureError('multiple_tokens', `the request carries ${found.size} different project tokens; send one per request`);
  }
  const [token] = found;
  if (token === undefined) {
    throw new CaptureError('ingest_key_required', 'no project token: send api_key (or token) with the batch or on each event');
  }
  if (token.startsWith(PERSONAL_KEY_PREFIX)) {
    throw new CaptureError('personal_key_not_allowed', 'personal API keys cannot capture events; use the project token');
  }
  return token;
}

function batchShape(payload: JsonObject): { events: unknown[]; batchTokens: string[] } {
  const batch = own(payload, 'batch');
  if (!Array.isArray(batch)) throw new CaptureError('invalid_payload', `batch must be an array, got ${jsonTypeName(batch)}`);
  const batchTokens = [own(payload, 'api_key'), own(payload, 'token')].map(stringToken).filter((t) => t !== undefined);
  return { events: batch, batchTokens };
}

/**
 * Reads the three payload shapes capture accepts, tried in PostHog's order: a bare array of events,
 * `{api_key|token, batch, sent_at?, historical_migration?}`, then a single event object. Throws for
 * request-level problems only: wrong shape, no events, missing, mixed or personal tokens.
 */
export function parseCaptureRequest(payload: unknown, query: URLSearchParams): ParsedCaptureRequest {
  let events: unknown[];
  let batchTokens: string[] = [];
  let bodySentAt: unknown;
  let historicalMigration = false;

  if (Array.isArray(payload)) {
    events = payload;
  } else if (isPlainObject(payload) && Object.hasOwn(payload, 'batch')) {
    ({ events, batchTokens } = batchShape(payload));
    bodySentAt = own(payload, 'sent_at');
    historicalMigration = own(payload, 'historical_migration') === true;
  } else if (isPlainObject(payload)) {
    events = [payload];
  } else {
    throw new CaptureError('invalid_payload', `payload must be a JSON object or array, got ${jsonTypeName(payload)}`);
  }
  if (events.length === 0) throw new CaptureError('no_events', 'the request contains no events');

  const token = settleToken(batchTokens, events);
  const querySentAt = query.get('sent_at') || query.get('_');
  const sentAt = parseSentAt(bodySentAt, querySentAt);
  const parsed: ParsedCaptureRequest = { token, events, historicalMigration };
  if (sentAt !== undefined) parsed.sentAt = sentAt;
  return parsed;
}
