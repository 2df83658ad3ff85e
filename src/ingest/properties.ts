import { CaptureError } from './errors.ts';
import { copyObject, defineOwn, isPlainObject, jsonTypeName, own, type JsonObject } from './json-values.ts';

/**
 * The event's properties as they will be stored: what the client sent (default `{}`), with top-level
 * `$set`, `$set_once` and `$unset` merged into the same-named property, top-level keys winning. Other
 * properties are kept as sent, `token` included, as PostHog stores them. The input is not modified.
 */
export function buildProperties(event: JsonObject): JsonObject {
  const sent = own(event, 'properties');
  if (sent !== undefined && sent !== null && !isPlainObject(sent)) {
    throw new CaptureError('invalid_payload', `properties must be a JSON object, got ${jsonTypeName(sent)}`);
  }
  const properties = sent === undefined || sent === null ? {} : copyObject(sent);

  for (const key of ['$set', '$set_once'] as const) {
    const topLevel = own(event, key);
    if (topLevel === undefined || topLevel === null) continue;
    if (!isPlainObject(topLevel)) {
      throw new CaptureError('invalid_payload', `${key} must be a JSON object, got ${jsonTypeName(topLevel)}`);
    }
    defineOwn(properties, key, mergeObjects(own(properties, key), topLevel));
  }

  const unset = own(event, '$unset');
  if (unset !== undefined && unset !== null) defineOwn(properties, '$unset', mergeUnset(own(properties, '$unset'), unset));
  return properties;
}

function mergeObjects(base: unknown, winner: JsonObject): JsonObject {
  const merged = isPlainObject(base) ? copyObject(base) : {};
  for (const key of Object.keys(winner)) defineOwn(merged, key, winner[key]);
  return merged;
}

/** `$unset` is a list of property names (or, from some clients, an object keyed by them). */
function mergeUnset(base: unknown, topLevel: unknown): unknown {
  if (Array.isArray(topLevel)) {
    if (!Array.isArray(base)) return [...topLevel];
    const merged = [...base];
    for (const name of topLevel) if (!merged.includes(name)) merged.push(name);
    return merged;
  }
  if (isPlainObject(topLevel)) return mergeObjects(base, topLevel);
  throw new CaptureError('invalid_payload', `$unset must be an array of property names, got ${jsonTypeName(topLevel)}`);
}
