import type { GroupDocument, GroupTypeDocument } from '../../db/documents.ts';
import { unescapeKeys } from '../../db/property-keys.ts';

/** A group type as the API presents it. */
export interface GroupTypeModel {
  index: number;
  name: string;
  createdAt: Date;
}

/** A group as the API presents it: properties carry the keys the SDK sent. */
export interface GroupModel {
  typeIndex: number;
  /** Null only if the type record is missing (never written by this server). */
  typeName: string | null;
  key: string;
  properties: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export function toGroupTypeModel(doc: GroupTypeDocument): GroupTypeModel {
  return { index: doc.index, name: doc.name, createdAt: doc.createdAt };
}

export function toGroupModel(doc: GroupDocument, typeName: string | null): GroupModel {
  return {
    typeIndex: doc.typeIndex,
    typeName,
    key: doc.key,
    properties: unescapeKeys(doc.properties ?? {}) as Record<string, unknown>,
    createdAt: doc.createdAt,
    // A group only ever mentioned has had no property change since it was created.
    updatedAt: doc.updatedAt ?? doc.createdAt,
  };
}
