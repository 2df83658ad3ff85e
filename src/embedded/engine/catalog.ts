import { UUID } from 'bson';
import { StoreError } from './errors.ts';
import { Collection, type CollectionOptions } from './collection.ts';
import type { IndexSpec } from './indexes.ts';
import type { Op, OpSink, UpdateDescription } from './oplog.ts';
import type { Doc, StoredRecord } from './types.ts';

const VALID_DB = /^[^/\\. "$*<>:|?\0]{1,63}$/;

/**
 * All databases and collections. Every change is made through `apply`, which first changes memory
 * (throwing, with nothing changed, if the change is not allowed) and then hands the change to the
 * sinks: the write-ahead log and the change-stream history. Recovery calls `apply` with the logged
 * changes and no sinks attached.
 */
export class Catalog {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly sinks: OpSink[] = [];

  addSink(sink: OpSink): void {
    this.sinks.push(sink);
  }

  databaseNames(): string[] {
    return [...this.dbs.keys()].filter((db) => (this.dbs.get(db)?.size ?? 0) > 0);
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  allCollections(): Collection[] {
    return [...this.dbs.values()].flatMap((m) => [...m.values()]);
  }

  get(db: string, coll: string): Collection | undefined {
    return this.dbs.get(db)?.get(coll);
  }

  /** The collection, created (durably, like MongoDB's implicit creation) when it does not exist. */
  ensure(db: string, coll: string): Collection {
    return this.get(db, coll) ?? this.createCollection(db, coll, {});
  }

  createCollection(db: string, coll: string, options: CollectionOptions): Collection {
    validateNamespace(db, coll);
    if (this.get(db, coll)) throw new StoreError('NamespaceExists', `Collection ${db}.${coll} already exists.`);
    this.apply({ op: 'createCollection', db, coll, options, uuid: new UUID() });
    return this.get(db, coll)!;
  }

  insert(collection: Collection, doc: Doc): void {
    this.apply({ op: 'insert', db: collection.db, coll: collection.name, doc });
  }

  /** Applies one change to memory, then publishes it. Throws (changing nothing) if it violates a constraint. */
  apply(op: Op): void {
    this.applyInMemory(op);
    for (const sink of this.sinks) sink(op);
  }

  /** Applies a change without publishing it (recovery). */
  applyInMemory(op: Op): void {
    switch (op.op) {
      case 'insert':
        this.require(op.db, op.coll).insert(op.doc);
        return;
      case 'update':
      case 'replace': {
        const collection = this.require(op.db, op.coll);
        const record = collection.getById(op.doc._id);
        if (!record) throw new StoreError('InternalError', `no document with _id ${String(op.doc._id)} in ${collection.ns}`);
        collection.replace(record, op.doc);
        return;
      }
      case 'delete': {
        const collection = this.require(op.db, op.coll);
        const record = collection.getById(op.id);
        if (record) collection.remove(record);
        return;
      }
      case 'createCollection': {
        let db = this.dbs.get(op.db);
        if (!db) this.dbs.set(op.db, (db = new Map()));
        db.set(op.coll, new Collection(op.db, op.coll, op.options, op.uuid));
        return;
      }
      case 'dropCollection':
        this.dbs.get(op.db)?.delete(op.coll);
        return;
      case 'createIndex':
        this.require(op.db, op.coll).createIndex(op.spec);
        return;
      case 'dropIndex':
        this.require(op.db, op.coll).dropIndex(op.name);
        return;
      case 'dropDatabase':
        this.dbs.delete(op.db);
        return;
    }
  }

  /** Replaces a document through the published path (update or replacement). */
  update(collection: Collection, doc: Doc, description?: UpdateDescription): void {
    const { db, name: coll } = collection;
    this.apply(description ? { op: 'update', db, coll, doc, description } : { op: 'replace', db, coll, doc });
  }

  delete(collection: Collection, record: StoredRecord): void {
    this.apply({ op: 'delete', db: collection.db, coll: collection.name, id: record.doc._id });
  }

  createIndex(collection: Collection, spec: IndexSpec): boolean {
    // Validate by building on the live collection first; the op is published only when the build succeeded.
    const outcome = collection.createIndex(spec);
    if (outcome === 'exists') return false;
    for (const sink of this.sinks) sink({ op: 'createIndex', db: collection.db, coll: collection.name, spec });
    return true;
  }

  private require(db: string, coll: string): Collection {
    const collection = this.get(db, coll);
    if (!collection) throw new StoreError('NamespaceNotFound', `ns does not exist: ${db}.${coll}`);
    return collection;
  }
}

export function validateNamespace(db: string, coll: string): void {
  if (!VALID_DB.test(db)) throw new StoreError('InvalidNamespace', `Invalid database name: '${db}'`);
  if (!coll || coll.startsWith('.') || coll.includes('$') || coll.includes('\0') || coll.startsWith('system.')) {
    throw new StoreError('InvalidNamespace', `Invalid collection name: '${coll}'`);
  }
  if (Buffer.byteLength(`${db}.${coll}`) > 255) throw new StoreError('InvalidNamespace', `Fully qualified namespace is too long: ${db}.${coll}`);
}
