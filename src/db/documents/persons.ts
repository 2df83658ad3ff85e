/**
 * `persons`: one person. `_id` is a UUID string. Properties are stored with escaped keys and change
 * only through atomic per-key updates of a person that is not being merged (persons/person-store.ts);
 * `version` counts changes.
 */
export interface PersonDocument {
  _id: string;
  projectId: string;
  properties: Record<string, unknown>;
  isIdentified: boolean;
  /** The earliest timestamp of any event or merge source that made up this person. */
  createdAt: Date;
  version: number;
  updatedAt: Date;
  /**
   * Set while this person is being merged into another one: it is frozen from then on, and anyone who
   * meets it finishes the merge instead of writing to it (see persons/person-store.ts).
   */
  mergingInto?: string;
  /** True once this person's properties have been folded into `mergingInto`. */
  folded?: boolean;
}

/** `personDistinctIds`: which person a distinct id belongs to. Unique on `{projectId, distinctId}`. */
export interface PersonDistinctIdDocument {
  projectId: string;
  distinctId: string;
  personId: string;
  createdAt: Date;
}

/**
 * `personMerges`: where a merged-away person went. A writer holding a stale person id (read just
 * before the merge moved its distinct ids) follows this to the surviving person.
 */
export interface PersonMergeDocument {
  projectId: string;
  personId: string;
  mergedInto: string;
  mergedAt: Date;
}
