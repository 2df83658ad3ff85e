/** `groupTypes`: a project's group types (at most 5), with the index assigned on first sight. */
export interface GroupTypeDocument {
  projectId: string;
  /** 0..4, in order of first appearance. */
  index: number;
  name: string;
  createdAt: Date;
}

/** `groups`: one group (e.g. a company), keyed by type index and key. Properties have escaped keys. */
export interface GroupDocument {
  projectId: string;
  typeIndex: number;
  key: string;
  properties: Record<string, unknown>;
  /** The earliest event timestamp that mentioned the group. */
  createdAt: Date;
  updatedAt: Date;
  version: number;
}
