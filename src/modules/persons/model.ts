import type { PersonDocument } from '../../db/documents.ts';
import { unescapeKeys } from '../../db/property-keys.ts';

/** A person as the API presents it: properties carry the keys the SDK sent. Distinct ids load separately. */
export interface PersonModel {
  id: string;
  projectId: string;
  properties: Record<string, unknown>;
  isIdentified: boolean;
  createdAt: Date;
}

export function toPersonModel(doc: PersonDocument): PersonModel {
  return {
    id: doc._id,
    projectId: doc.projectId,
    properties: unescapeKeys(doc.properties) as Record<string, unknown>,
    isIdentified: doc.isIdentified,
    createdAt: doc.createdAt,
  };
}
