import { StoreError } from '../engine/errors.ts';
import { isPlainObject } from '../engine/values.ts';
import type { Doc } from '../engine/types.ts';

/** The collection named by a command's first field (`{find: "events"}`), checked to be a string. */
export function collectionArg(cmd: Doc, name: string): string {
  const value = cmd[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new StoreError('InvalidNamespace', `collection name has invalid type ${typeof value}`);
  }
  return value;
}

export function docArg(cmd: Doc, name: string, fallback: Doc = {}): Doc {
  const value = cmd[name];
  if (value === undefined || value === null) return fallback;
  if (!isPlainObject(value)) throw new StoreError('TypeMismatch', `BSON field '${name}' is the wrong type '${typeof value}', expected type 'object'`);
  return value;
}

export function numberArg(cmd: Doc, name: string, fallback: number): number {
  const value = cmd[name];
  if (value === undefined || value === null) return fallback;
  const n = Number(typeof value === 'object' ? String(value) : value);
  if (!Number.isFinite(n)) throw new StoreError('TypeMismatch', `BSON field '${name}' must be a number`);
  return n;
}

export function arrayArg(cmd: Doc, name: string): Doc[] {
  const value = cmd[name];
  if (!Array.isArray(value)) throw new StoreError('TypeMismatch', `BSON field '${name}' is missing or not an array`);
  return value as Doc[];
}

/** The batch size asked for in `cursor: {batchSize}` (aggregate, list commands) or `batchSize` (find). */
export function batchSizeArg(cmd: Doc, fallback: number): number {
  const cursor = cmd.cursor;
  if (isPlainObject(cursor) && cursor.batchSize !== undefined) return numberArg(cursor, 'batchSize', fallback);
  return numberArg(cmd, 'batchSize', fallback);
}
