import DataLoader from 'dataloader';
import type { Collections } from '../../db/collections.ts';
import type { PersonDocument } from '../../db/documents.ts';
import { ScopedCollection } from '../../db/scoped-collection.ts';

/** A key inside one project; loaders serve every project of a request, so the project is part of the key. */
export interface ProjectKey {
  projectId: string;
  id: string;
}

const cacheKey = (key: ProjectKey) => `${key.projectId}\u0000${key.id}`;
const MAX_BATCH = 1000;

/** Groups keys by project so each batch is one `$in` query per project. */
function byProject(keys: readonly ProjectKey[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const ids = groups.get(key.projectId) ?? [];
    ids.push(key.id);
    groups.set(key.projectId, ids);
  }
  return groups;
}

/**
 * Person lookups for one request. Keys come from data the caller was already allowed to read (an
 * event's or a person's project), and every query still goes through a project-scoped collection. An event's person is found in two batched queries for a whole page
 * (distinct ids → person ids, then persons), never one query per event.
 */
export function createPersonLoaders(collections: Collections) {
  const personIdByDistinctId = new DataLoader<ProjectKey, string | null, string>(
    async (keys) => {
      const found = new Map<string, string>();
      for (const [projectId, distinctIds] of byProject(keys)) {
        const docs = await new ScopedCollection(collections.personDistinctIds, projectId).find({ distinctId: { $in: distinctIds } }).toArray();
        for (const doc of docs) found.set(cacheKey({ projectId, id: doc.distinctId }), doc.personId);
      }
      return keys.map((key) => found.get(cacheKey(key)) ?? null);
    },
    { cacheKeyFn: cacheKey, maxBatchSize: MAX_BATCH },
  );
  const personById = new DataLoader<ProjectKey, PersonDocument | null, string>(
    async (keys) => {
      const found = new Map<string, PersonDocument>();
      for (const [projectId, ids] of byProject(keys)) {
        const docs = await new ScopedCollection(collections.persons, projectId).find({ _id: { $in: ids } }).toArray();
        for (const doc of docs) if (doc.mergingInto === undefined) found.set(cacheKey({ projectId, id: doc._id }), doc);
      }
      return keys.map((key) => found.get(cacheKey(key)) ?? null);
    },
    { cacheKeyFn: cacheKey, maxBatchSize: MAX_BATCH },
  );
  const distinctIdsByPerson = new DataLoader<ProjectKey, string[], string>(
    async (keys) => {
      const found = new Map<string, string[]>();
      for (const [projectId, ids] of byProject(keys)) {
        const docs = await new ScopedCollection(collections.personDistinctIds, projectId).find({ personId: { $in: ids } }, { sort: { createdAt: 1, distinctId: 1 } }).toArray();
        for (const doc of docs) {
          const key = cacheKey({ projectId, id: doc.personId });
          found.set(key, [...(found.get(key) ?? []), doc.distinctId]);
        }
      }
      return keys.map((key) => found.get(cacheKey(key)) ?? []);
    },
    { cacheKeyFn: cacheKey, maxBatchSize: MAX_BATCH },
  );
  return { personIdByDistinctId, personById, distinctIdsByPerson };
}

export type PersonLoaders = ReturnType<typeof createPersonLoaders>;
