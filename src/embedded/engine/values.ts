import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, BSONRegExp, MinKey, MaxKey, BSONSymbol, Code } from 'bson';

/**
 * Value identity and ordering for the storage engine: `_id` and unique-index keys, and the sort order of
 * secondary indexes. MongoDB's query semantics come from mingo; these functions only decide where a value
 * sits in an index, so they follow MongoDB's BSON comparison order (numbers of every width compare by value).
 */

/** MongoDB's canonical type order for comparisons and sorting. */
function typeRank(v: unknown): number {
  if (v === MIN_KEY || v instanceof MinKey) return 0;
  if (v === undefined || v === null) return 1;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Long || v instanceof Int32 || v instanceof Double || v instanceof Decimal128) return 2;
  if (typeof v === 'string' || v instanceof BSONSymbol) return 3;
  if (Array.isArray(v)) return 5;
  if (v instanceof Binary || v instanceof Uint8Array) return 6;
  if (v instanceof ObjectId) return 7;
  if (typeof v === 'boolean') return 8;
  if (v instanceof Date) return 9;
  if (v instanceof Timestamp) return 10;
  if (v instanceof RegExp || v instanceof BSONRegExp) return 11;
  if (v === MAX_KEY || v instanceof MaxKey) return 13;
  if (v instanceof Code) return 12;
  return 4; // embedded document
}

/** Sentinels below and above every value, used as open index bounds. */
export const MIN_KEY = Symbol('MinKey');
export const MAX_KEY = Symbol('MaxKey');

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Decimal128) return Number(v.toString());
  return Number.NaN;
}

function cmp<T extends number | string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  return v instanceof Binary ? v.buffer : (v as Uint8Array);
}

/** Total order over BSON values, as MongoDB sorts them. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
    case 1:
    case 13:
      return 0;
    case 2: {
      const x = toNumber(a);
      const y = toNumber(b);
      // NaN sorts below every other number in MongoDB.
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return cmp(x, y);
    }
    case 3:
      return cmp(String(a), String(b));
    case 4:
      return compareDocuments(a as Record<string, unknown>, b as Record<string, unknown>);
    case 5: {
      const xs = a as unknown[];
      const ys = b as unknown[];
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
        const c = compareValues(xs[i], ys[i]);
        if (c !== 0) return c;
      }
      return xs.length - ys.length;
    }
    case 6: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return x.length - y.length;
      return Buffer.compare(x, y);
    }
    case 7:
      return Buffer.compare((a as ObjectId).id, (b as ObjectId).id);
    case 8:
      return Number(a) - Number(b);
    case 9:
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 10:
      return (a as Timestamp).compare(b as Timestamp);
    case 11:
      return cmp(String(a), String(b));
    default:
      return cmp(String(a), String(b));
  }
}

function compareDocuments(a: Record<string, unknown>, b: Record<string, unknown>): number {
  // Field order matters in MongoDB: documents compare field by field, name then value.
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = compareValues(a[ka[i]!], b[kb[i]!]) || cmp(ka[i]!, kb[i]!);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

/**
 * A string that is equal for two values exactly when MongoDB treats them as the same key
 * (so 1, 1.0 and Long(1) collide; field order in documents matters). Used for `_id` and unique indexes.
 */
export function keyOf(v: unknown): string {
  switch (typeRank(v)) {
    case 0:
      return 'm';
    case 1:
      return 'z';
    case 2: {
      if (v instanceof Long || typeof v === 'bigint') {
        const big = BigInt(v.toString());
        if (Number.isSafeInteger(Number(big))) return `n${Number(big)}`;
        return `n${big.toString()}`;
      }
      if (v instanceof Decimal128) return `n${Number(v.toString())}`;
      const n = toNumber(v);
      return Object.is(n, -0) ? 'n0' : `n${n}`;
    }
    case 3:
      return `s${String(v)}`;
    case 5:
      return `a[${(v as unknown[]).map(keyOf).join(',')}]`;
    case 6:
      return `b${Buffer.from(bytesOf(v)).toString('base64')}`;
    case 7:
      return `o${(v as ObjectId).toHexString()}`;
    case 8:
      return v ? 't' : 'f';
    case 9:
      return `d${(v as Date).getTime()}`;
    case 10:
      return `T${(v as Timestamp).toString()}`;
    case 11:
      return `r${String(v)}`;
    case 13:
      return 'M';
    case 4: {
      const doc = v as Record<string, unknown>;
      return `{${Object.keys(doc)
        .map((k) => `${JSON.stringify(k)}:${keyOf(doc[k])}`)
        .join(',')}}`;
    }
    default:
      return `x${String(v)}`;
  }
}

/** True for embedded documents (plain objects), false for arrays, BSON values such as ObjectId, and scalars. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * The values a dotted path reaches in a document, descending through arrays as MongoDB does for
 * multikey indexes. Missing paths yield `[null]` so that `{field: null}` finds documents without it;
 * `found` tells a missing path from an explicit null.
 */
export function valuesAtPath(doc: unknown, path: string): { values: unknown[]; multikey: boolean; found: boolean } {
  const out: unknown[] = [];
  let multikey = false;
  let found = false;
  const walk = (value: unknown, parts: string[], i: number) => {
    if (i === parts.length) {
      found = true;
      if (Array.isArray(value)) {
        multikey = true;
        if (value.length === 0) out.push(undefined);
        for (const item of value) out.push(item);
        out.push(value);
      } else out.push(value);
      return;
    }
    if (Array.isArray(value)) {
      multikey = true;
      const part = parts[i]!;
      if (/^\d+$/.test(part) && Number(part) < value.length) walk(value[Number(part)], parts, i + 1);
      for (const item of value) if (isPlainObject(item)) walk(item, parts, i);
      return;
    }
    if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, parts[i]!)) {
      walk(value[parts[i]!], parts, i + 1);
      return;
    }
    out.push(null);
  };
  walk(doc, path.split('.'), 0);
  return { values: out.length ? out : [null], multikey, found };
}

/** Freezes plain objects and arrays so that no code path can change a stored document in place. */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
    Object.freeze(value);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) deepFreeze(value[key]);
    Object.freeze(value);
  }
  return value;
}
