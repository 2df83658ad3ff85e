import type { Collection, Filter, FindOptions, WithId } from 'mongodb';
import type { EventDocument, ProjectDocument } from './documents.ts';
import { DURABLE } from './write-concern.ts';

type ScopedFilter<T> = Omit<Filter<T>, 'projectId'>;

/**
 * Tenant-scoped data access: every read and write of project data goes through one of these, and each
 * one adds `projectId` itself. Filters that mention `projectId` are refused, so no caller can widen
 * (or forget) the scope. Instances are handed out by the access layer after authorization.
 */
export class ProjectScope {
  constructor(
    readonly project: ProjectDocument,
    private readonly events: Collection<EventDocument>,
  ) {}

  get projectId(): string {
    return this.project._id;
  }

  /** Events matching `filter` inside this project. */
  findEvents(filter: ScopedFilter<EventDocument>, options: FindOptions = {}) {
    return this.events.find(this.scoped(filter), options);
  }

  findEvent(filter: ScopedFilter<EventDocument>): Promise<WithId<EventDocument> | null> {
    return this.events.findOne(this.scoped(filter));
  }

  /**
   * Durable unordered insert; the caller handles duplicate-key errors (SDK retries) itself.
   * `projectId` is stamped here, so a document cannot name another project.
   */
  insertEvents(docs: Omit<EventDocument, 'projectId'>[]) {
    const stamped = docs.map((doc) => ({ ...doc, projectId: this.projectId }));
    return this.events.insertMany(stamped, { ordered: false, writeConcern: DURABLE });
  }

  /** `filter` with the tenant predicate; exported for the live matcher, which must match exactly what queries match. */
  scoped(filter: ScopedFilter<EventDocument>): Filter<EventDocument> {
    if (Object.hasOwn(filter, 'projectId')) throw new Error('a scoped filter must not set projectId');
    return { ...filter, projectId: this.projectId } as Filter<EventDocument>;
  }
}
