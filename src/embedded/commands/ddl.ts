import { Query } from 'mingo/query';
import { StoreError } from '../engine/errors.ts';
import { ID_INDEX } from '../engine/collection.ts';
import { defaultIndexName, type IndexSpec } from '../engine/indexes.ts';
import { mingoOptions } from '../engine/mingo-options.ts';
import { isPlainObject } from '../engine/values.ts';
import { validateNamespace } from '../engine/catalog.ts';
import { arrayArg, batchSizeArg, collectionArg, docArg } from './args.ts';
import { arrayCursorReply } from './cursor-reply.ts';
import type { CommandHandler } from './context.ts';
import type { Doc } from '../engine/types.ts';

// Collection options a client may pass that the store records but has no use for.
const IGNORED_CREATE_FIELDS = new Set(['create', 'lsid', 'txnNumber', '$db', 'writeConcern', 'readConcern', 'comment', '$clusterTime', '$readPreference', 'apiVersion', 'apiStrict', 'apiDeprecationErrors']);

export const create: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'create');
  const options: Doc = {};
  for (const [k, v] of Object.entries(cmd)) if (!IGNORED_CREATE_FIELDS.has(k)) options[k] = v;
  if (options.viewOn !== undefined || options.timeseries !== undefined) {
    throw new StoreError('IllegalOperation', 'views and time-series collections are not supported by the embedded store');
  }
  ctx.catalog.createCollection(db, coll, options);
  return {};
};

export const drop: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'drop');
  const collection = ctx.catalog.get(db, coll);
  // Since MongoDB 7.0 dropping a collection that does not exist succeeds.
  if (!collection) return {};
  const nIndexesWas = collection.indexSpecs().length;
  ctx.catalog.apply({ op: 'dropCollection', db, coll });
  return { nIndexesWas, ns: collection.ns };
};

export const dropDatabase: CommandHandler = (ctx, db) => {
  if (ctx.catalog.collections(db).length > 0) ctx.catalog.apply({ op: 'dropDatabase', db });
  return { dropped: db };
};

function parseIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key) || Object.keys(raw.key).length === 0) {
    throw new StoreError('FailedToParse', 'index specification must contain a non-empty key document');
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    if (dir !== 1 && dir !== -1 && dir !== 'hashed') {
      throw new StoreError('CannotCreateIndex', `index type ${JSON.stringify(dir)} on field '${field}' is not supported by the embedded store (ascending, descending and hashed are)`);
    }
  }
  const name = typeof raw.name === 'string' ? raw.name : defaultIndexName(raw.key);
  const spec: IndexSpec = { v: 2, key: raw.key, name };
  for (const option of ['unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'collation', 'hidden'] as const) {
    if (raw[option] !== undefined) (spec as Record<string, unknown>)[option] = raw[option];
  }
  if (spec.unique === false) delete spec.unique;
  if (spec.partialFilterExpression !== undefined && !isPlainObject(spec.partialFilterExpression)) {
    throw new StoreError('TypeMismatch', 'partialFilterExpression must be an object');
  }
  return spec;
}

export const createIndexes: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'createIndexes');
  const specs = arrayArg(cmd, 'indexes').map(parseIndexSpec);
  const existed = ctx.catalog.get(db, coll) !== undefined;
  if (!existed) validateNamespace(db, coll);
  const collection = ctx.catalog.ensure(db, coll);
  const numIndexesBefore = collection.indexSpecs().length;
  let created = 0;
  for (const spec of specs) if (ctx.catalog.createIndex(collection, spec)) created++;
  return {
    createdCollectionAutomatically: !existed,
    numIndexesBefore,
    numIndexesAfter: collection.indexSpecs().length,
    ...(created === 0 ? { note: 'all indexes already exist' } : {}),
  };
};

export const listIndexes: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'listIndexes');
  const collection = ctx.catalog.get(db, coll);
  if (!collection) throw new StoreError('NamespaceNotFound', `ns does not exist: ${db}.${coll}`);
  return arrayCursorReply(ctx, `${db}.${coll}`, collection.indexSpecs(), batchSizeArg(cmd, 0));
};

export const dropIndexes: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'dropIndexes' in cmd ? 'dropIndexes' : 'deleteIndexes');
  const collection = ctx.catalog.get(db, coll);
  if (!collection) throw new StoreError('NamespaceNotFound', `ns not found ${db}.${coll}`);
  const nIndexesWas = collection.indexSpecs().length;
  const target = cmd.index;
  let names: string[];
  if (target === '*') names = collection.indexSpecs().slice(1).map((s) => s.name);
  else if (typeof target === 'string') names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    const name = collection.findIndexName(target);
    if (!name) throw new StoreError('IndexNotFound', `can't find index with key: ${JSON.stringify(target)}`);
    names = [name];
  } else throw new StoreError('TypeMismatch', "'index' must be a string, an array of strings or a key pattern");
  // Check every name first so a bad name in a list drops nothing.
  const known = new Set(collection.indexSpecs().map((s) => s.name));
  for (const name of names) {
    if (name === ID_INDEX.name) throw new StoreError('InvalidOptions', 'cannot drop _id index');
    if (!known.has(name)) throw new StoreError('IndexNotFound', `index not found with name [${name}]`);
  }
  for (const name of names) ctx.catalog.apply({ op: 'dropIndex', db, coll, name });
  return { nIndexesWas };
};

export const listCollections: CommandHandler = (ctx, db, cmd) => {
  const filter = docArg(cmd, 'filter');
  const nameOnly = cmd.nameOnly === true;
  let entries: Doc[] = ctx.catalog.collections(db).map((c) =>
    nameOnly
      ? { name: c.name, type: 'collection' }
      : { name: c.name, type: 'collection', options: c.options, info: { readOnly: false, uuid: c.uuid }, idIndex: ID_INDEX },
  );
  if (Object.keys(filter).length) entries = new Query(filter, mingoOptions()).find(entries).all() as Doc[];
  return arrayCursorReply(ctx, `${db}.$cmd.listCollections`, entries, batchSizeArg(cmd, 0));
};
