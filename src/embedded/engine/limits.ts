import { calculateObjectSize } from 'bson';
import { StoreError } from './errors.ts';
import { isPlainObject } from './values.ts';
import type { Doc } from './types.ts';

/** MongoDB's limits, advertised in `hello` and enforced on every stored document. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
/** Nesting depth MongoDB documents as its limit for stored documents. */
export const MAX_NESTING_DEPTH = 100;

// BSON sizes of documents decoded from the wire, so that validation need not measure them again.
const wireSizes = new WeakMap<object, number>();

/** Records the encoded size of a document just decoded from a client message. */
export function rememberWireSize(doc: object, size: number): void {
  wireSizes.set(doc, size);
}

/** The BSON size of a document as a client sent it, if it came off the wire. */
export function wireSizeOf(doc: object): number | undefined {
  return wireSizes.get(doc);
}

/**
 * Checks a document before it is stored. `knownSize` skips re-measuring a document whose BSON size is
 * already known from the wire.
 */
export function validateForStorage(doc: Doc, knownSize?: number): void {
  const size = knownSize ?? wireSizes.get(doc) ?? calculateObjectSize(doc);
  if (size > MAX_BSON_OBJECT_SIZE) {
    throw new StoreError('BSONObjectTooLarge', `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`);
  }
  const id = doc._id;
  if (Array.isArray(id)) throw new StoreError('InvalidIdField', "The '_id' value cannot be of type array");
  if (id instanceof RegExp) throw new StoreError('InvalidIdField', "The '_id' value cannot be of type regex");
  if (id === undefined) throw new StoreError('InvalidIdField', "The '_id' value cannot be undefined");
  if (depthOf(doc, 1) > MAX_NESTING_DEPTH) {
    throw new StoreError('Overflow', `cannot insert document because it exceeds ${MAX_NESTING_DEPTH} levels of nesting`);
  }
}

function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_NESTING_DEPTH) return depth;
  let max = depth;
  const children = Array.isArray(value) ? value : isPlainObject(value) ? Object.values(value) : undefined;
  if (!children) return depth - 1;
  for (const child of children) {
    if (typeof child === 'object' && child !== null) {
      max = Math.max(max, depthOf(child, depth + 1));
      if (max > MAX_NESTING_DEPTH) return max;
    }
  }
  return max;
}
