import type { Filter } from 'mongodb';
import type { GroupDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../graphql/connections.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { searchPattern } from '../../graphql/search-text.ts';
import { MAX_GROUP_TYPES } from './keys.ts';
import { toGroupModel, toGroupTypeModel, type GroupModel, type GroupTypeModel } from './model.ts';

/** Bound on every user-driven read, so one heavy search cannot hold the database. */
const MAX_TIME_MS = 15_000;

/** The project's group types by index. */
export async function listGroupTypes(scope: ProjectScope): Promise<GroupTypeModel[]> {
  const docs = await scope.data.groupTypes.find({}, { sort: { index: 1 }, maxTimeMS: MAX_TIME_MS }).toArray();
  return docs.map(toGroupTypeModel);
}

/**
 * Groups of one type ordered by key, keyset-paginated on the key (unique within a type, and never
 * changes), so a walk sees each group once however groups are added or updated meanwhile.
 * `search` matches a case-insensitive substring of the key or of the `name` property.
 */
export async function listGroups(
  scope: ProjectScope,
  typeIndex: number,
  search: string | null | undefined,
  size: number,
  after?: string | null,
): Promise<Page<GroupModel>> {
  if (!Number.isInteger(typeIndex) || typeIndex < 0 || typeIndex >= MAX_GROUP_TYPES) {
    throw new BadUserInputError(`"typeIndex" must be between 0 and ${MAX_GROUP_TYPES - 1}.`);
  }
  const conditions: Filter<GroupDocument>[] = [{ typeIndex }];
  const pattern = searchPattern(search);
  if (pattern !== undefined) {
    conditions.push({ $or: [{ key: { $regex: pattern, $options: 'i' } }, { 'properties.name': { $regex: pattern, $options: 'i' } }] });
  }
  if (after) conditions.push({ key: { $gt: String(decodeCursor(after, ['string'])[0]) } });
  const [docs, type] = await Promise.all([
    scope.data.groups.find({ $and: conditions }, { sort: { key: 1 }, limit: size + 1, maxTimeMS: MAX_TIME_MS }).toArray(),
    scope.data.groupTypes.findOne({ index: typeIndex }),
  ]);
  const page = toPage(docs, size, (doc) => encodeCursor([doc.key]));
  const typeName = type?.name ?? null;
  return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: toGroupModel(e.node, typeName) })), pageInfo: page.pageInfo };
}

