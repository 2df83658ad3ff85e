import type { Filter } from 'mongodb';
import type { EventDefinitionDocument, PropertyDefinitionDocument, PropertyDefinitionKind, PropertyValueType } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../graphql/connections.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { MAX_GROUP_TYPES } from '../groups/keys.ts';
import { searchPattern } from '../../graphql/search-text.ts';
import { SESSION_PROPERTIES } from './session-properties.ts';

/** Bound on every user-driven read. */
const MAX_TIME_MS = 15_000;

export interface EventDefinitionModel {
  name: string;
  firstSeen: Date;
  lastSeen: Date;
  volume: number;
}

/** A property definition; session ones are computed, so they have no dates and no volume. */
export interface PropertyDefinitionModel {
  key: string;
  kind: PropertyDefinitionKind;
  groupTypeIndex: number | null;
  valueType: PropertyValueType;
  firstSeen: Date | null;
  lastSeen: Date | null;
  volume: number | null;
}

/**
 * Event names, most frequent first (ties by name), keyset-paginated on (volume, name). Volumes grow
 * while a walk is in progress, so a name whose volume crosses the cursor can appear twice or not at
 * all across pages; within one page the order is exact.
 */
export async function listEventDefinitions(scope: ProjectScope, search: string | null | undefined, size: number, after?: string | null): Promise<Page<EventDefinitionModel>> {
  const conditions: Filter<EventDefinitionDocument>[] = [];
  const pattern = searchPattern(search);
  if (pattern !== undefined) conditions.push({ name: { $regex: pattern, $options: 'i' } });
  if (after) {
    const [volume, name] = decodeCursor(after, ['number', 'string']) as [number, string];
    conditions.push({ $or: [{ volume: { $lt: volume } }, { volume, name: { $gt: name } }] });
  }
  const docs = await scope.data.eventDefinitions
    .find(conditions.length === 0 ? {} : { $and: conditions }, { sort: { volume: -1, name: 1 }, limit: size + 1, maxTimeMS: MAX_TIME_MS })
    .toArray();
  const page = toPage(docs, size, (d) => encodeCursor([d.volume, d.name]));
  return {
    edges: page.edges.map(({ cursor, node: d }) => ({ cursor, node: { name: d.name, firstSeen: d.firstSeen, lastSeen: d.lastSeen, volume: d.volume } })),
    pageInfo: page.pageInfo,
  };
}

/** Which property definitions to list. */
export interface PropertyDefinitionQuery {
  kind?: PropertyDefinitionKind | null;
  /** Only group properties of this type index; implies kind `group`. */
  groupTypeIndex?: number | null;
  search?: string | null;
}

type Position = [key: string, kind: string, groupTypeIndex: number];

/**
 * Property definitions ordered by key, then kind, then group type index; keyset-paginated on that
 * triple (none of it ever changes, so walks are exact). Session properties come from a constant list
 * and are merged in when the kind is `session` or not given.
 */
export async function listPropertyDefinitions(scope: ProjectScope, query: PropertyDefinitionQuery, size: number, after?: string | null): Promise<Page<PropertyDefinitionModel>> {
  const groupTypeIndex = query.groupTypeIndex ?? undefined;
  if (groupTypeIndex !== undefined) {
    if (!Number.isInteger(groupTypeIndex) || groupTypeIndex < 0 || groupTypeIndex >= MAX_GROUP_TYPES) {
      throw new BadUserInputError(`"groupTypeIndex" must be between 0 and ${MAX_GROUP_TYPES - 1}.`);
    }
    if (query.kind !== null && query.kind !== undefined && query.kind !== 'group') {
      throw new BadUserInputError('"groupTypeIndex" only applies to group properties.');
    }
  }
  const kind = groupTypeIndex !== undefined ? 'group' : (query.kind ?? undefined);
  const pattern = searchPattern(query.search);
  const position = after ? (decodeCursor(after, ['string', 'string', 'number']) as Position) : undefined;

  const stored = kind === 'session' ? [] : await storedDefinitions(scope, kind, groupTypeIndex, pattern, position, size + 1);
  const session = kind === undefined || kind === 'session' ? sessionDefinitions(query.search, position) : [];
  const merged = [...stored, ...session].sort((a, b) => compare(positionOf(a), positionOf(b))).slice(0, size + 1);
  return toPage(merged, size, (d) => encodeCursor(positionOf(d)));
}

async function storedDefinitions(
  scope: ProjectScope,
  kind: PropertyDefinitionKind | undefined,
  groupTypeIndex: number | undefined,
  pattern: string | undefined,
  position: Position | undefined,
  limit: number,
): Promise<PropertyDefinitionModel[]> {
  const conditions: Filter<PropertyDefinitionDocument>[] = [];
  if (kind !== undefined) conditions.push({ kind });
  if (groupTypeIndex !== undefined) conditions.push({ groupTypeIndex });
  if (pattern !== undefined) conditions.push({ key: { $regex: pattern, $options: 'i' } });
  if (position !== undefined) {
    const [key, afterKind, afterIndex] = position;
    conditions.push({
      $or: [{ key: { $gt: key } }, { key, kind: { $gt: afterKind } }, { key, kind: afterKind, groupTypeIndex: { $gt: afterIndex } }],
    } as Filter<PropertyDefinitionDocument>);
  }
  const docs = await scope.data.propertyDefinitions
    .find(conditions.length === 0 ? {} : { $and: conditions }, { sort: { key: 1, kind: 1, groupTypeIndex: 1 }, limit, maxTimeMS: MAX_TIME_MS })
    .toArray();
  return docs.map((d) => ({
    key: d.key,
    kind: d.kind,
    groupTypeIndex: d.kind === 'group' ? d.groupTypeIndex : null,
    valueType: d.valueType,
    firstSeen: d.firstSeen,
    lastSeen: d.lastSeen,
    volume: d.volume,
  }));
}

function sessionDefinitions(search: string | null | undefined, position: Position | undefined): PropertyDefinitionModel[] {
  const needle = search?.toLowerCase() ?? '';
  return SESSION_PROPERTIES.filter((p) => p.key.toLowerCase().includes(needle))
    .map((p): PropertyDefinitionModel => ({ key: p.key, kind: 'session', groupTypeIndex: null, valueType: p.valueType, firstSeen: null, lastSeen: null, volume: null }))
    .filter((d) => position === undefined || compare(positionOf(d), position) > 0);
}

function positionOf(d: PropertyDefinitionModel): Position {
  return [d.key, d.kind, d.groupTypeIndex ?? -1];
}

/**
 * The database's order. Keys compare by code unit here and by UTF-8 byte in the database; the two
 * agree whenever one side is ASCII, which every constant (session) key is, so merging stays consistent.
 */
function compare(a: Position, b: Position): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2];
}
