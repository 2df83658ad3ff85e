import { truncateCodePoints } from '../../ingest/json-values.ts';

/**
 * What a group type name or a group key must look like. Both come straight from SDK payloads
 * (`$groups`, `$group_type`, `$group_key`), so anything else is reported and ignored, never stored.
 */

/** PostHog's limit: a project has at most this many group types, indexed 0..4. */
export const MAX_GROUP_TYPES = 5;
/** Longest group type name or group key accepted; longer ones are instrumentation bugs (ids of ids, payload dumps). */
export const MAX_GROUP_NAME_LENGTH = 400;

/** A usable value, or why it is not one (the reason goes into the ingestion warning). */
export type Checked = { ok: true; value: string } | { ok: false; reason: string };

/**
 * A group key: a non-blank string, or a finite number (SDKs send numeric ids), stringified the way
 * JavaScript prints it. Booleans, null, objects and arrays are not keys.
 */
export function checkGroupKey(value: unknown): Checked {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value: String(value) } : { ok: false, reason: 'the key is not a finite number' };
  }
  if (typeof value !== 'string') return { ok: false, reason: `the key must be a string or a number, not ${typeName(value)}` };
  return checkText(value, 'key');
}

/** A group type name: a non-blank string, kept exactly as sent (names are case-sensitive, as in PostHog). */
export function checkGroupTypeName(value: unknown): Checked {
  if (typeof value !== 'string') return { ok: false, reason: `the group type must be a string, not ${typeName(value)}` };
  return checkText(value, 'group type');
}

function checkText(value: string, what: string): Checked {
  if (value.trim() === '') return { ok: false, reason: `the ${what} is empty` };
  if (value.length > MAX_GROUP_NAME_LENGTH) return { ok: false, reason: `the ${what} is longer than ${MAX_GROUP_NAME_LENGTH} characters` };
  return { ok: true, value };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The event field a group of type index `index` is stored under. */
export function slotOf(index: number): 'g0' | 'g1' | 'g2' | 'g3' | 'g4' {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_GROUP_TYPES) throw new RangeError(`no group slot for index ${index}`);
  return `g${index}` as 'g0' | 'g1' | 'g2' | 'g3' | 'g4';
}

/** Cuts user text that goes into warning details, so one silly payload cannot bloat the warnings list. */
export function preview(value: unknown, max = 100): unknown {
  if (typeof value === 'string') return value.length > max ? `${truncateCodePoints(value, max)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  return Array.isArray(value) ? '[array]' : '[object]';
}
