import { LRUCache } from 'lru-cache';
import type { ProjectScope } from '../../db/project-scope.ts';
import { DURABLE } from '../../db/write-concern.ts';
import { isDuplicateKey } from '../../db/write-errors.ts';
import { MAX_GROUP_TYPES } from './keys.ts';

/** Each failed claim reveals at least one type this process did not know, so a handful of rounds always settles. */
const MAX_CLAIM_ROUNDS = 2 * MAX_GROUP_TYPES + 2;

/** Options for {@link GroupTypeRegistry}. */
export interface GroupTypeRegistryOptions {
  /** Projects whose mapping is kept in memory. @default 10_000 */
  maxProjects?: number;
  /** How long a project's mapping is trusted without a reload. @default 600_000 (10 minutes) */
  ttlMs?: number;
}

/**
 * A project's group type names → indexes 0..4, assigned in order of first appearance.
 *
 * The `groupTypes` unique indexes on `{projectId, index}` and `{projectId, name}` are the only arbiter:
 * a new type is claimed by inserting it at the lowest free index, and a duplicate-key error (another
 * request or process won that index, or claimed the same name) means re-read and try again. Nothing is
 * decided from a read alone.
 *
 * The mapping is cached per project. It only ever grows (types are never renamed, moved or deleted), so
 * a cached entry can be incomplete but never wrong: a name it lacks costs one read, and a cache holding
 * five types answers "over the limit" without any query.
 */
export class GroupTypeRegistry {
  private readonly cache: LRUCache<string, ReadonlyMap<string, number>>;

  constructor(options: GroupTypeRegistryOptions = {}) {
    this.cache = new LRUCache({ max: options.maxProjects ?? 10_000, ttl: options.ttlMs ?? 600_000 });
  }

  /** The index of a type this process has already seen, without touching the database. */
  cachedIndex(projectId: string, name: string): number | undefined {
    return this.cache.get(projectId)?.get(name);
  }

  /**
   * Indexes for `names`, claiming new types in the order given. A name missing from the result did not
   * fit: the project already has {@link MAX_GROUP_TYPES} other types.
   */
  async resolve(scope: ProjectScope, names: Iterable<string>): Promise<Map<string, number>> {
    const wanted = [...new Set(names)];
    let known = this.cache.get(scope.projectId) ?? new Map<string, number>();
    if (wanted.every((name) => known.has(name) || known.size >= MAX_GROUP_TYPES)) return pick(known, wanted);
    known = await this.load(scope);
    for (const name of wanted) {
      if (!known.has(name) && known.size < MAX_GROUP_TYPES) known = await this.claim(scope, name, known);
    }
    return pick(known, wanted);
  }

  /** Forgets what this process knows about a project (the next use reloads it). */
  forget(projectId: string): void {
    this.cache.delete(projectId);
  }

  private async load(scope: ProjectScope): Promise<ReadonlyMap<string, number>> {
    const docs = await scope.data.groupTypes.find({}, { projection: { _id: 0, index: 1, name: 1 } }).toArray();
    const known = new Map(docs.map((doc) => [doc.name, doc.index] as const));
    this.cache.set(scope.projectId, known);
    return known;
  }

  /** Inserts `name` at the lowest free index; on a lost race, reloads and retries. Returns the updated mapping. */
  private async claim(scope: ProjectScope, name: string, start: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>> {
    let known = start;
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      if (known.has(name) || known.size >= MAX_GROUP_TYPES) return known;
      const used = new Set(known.values());
      let index = 0;
      while (used.has(index)) index += 1;
      try {
        // Durable: events naming this index are acknowledged after this, so the index must outlive a crash.
        await scope.data.groupTypes.insertOne({ index, name, createdAt: new Date() }, { writeConcern: DURABLE });
        const next = new Map(known).set(name, index);
        this.cache.set(scope.projectId, next);
        return next;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        known = await this.load(scope);
      }
    }
    throw new Error(`could not settle the index of group type "${name}" after ${MAX_CLAIM_ROUNDS} rounds`);
  }
}

function pick(known: ReadonlyMap<string, number>, names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of names) {
    const index = known.get(name);
    if (index !== undefined) out.set(name, index);
  }
  return out;
}

/** The registry capture uses: one per process, shared by every request. */
export const groupTypeRegistry = new GroupTypeRegistry();
