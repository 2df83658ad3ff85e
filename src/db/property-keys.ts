/**
 * Property keys are user data: PostHog's own keys start with `$` and users send keys with dots.
 * MongoDB reads `.` as a path separator and `$` as an operator in queries and updates, so keys are
 * escaped reversibly at the storage boundary: `%` → `%25`, `$` → `%24`, `.` → `%2E`, NUL → `%00`.
 * The two keys JavaScript gives meaning to are escaped too, `__proto__` → `%5F_proto__` and
 * `constructor` → `%63onstructor`: JavaScript query engines (the embedded store's among them) refuse
 * or misread them. Every `%` a user sends is escaped, so each `%XX` in a stored key came from these
 * rules and decoding is unambiguous.
 * Stored documents, indexes and compiled filters all use the escaped form; readers get the original back.
 */

const NEEDS_ESCAPE = /[%$.\0]/;
const ESCAPES: Record<string, string> = { '%': '%25', $: '%24', '.': '%2E', '\0': '%00' };
// A Map, because an object literal with a "__proto__" key would set a prototype instead.
const SPECIAL_KEYS = new Map([
  ['__proto__', '%5F_proto__'],
  ['constructor', '%63onstructor'],
]);
const UNESCAPES = new Map([
  ['%25', '%'],
  ['%24', '$'],
  ['%2E', '.'],
  ['%00', '\0'],
  ['%5F', '_'],
  ['%63', 'c'],
]);

/** The stored form of one key. */
export function escapeKey(key: string): string {
  const special = SPECIAL_KEYS.get(key);
  if (special !== undefined) return special;
  return NEEDS_ESCAPE.test(key) ? key.replace(/[%$.\0]/g, (c) => ESCAPES[c] ?? c) : key;
}

/** The original form of one stored key. */
export function unescapeKey(key: string): string {
  return key.includes('%') ? key.replace(/%(?:25|24|2E|00|5F|63)/g, (c) => UNESCAPES.get(c) ?? c) : key;
}

/** Escapes every key at every depth (nested objects and objects inside arrays). */
export function escapeKeys(value: unknown): unknown {
  return mapKeys(value, escapeKey);
}

/** Inverse of {@link escapeKeys}. */
export function unescapeKeys(value: unknown): unknown {
  return mapKeys(value, unescapeKey);
}

function mapKeys(value: unknown, map: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapKeys(item, map));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty, not assignment: a user key `__proto__` must stay data, never become a prototype.
    Object.defineProperty(out, map(key), {
      value: mapKeys(value[key], map),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
