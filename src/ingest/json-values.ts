/** A JSON object as parsed from a request: plain, not an array, not null. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object whose prototype is Object.prototype or null. */
export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Short name of a JSON value's type for error messages. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Reads a key only if the object holds it itself, so an inherited name (`constructor`, `toString`) or
 * a polluted prototype never passes for a field the client sent.
 */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Stores a key as an ordinary own data property. Plain assignment with a user-chosen key such as
 * `__proto__` would replace the object's prototype instead of storing data.
 */
export function defineOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A shallow copy keeping every own key, `__proto__` included, as data. */
export function copyObject(obj: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(obj)) defineOwn(copy, key, obj[key]);
  return copy;
}

/**
 * True when the value nests objects/arrays deeper than `maxDepth` levels (the value itself is level 1).
 * Recursion stops one level past the limit, so hostile nesting cannot exhaust the stack.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  return depthOver(value, 1, maxDepth);
}

function depthOver(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth > maxDepth) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    if (typeof child === 'object' && child !== null && depthOver(child, depth + 1, maxDepth)) return true;
  }
  return false;
}

/** Cuts a string to at most `max` code points without splitting a surrogate pair. */
export function truncateCodePoints(text: string, max: number): string {
  // Each code point is one or two UTF-16 units, so anything this short cannot be over.
  if (text.length <= max) return text;
  let units = 0;
  let points = 0;
  while (units < text.length && points < max) {
    const code = text.charCodeAt(units);
    const next = text.charCodeAt(units + 1); // NaN past the end
    units += code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    points++;
  }
  return text.slice(0, units);
}
