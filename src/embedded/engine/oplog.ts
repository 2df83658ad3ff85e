import type { UUID } from 'bson';
import type { IndexSpec } from './indexes.ts';
import type { CollectionOptions } from './collection.ts';
import type { Doc } from './types.ts';

/** What an update changed, in change-stream form. */
export interface UpdateDescription {
  updatedFields: Doc;
  removedFields: string[];
}

/**
 * One durable change. The write-ahead log stores these, recovery re-applies them, and change streams
 * are made from them. Updates carry the whole new document (not the update expression), so replaying
 * them is deterministic and idempotent.
 */
export type Op =
  | { op: 'insert'; db: string; coll: string; doc: Doc }
  | { op: 'update'; db: string; coll: string; doc: Doc; description: UpdateDescription }
  | { op: 'replace'; db: string; coll: string; doc: Doc }
  | { op: 'delete'; db: string; coll: string; id: unknown }
  | { op: 'createCollection'; db: string; coll: string; options: CollectionOptions; uuid: UUID }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'createIndex'; db: string; coll: string; spec: IndexSpec }
  | { op: 'dropIndex'; db: string; coll: string; name: string }
  | { op: 'dropDatabase'; db: string };

/** Receives every change after it has been applied in memory. */
export type OpSink = (op: Op) => void;
