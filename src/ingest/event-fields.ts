import { CaptureError } from './errors.ts';
import { jsonTypeName, own, truncateCodePoints, type JsonObject } from './json-values.ts';

/** Event names and distinct ids are cut to this many characters, as PostHog does. */
export const MAX_NAME_CHARS = 200;

const HYPHENATED_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIMPLE_UUID = /^[0-9a-f]{32}$/i;

/**
 * The client's event uuid in canonical lowercase form, or undefined when it sent none (an empty string
 * counts as none). Accepts the forms PostHog's parser does (hyphenated, 32 bare hex digits, braced,
 * `urn:uuid:`); anything else is refused with `invalid_uuid`, since silently replacing it would break
 * the client's retries deduplicating.
 */
export function normalizeEventUuid(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new CaptureError('invalid_uuid', `uuid must be a string, got ${jsonTypeName(value)}`);
  }
  let text = value;
  if (/^urn:uuid:/i.test(text)) text = text.slice('urn:uuid:'.length);
  else if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  if (SIMPLE_UUID.test(text)) {
    text = `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }
  if (!HYPHENATED_UUID.test(text)) {
    throw new CaptureError('invalid_uuid', `uuid is not a valid UUID: ${JSON.stringify(value.slice(0, 64))}`);
  }
  return text.toLowerCase();
}

/**
 * The event name, cut to 200 characters. Missing or empty is refused; `/engage` requests, which never
 * carry a name, become `$identify`. A name that is not a string is refused rather than guessed at.
 */
export function normalizeEventName(value: unknown, route: string | undefined): string {
  if (value === undefined || value === null || value === '') {
    if (route === 'engage') return '$identify';
    throw new CaptureError('missing_event_name', 'event name is missing or empty');
  }
  if (typeof value !== 'string') {
    throw new CaptureError('invalid_payload', `event name must be a string, got ${jsonTypeName(value)}`);
  }
  return truncateCodePoints(value, MAX_NAME_CHARS);
}

/**
 * The distinct id: top-level `distinct_id`/`$distinct_id`, else `properties.distinct_id`. Non-strings
 * are stored as their JSON text (23 → "23"), NUL becomes U+FFFD, surrounding whitespace is kept, and
 * the result is cut to 200 characters. Missing, null, empty or whitespace-only is refused.
 */
export function extractDistinctId(event: JsonObject, properties: JsonObject): string {
  let value = own(event, 'distinct_id');
  if (value === undefined || value === null) value = own(event, '$distinct_id');
  if (value === undefined || value === null) value = own(properties, 'distinct_id');
  if (value === undefined || value === null) {
    throw new CaptureError('missing_distinct_id', 'distinct_id is missing');
  }
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replaceAll('\0', '\ufffd');
  if (text.trim().length === 0) {
    throw new CaptureError('missing_distinct_id', 'distinct_id is empty or only whitespace');
  }
  return truncateCodePoints(text, MAX_NAME_CHARS);
}
