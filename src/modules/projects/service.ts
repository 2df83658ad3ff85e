import { ObjectId } from 'mongodb';
import { LRUCache } from 'lru-cache';
import type { Collections } from '../../db/collections.ts';
import type { ProjectDocument, WeekStart } from '../../db/documents.ts';
import { DURABLE } from '../../db/write-concern.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../graphql/connections.ts';
import type { Access } from '../auth/access.ts';
import { newProjectToken } from '../auth/secrets.ts';

/** Input of {@link ProjectService.create}. */
export interface NewProject {
  name: string;
  /** IANA zone used for day boundaries in insights. @default 'UTC' */
  timezone?: string | null;
  /** First day of the week in insights: 0 Sunday, 1 Monday. @default 0 */
  weekStart?: WeekStart | null;
}

/** Input of {@link ProjectService.update}: only the settings given change. */
export interface ProjectChanges {
  name?: string | null;
  timezone?: string | null;
  weekStart?: WeekStart | null;
}

const MAX_NAME_LENGTH = 200;
/** Token lookups happen on every capture request; a short cache keeps them off the database. */
const TOKEN_CACHE_TTL_MS = 10_000;

export class ProjectService {
  private readonly byTokenCache = new LRUCache<string, { project: ProjectDocument | null }>({
    max: 10_000,
    ttl: TOKEN_CACHE_TTL_MS,
  });

  constructor(private readonly collections: Collections) {}

  async create(input: NewProject): Promise<ProjectDocument> {
    const project: ProjectDocument = {
      _id: new ObjectId().toHexString(),
      name: checkedName(input.name),
      apiToken: newProjectToken(),
      timezone: checkedTimeZone(input.timezone ?? 'UTC'),
      weekStart: input.weekStart ?? 0,
      createdAt: new Date(),
    };
    await this.collections.projects.insertOne(project, { writeConcern: DURABLE });
    return project;
  }

  /** Changes a project's name, time zone or week start; returns it as stored now, or null if it is gone. */
  async update(projectId: string, changes: ProjectChanges): Promise<ProjectDocument | null> {
    const set: Partial<ProjectDocument> = {};
    if (changes.name !== undefined && changes.name !== null) set.name = checkedName(changes.name);
    if (changes.timezone !== undefined && changes.timezone !== null) set.timezone = checkedTimeZone(changes.timezone);
    if (changes.weekStart !== undefined && changes.weekStart !== null) set.weekStart = changes.weekStart;
    const updated = await this.collections.projects.findOneAndUpdate({ _id: projectId }, { $set: set }, { returnDocument: 'after', writeConcern: DURABLE });
    if (updated !== null) this.byTokenCache.delete(updated.apiToken);
    return updated;
  }

  /** Projects the caller may see, oldest first. */
  async list(access: Access, size: number, after?: string | null): Promise<Page<ProjectDocument>> {
    const filter = access.visibleProjects();
    const afterId = after ? String(decodeCursor(after, ['string'])[0]) : undefined;
    const items = await this.collections.projects
      .find(afterId === undefined ? filter : { $and: [filter, { _id: { $gt: afterId } }] })
      .sort({ _id: 1 })
      .limit(size + 1)
      .toArray();
    return toPage(items, size, (p) => encodeCursor([p._id]));
  }

  /** The project owning a capture token (cached briefly, including misses, so junk tokens cannot hammer the database). */
  async byToken(token: string): Promise<ProjectDocument | null> {
    const cached = this.byTokenCache.get(token);
    if (cached !== undefined) return cached.project;
    const project = await this.collections.projects.findOne({ apiToken: token });
    this.byTokenCache.set(token, { project });
    return project;
  }
}

function checkedName(input: string): string {
  const name = input.trim();
  if (name === '' || name.length > MAX_NAME_LENGTH) throw new BadUserInputError(`A project name must have 1 to ${MAX_NAME_LENGTH} characters.`);
  return name;
}

function checkedTimeZone(zone: string): string {
  if (!isTimeZone(zone)) throw new BadUserInputError(`"${zone}" is not an IANA time zone such as "Europe/Berlin".`);
  return zone;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
