import { MongoBulkWriteError, MongoServerError } from 'mongodb';

/** MongoDB's duplicate-key error: a unique index refused the write. */
export const DUPLICATE_KEY = 11000;

/** A single write refused by a unique index (someone else wrote the same key first). */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * The positions of a bulk write's operations that a unique index refused, when that is all that went
 * wrong; undefined for any other failure (including an unconfirmed write concern), which callers rethrow.
 */
export function duplicateKeyIndexes(error: unknown): number[] | undefined {
  if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError() !== undefined) return undefined;
  const writeErrors = [error.writeErrors].flat();
  if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) return undefined;
  return writeErrors.map((e) => e.index);
}
