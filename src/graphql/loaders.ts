import DataLoader from 'dataloader';
import type { Collections } from '../db/collections.ts';
import type { ProjectDocument } from '../db/documents.ts';
import { createPersonLoaders, type PersonLoaders } from '../modules/persons/loaders.ts';

/** Request-scoped loaders: created per request (and per subscription event), never shared between callers. */
export interface Loaders extends PersonLoaders {
  projectById: DataLoader<string, ProjectDocument | null>;
}

export function createLoaders(collections: Collections): Loaders {
  return {
    ...createPersonLoaders(collections),
    projectById: new DataLoader(
      async (ids) => {
        const docs = await collections.projects.find({ _id: { $in: [...ids] } }).toArray();
        const byId = new Map(docs.map((doc) => [doc._id, doc]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: 100 },
    ),
  };
}
