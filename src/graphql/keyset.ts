import { ObjectId, type Filter } from 'mongodb';
import { decodeCursor, encodeCursor } from './connections.ts';
import { BadUserInputError } from './errors.ts';

const OBJECT_ID_HEX = /^[0-9a-f]{24}$/;

/** The cursor of an item in a list sorted on `(date field, _id)`: epoch milliseconds and the id. */
export function keysetCursor(at: Date, id: ObjectId | string): string {
  return encodeCursor([at.getTime(), typeof id === 'string' ? id : id.toHexString()]);
}

/**
 * Items strictly after the cursor's position in a list sorted on `(field, _id)` in `direction`, so pages
 * stay stable while items arrive. `idKind` says how `_id` is stored (an ObjectId, or a string such as a
 * person's UUID). A forged cursor is a user error, never a query on an invalid date.
 */
export function keysetAfter<T>(cursor: string, field: string, direction: 'ascending' | 'descending', idKind: 'objectId' | 'string' = 'objectId'): Filter<T> {
  const [ms, id] = decodeCursor(cursor, ['number', 'string']) as [number, string];
  // An out-of-range instant would be stored as an invalid date and silently match nothing (or everything).
  const instant = new Date(ms);
  if (!Number.isSafeInteger(ms) || Number.isNaN(instant.getTime()) || (idKind === 'objectId' && !OBJECT_ID_HEX.test(id))) {
    throw new BadUserInputError('"after" is not a cursor returned by this list.');
  }
  const beyond = direction === 'descending' ? '$lt' : '$gt';
  const idValue = idKind === 'objectId' ? new ObjectId(id) : id;
  return { $or: [{ [field]: { [beyond]: instant } }, { [field]: instant, _id: { [beyond]: idValue } }] } as Filter<T>;
}
