import type { Collection, Filter, FindOptions, WithId } from 'mongodb';
import type { ProjectCollections } from './collections.ts';
import type { EventDocument, ProjectDocument } from './documents.ts';
import { ScopedCollection, type ScopedFilter } from './scoped-collection.ts';
import { DURABLE } from './write-concern.ts';

type Scoped<C> = C extends Collection<infer T extends { projectId: string }> ? ScopedCollection<T> : never;

/**
 * Tenant-scoped data access: every read and write of project data goes through one of these, and each
 * one adds `projectId` itself. Filters that mention `projectId` are refused, so no caller can widen
 * (or forget) the scope. Instances are handed out by the access layer after authorization.
 */
export class ProjectScope {
  /** Each project collection, seen from inside this project. */
  readonly data: { [K in keyof ProjectCollections]: Scoped<ProjectCollections[K]> };

  constructor(
    readonly project: ProjectDocument,
    collections: ProjectCollections,
  ) {
    const scoped = Object.entries(collections).map(([name, collection]) => [name, new ScopedCollection(collection as unknown as Collection<{ projectId: string }>, project._id)]);
    this.data = Object.fromEntries(scoped) as unknown as ProjectScope['data'];
  }

  get projectId(): string {
    return this.project._id;
  }

  /** Events matching `filter` inside this project. */
  findEvents(filter: ScopedFilter<EventDocument>, options: FindOptions = {}) {
    return this.data.events.find(filter, options);
  }

  findEvent(filter: ScopedFilter<EventDocument>): Promise<WithId<EventDocument> | null> {
    return this.data.events.findOne(filter);
  }

  /**
   * Durable unordered insert; the caller handles duplicate-key errors (SDK retries) itself.
   * `projectId` is stamped here, so a document cannot name another project.
   */
  insertEvents(docs: Omit<EventDocument, 'projectId'>[]) {
    return this.data.events.insertMany(docs, { ordered: false, writeConcern: DURABLE });
  }

  /** `filter` with the tenant predicate; exported for the live matcher, which must match exactly what queries match. */
  scoped(filter: ScopedFilter<EventDocument>): Filter<EventDocument> {
    return this.data.events.filter(filter);
  }
}
