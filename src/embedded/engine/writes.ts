import { ObjectId } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { StoreError, toStoreError } from './errors.ts';
import { validateForStorage, wireSizeOf } from './limits.ts';
import { mingoOptions } from './mingo-options.ts';
import { applyUpdate, updateKind, upsertDocument, type UpdateSpec } from './update.ts';
import type { Catalog } from './catalog.ts';
import type { Collection } from './collection.ts';
import type { Doc, StoredRecord } from './types.ts';

/** A write command's reply fields (a type alias, so it is a plain reply document). */
export type WriteOutcome = {
  n: number;
  nModified?: number;
  upserted?: Array<{ index: number; _id: unknown }>;
  writeErrors?: Doc[];
};

/** One statement of an `update` command. */
export interface UpdateStatement {
  q: Doc;
  u: UpdateSpec;
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Doc[];
}

/** One statement of a `delete` command (`limit` 0 = all matches, 1 = one). */
export interface DeleteStatement {
  q: Doc;
  limit: number;
}

/**
 * Runs statements one by one, recording per-statement failures as MongoDB's `writeErrors`. An ordered
 * batch stops at the first failure; an unordered one goes on with the rest.
 */
function runBatch<T>(items: T[], ordered: boolean, run: (item: T, index: number) => void): Doc[] {
  const errors: Doc[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      run(items[i]!, i);
    } catch (error) {
      errors.push({ index: i, ...toStoreError(error).toDocument() });
      if (ordered) break;
    }
  }
  return errors;
}

export function insertDocuments(catalog: Catalog, db: string, coll: string, docs: Doc[], ordered: boolean): WriteOutcome {
  const collection = catalog.ensure(db, coll);
  let n = 0;
  const writeErrors = runBatch(docs, ordered, (doc) => {
    // MongoDB stores _id as the first field, generating one when the client did not. Moving _id
    // keeps the BSON size the client sent, so the document is not measured again.
    const hasId = '_id' in doc;
    const stored = hasId && Object.keys(doc)[0] === '_id' ? doc : { _id: hasId ? doc._id : new ObjectId(), ...doc };
    validateForStorage(stored, hasId ? wireSizeOf(doc) : undefined);
    catalog.insert(collection, stored);
    n++;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}) };
}

export function updateDocuments(catalog: Catalog, db: string, coll: string, statements: UpdateStatement[], ordered: boolean): WriteOutcome {
  let n = 0;
  let nModified = 0;
  const upserted: Array<{ index: number; _id: unknown }> = [];
  const writeErrors = runBatch(statements, ordered, (statement, index) => {
    const result = applyStatement(catalog, db, coll, statement);
    n += result.matched;
    nModified += result.modified;
    if (result.upsertedId !== undefined) {
      n += 1;
      upserted.push({ index, _id: result.upsertedId });
    }
  });
  return { n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}) };
}

interface StatementResult {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The documents before and after the change, for findAndModify. */
  before?: Doc;
  after?: Doc;
}

/** Applies one update statement: to the first match, to all matches (`multi`), or as an upsert. */
function applyStatement(catalog: Catalog, db: string, coll: string, s: UpdateStatement, sort?: Doc): StatementResult {
  if (!s.q || typeof s.q !== 'object') throw new StoreError('FailedToParse', 'update statement requires a query document');
  if (s.multi && updateKind(s.u) === 'replacement') {
    throw new StoreError('FailedToParse', 'multi update is not supported for replacement-style update');
  }
  const collection = catalog.get(db, coll);
  const targets = collection ? select(collection, s.q, s.multi ? 0 : 1, sort) : [];
  if (targets.length === 0) {
    if (!s.upsert) return { matched: 0, modified: 0 };
    const doc = upsertDocument(s.q, s.u, s.arrayFilters);
    validateForStorage(doc);
    catalog.insert(catalog.ensure(db, coll), doc);
    return { matched: 0, modified: 0, upsertedId: doc._id, after: doc };
  }
  let modified = 0;
  let before: Doc | undefined;
  let after: Doc | undefined;
  for (const record of targets) {
    const outcome = applyUpdate(record.doc, s.u, { query: s.q, arrayFilters: s.arrayFilters, inserting: false });
    before = record.doc;
    after = outcome.doc;
    if (!outcome.changed) continue;
    validateForStorage(outcome.doc);
    catalog.update(collection!, outcome.doc, outcome.description);
    modified++;
  }
  return { matched: targets.length, modified, before, after };
}

export function deleteDocuments(catalog: Catalog, db: string, coll: string, statements: DeleteStatement[], ordered: boolean): WriteOutcome {
  let n = 0;
  const writeErrors = runBatch(statements, ordered, (s) => {
    if (s.limit !== 0 && s.limit !== 1) throw new StoreError('FailedToParse', 'The limit field in delete objects must be 0 or 1');
    const collection = catalog.get(db, coll);
    if (!collection) return;
    for (const record of select(collection, s.q ?? {}, s.limit)) {
      catalog.delete(collection, record);
      n++;
    }
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}) };
}

/** The records a write statement acts on: the first `limit` matches (0 = all) in `sort` order if given. */
function select(collection: Collection, filter: Doc, limit: number, sort?: Doc): StoredRecord[] {
  if (!sort || Object.keys(sort).length === 0) return collection.scan(filter, limit).records;
  const { records } = collection.scan(filter);
  const byDoc = new Map(records.map((r) => [r.doc, r]));
  const sorted = new Aggregator([{ $sort: sort }, ...(limit ? [{ $limit: limit }] : [])], mingoOptions()).run(records.map((r) => r.doc)) as Doc[];
  return sorted.map((d) => byDoc.get(d)!);
}

/** The `findAndModify` command's options. */
export interface FindAndModifyRequest {
  query: Doc;
  sort?: Doc;
  remove?: boolean;
  update?: UpdateSpec;
  new?: boolean;
  upsert?: boolean;
  arrayFilters?: Doc[];
}

export interface FindAndModifyOutcome {
  value: Doc | null;
  lastErrorObject: Doc;
}

export function findAndModify(catalog: Catalog, db: string, coll: string, req: FindAndModifyRequest): FindAndModifyOutcome {
  if (req.remove) {
    if (req.update !== undefined || req.upsert) throw new StoreError('FailedToParse', 'Cannot specify both an update and remove=true');
    const collection = catalog.get(db, coll);
    const [record] = collection ? select(collection, req.query, 1, req.sort) : [];
    if (!record || !collection) return { value: null, lastErrorObject: { n: 0 } };
    const doc = record.doc;
    catalog.delete(collection, record);
    return { value: doc, lastErrorObject: { n: 1 } };
  }
  if (req.update === undefined) throw new StoreError('FailedToParse', 'Either an update or remove=true must be specified');
  const result = applyStatement(catalog, db, coll, { q: req.query, u: req.update, upsert: req.upsert, multi: false, arrayFilters: req.arrayFilters }, req.sort);
  if (result.upsertedId !== undefined) {
    return {
      value: req.new ? (result.after ?? null) : null,
      lastErrorObject: { n: 1, updatedExisting: false, upserted: result.upsertedId },
    };
  }
  if (result.matched === 0) return { value: null, lastErrorObject: { n: 0, updatedExisting: false } };
  return { value: (req.new ? result.after : result.before) ?? null, lastErrorObject: { n: 1, updatedExisting: true } };
}
