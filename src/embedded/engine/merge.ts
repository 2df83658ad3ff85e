import { ObjectId } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { StoreError, toStoreError } from './errors.ts';
import { validateForStorage } from './limits.ts';
import { mingoOptions } from './mingo-options.ts';
import { Collection } from './collection.ts';
import { isPlainObject, keyOf } from './values.ts';
import type { Catalog } from './catalog.ts';
import type { Doc } from './types.ts';

/**
 * `$out` and `$merge`, written against the catalog rather than mingo's in-memory arrays so that their
 * writes are durable, indexed and visible to change streams. Semantics follow MongoDB 7.
 */
export function writeStageResults(catalog: Catalog, db: string, stage: Doc, docs: Doc[]): void {
  if ('$out' in stage) writeOut(catalog, db, stage.$out, docs);
  else writeMerge(catalog, db, stage.$merge, docs);
}

function target(db: string, spec: unknown): { db: string; coll: string } {
  if (typeof spec === 'string') return { db, coll: spec };
  if (isPlainObject(spec) && typeof spec.coll === 'string') return { db: typeof spec.db === 'string' ? spec.db : db, coll: spec.coll };
  throw new StoreError('FailedToParse', 'output collection must be a string or a document with db and coll');
}

/** Replaces the target's documents, keeping its indexes; if any document is rejected nothing changes. */
function writeOut(catalog: Catalog, db: string, spec: unknown, docs: Doc[]): void {
  const out = target(db, spec);
  const existing = catalog.get(out.db, out.coll);
  const withIds = docs.map((d) => ('_id' in d ? d : { _id: new ObjectId(), ...d }));
  // Dry run on a scratch collection with the same indexes, as MongoDB writes to a temporary collection first.
  const scratch = new Collection(out.db, out.coll);
  for (const spec of existing?.indexSpecs().slice(1) ?? []) scratch.createIndex(spec);
  for (const doc of withIds) {
    validateForStorage(doc);
    scratch.insert(doc);
  }
  const collection = existing ?? catalog.ensure(out.db, out.coll);
  for (const record of [...collection.records()]) catalog.delete(collection, record);
  for (const doc of withIds) catalog.insert(collection, doc);
}

function writeMerge(catalog: Catalog, db: string, spec: unknown, docs: Doc[]): void {
  const options = typeof spec === 'string' ? { into: spec } : (spec as Doc);
  if (!isPlainObject(options) || options.into === undefined) throw new StoreError('FailedToParse', '$merge requires an `into` field');
  const out = target(db, options.into);
  const on = options.on === undefined ? ['_id'] : Array.isArray(options.on) ? (options.on as string[]) : [String(options.on)];
  const whenMatched = options.whenMatched ?? 'merge';
  const whenNotMatched = options.whenNotMatched ?? 'insert';
  const collection = catalog.ensure(out.db, out.coll);
  if (!(on.length === 1 && on[0] === '_id')) {
    const wanted = keyOf([...on].sort());
    const hasUnique = collection.indexes().some((i) => i.unique && keyOf([...i.fields].sort()) === wanted);
    if (!hasUnique) {
      throw new StoreError('Location51183', 'Cannot find index to verify that join fields will be unique');
    }
  }
  for (const doc of docs) {
    const filter: Doc = {};
    for (const field of on) {
      const value = doc[field];
      if (value === undefined || value === null || Array.isArray(value)) {
        throw new StoreError('Location51132', `$merge write error: 'on' field '${field}' cannot be missing, null or an array`);
      }
      filter[field] = value;
    }
    const [match] = collection.scan(filter, 1).records;
    if (!match) {
      if (whenNotMatched === 'discard') continue;
      if (whenNotMatched === 'fail') throw new StoreError('MergeStageNoMatchingDocument', '$merge could not find a matching document in the target collection');
      const inserted = '_id' in doc ? doc : { _id: new ObjectId(), ...doc };
      validateForStorage(inserted);
      catalog.insert(collection, inserted);
      continue;
    }
    const current = match.doc;
    let next: Doc;
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') throw new StoreError('DuplicateKey', `E11000 duplicate key error collection: ${collection.ns}`, { keyPattern: { _id: 1 }, keyValue: { _id: current._id } });
    if (whenMatched === 'replace') next = { _id: current._id, ...withoutId(doc) };
    else if (whenMatched === 'merge') next = { ...current, ...withoutId(doc) };
    else if (Array.isArray(whenMatched)) {
      try {
        const vars = { ...((options.let as Doc | undefined) ?? {}), new: doc };
        const [result] = new Aggregator(whenMatched as Doc[], mingoOptions({ cloneInput: true, variables: vars })).run([current]) as Doc[];
        next = { ...(result ?? {}), _id: current._id };
      } catch (error) {
        throw toStoreError(error);
      }
    } else throw new StoreError('BadValue', `unsupported whenMatched mode: ${String(whenMatched)}`);
    validateForStorage(next);
    catalog.update(collection, next);
  }
}

function withoutId(doc: Doc): Doc {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}
