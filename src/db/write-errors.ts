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

/** Errors caused by the document itself (too large, too deep, bad field names): retrying cannot help. */
const PERMANENT_DOCUMENT_ERRORS = new Set([2, 15, 52, 10334, 17419]);

export function isPermanentDocumentError(code: number): boolean {
  return PERMANENT_DOCUMENT_ERRORS.has(code);
}

/**
 * The positions of a bulk write's operations that failed for good because of their documents, when
 * every other operation is accounted for as done; anything else is rethrown (it may be transient).
 */
export function permanentFailures(error: unknown, count: number): number[] {
  if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError() !== undefined) throw error;
  const writeErrors = [error.writeErrors].flat();
  const done = error.result.matchedCount + error.result.upsertedCount + error.result.insertedCount;
  if (writeErrors.length === 0 || done + writeErrors.length !== count) throw error;
  if (writeErrors.some((e) => !isPermanentDocumentError(e.code))) throw error;
  return writeErrors.map((e) => e.index);
}
