import type {
  AggregateOptions,
  AnyBulkWriteOperation,
  BulkWriteOptions,
  Collection,
  CountDocumentsOptions,
  DeleteOptions,
  Document,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  InsertOneOptions,
  OptionalUnlessRequiredId,
  UpdateFilter,
  UpdateOptions,
} from 'mongodb';

/** A filter as callers write it: everything but the tenant predicate, which the scope adds. */
export type ScopedFilter<T> = Omit<Filter<T>, 'projectId'>;
/** A document as callers write it: the scope stamps `projectId`. */
export type Unscoped<T> = Omit<T, 'projectId'>;

/**
 * One collection seen from inside one project. Every method adds `{projectId}` to the filter (and
 * stamps it on inserted documents), and refuses a filter that names `projectId` itself, so no caller
 * can widen or forget the tenant scope. Upserts get `projectId` from the filter's equality, as
 * MongoDB copies equality fields into the inserted document.
 */
export class ScopedCollection<T extends { projectId: string }> {
  constructor(
    private readonly collection: Collection<T>,
    readonly projectId: string,
  ) {}

  /** `filter` with the tenant predicate. */
  filter(filter: ScopedFilter<T> = {} as ScopedFilter<T>): Filter<T> {
    if (Object.hasOwn(filter, 'projectId')) throw new Error('a scoped filter must not set projectId');
    return { ...filter, projectId: this.projectId } as Filter<T>;
  }

  find(filter: ScopedFilter<T> = {} as ScopedFilter<T>, options: FindOptions = {}) {
    return this.collection.find(this.filter(filter), options);
  }

  findOne(filter: ScopedFilter<T>, options: FindOptions = {}) {
    return this.collection.findOne(this.filter(filter), options);
  }

  countDocuments(filter: ScopedFilter<T> = {} as ScopedFilter<T>, options: CountDocumentsOptions = {}) {
    return this.collection.countDocuments(this.filter(filter), options);
  }

  insertOne(doc: Unscoped<T>, options: InsertOneOptions = {}) {
    return this.collection.insertOne(this.stamp(doc), options);
  }

  insertMany(docs: Unscoped<T>[], options: BulkWriteOptions = {}) {
    return this.collection.insertMany(
      docs.map((doc) => this.stamp(doc)),
      options,
    );
  }

  updateOne(filter: ScopedFilter<T>, update: UpdateFilter<T> | Document[], options: UpdateOptions = {}) {
    return this.collection.updateOne(this.filter(filter), update, options);
  }

  updateMany(filter: ScopedFilter<T>, update: UpdateFilter<T> | Document[], options: UpdateOptions = {}) {
    return this.collection.updateMany(this.filter(filter), update, options);
  }

  findOneAndUpdate(filter: ScopedFilter<T>, update: UpdateFilter<T> | Document[], options: FindOneAndUpdateOptions = {}) {
    return this.collection.findOneAndUpdate(this.filter(filter), update, { includeResultMetadata: false, ...options });
  }

  deleteOne(filter: ScopedFilter<T>, options: DeleteOptions = {}) {
    return this.collection.deleteOne(this.filter(filter), options);
  }

  deleteMany(filter: ScopedFilter<T>, options: DeleteOptions = {}) {
    return this.collection.deleteMany(this.filter(filter), options);
  }

  /** A pipeline that starts inside the project. Stages that read other collections must scope those reads themselves. */
  aggregate<R extends Document = Document>(pipeline: Document[], options: AggregateOptions = {}) {
    return this.collection.aggregate<R>([{ $match: { projectId: this.projectId } }, ...pipeline], options);
  }

  /** Scopes every operation's filter, and stamps inserted documents. */
  bulkWrite(operations: ScopedBulkOperation<T>[], options: BulkWriteOptions = {}) {
    return this.collection.bulkWrite(
      operations.map((op) => this.scopeOperation(op)),
      options,
    );
  }

  private stamp(doc: Unscoped<T>): OptionalUnlessRequiredId<T> {
    return { ...doc, projectId: this.projectId } as unknown as OptionalUnlessRequiredId<T>;
  }

  private scopeOperation(op: ScopedBulkOperation<T>): AnyBulkWriteOperation<T> {
    if ('insertOne' in op) return { insertOne: { document: this.stamp(op.insertOne.document) } } as AnyBulkWriteOperation<T>;
    if ('updateOne' in op) return { updateOne: { ...op.updateOne, filter: this.filter(op.updateOne.filter) } } as AnyBulkWriteOperation<T>;
    if ('updateMany' in op) return { updateMany: { ...op.updateMany, filter: this.filter(op.updateMany.filter) } } as AnyBulkWriteOperation<T>;
    if ('deleteOne' in op) return { deleteOne: { filter: this.filter(op.deleteOne.filter) } };
    return { deleteMany: { filter: this.filter(op.deleteMany.filter) } };
  }
}

/** The bulk operations a scope allows, with filters and documents written without `projectId`. */
export type ScopedBulkOperation<T> =
  | { insertOne: { document: Unscoped<T> } }
  | { updateOne: { filter: ScopedFilter<T>; update: UpdateFilter<T> | Document[]; upsert?: boolean } }
  | { updateMany: { filter: ScopedFilter<T>; update: UpdateFilter<T> | Document[]; upsert?: boolean } }
  | { deleteOne: { filter: ScopedFilter<T> } }
  | { deleteMany: { filter: ScopedFilter<T> } };
