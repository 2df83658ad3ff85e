import { ObjectId } from 'mongodb';
import { LRUCache } from 'lru-cache';
import type { Collections } from '../../db/collections.ts';
import type { ProjectDocument } from '../../db/documents.ts';
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
    const name = input.name.trim();
    if (name === '' || name.length > MAX_NAME_LENGTH) {
      throw new BadUserInputError(`A project name must have 1 to ${MAX_NAME_LENGTH} characters.`);
    }
    const timezone = input.timezone ?? 'UTC';
    if (!isTimeZone(timezone)) throw new BadUserInputError(`"${timezone}" is not an IANA time zone such as "Europe/Berlin".`);
    const project: ProjectDocument = {
      _id: new ObjectId().toHexString(),
      name,
      apiToken: newProjectToken(),
      timezone,
      createdAt: new Date(),
    };
    await this.collections.projects.insertOne(project, { writeConcern: DURABLE });
    return project;
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

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
