import type { Filter } from 'mongodb';
import type { EventDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { compileGroupPropertyFilter } from '../groups/filters.ts';
import { compileSessionPropertyFilter } from '../sessions/filters.ts';
import { compilePropertyCondition, MAX_PROPERTY_FILTERS, type EventFilter, type PropertyFilter } from './filters.ts';

/** How many persons, groups or sessions a filter may select before it must be narrowed. */
const MAX_MATCHED_ENTITIES = 50_000;
const MAX_GROUP_TYPES = 5;

/**
 * Turns person, group and session conditions into event conditions: the matching persons' distinct
 * ids, the matching groups' keys, the matching sessions' ids. Resolved at query time, so a merge is
 * reflected at once and events are never rewritten. Event conditions pass through untouched.
 */
export async function resolveEntityFilters(
  scope: ProjectScope,
  filter: EventFilter | null | undefined,
  maxTimeMS: number,
): Promise<{ filter: EventFilter | undefined; conditions: Filter<EventDocument>[] }> {
  const properties = filter?.properties ?? [];
  // Counted before person, group and session filters are resolved away, so each kind counts.
  if (properties.length > MAX_PROPERTY_FILTERS) throw new BadUserInputError(`At most ${MAX_PROPERTY_FILTERS} property filters.`);
  const own = properties.filter((p) => (p.type ?? 'event') === 'event');
  if (own.length === properties.length) return { filter: filter ?? undefined, conditions: [] };
  const of = (type: string) => properties.filter((p) => p.type === type);
  const conditions: Filter<EventDocument>[] = [];
  const persons = of('person');
  if (persons.length > 0) conditions.push({ distinctId: { $in: await personDistinctIds(scope, persons, maxTimeMS) } });
  const byGroupType = new Map<number, PropertyFilter[]>();
  for (const p of of('group')) {
    const index = p.groupTypeIndex;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= MAX_GROUP_TYPES) {
      throw new BadUserInputError(`Group filter on "${p.key}" needs a groupTypeIndex from 0 to ${MAX_GROUP_TYPES - 1}.`);
    }
    byGroupType.set(index, [...(byGroupType.get(index) ?? []), p]);
  }
  for (const [index, groupFilters] of byGroupType) {
    const keys = await matching(scope.data.groups.find({ typeIndex: index, $and: groupFilters.map(compileGroupPropertyFilter) }, { projection: { key: 1 }, maxTimeMS }), 'groups');
    conditions.push({ [`groups.g${index}`]: { $in: keys.map((g) => g.key) } } as Filter<EventDocument>);
  }
  const sessions = of('session');
  if (sessions.length > 0) {
    const found = await matching(scope.data.sessions.find({ $and: sessions.map(compileSessionPropertyFilter) }, { projection: { sessionId: 1 }, maxTimeMS }), 'sessions');
    conditions.push({ sessionId: { $in: found.map((s) => s.sessionId) } });
  }
  return { filter: { ...filter, properties: own }, conditions };
}

/** The distinct ids of every person matching all `filters` (person properties). */
async function personDistinctIds(scope: ProjectScope, filters: PropertyFilter[], maxTimeMS: number): Promise<string[]> {
  const persons = await matching(
    scope.data.persons.find({ $and: filters.map((p) => compilePropertyCondition(p)) }, { projection: { _id: 1 }, maxTimeMS }),
    'persons',
  );
  if (persons.length === 0) return [];
  const ids = await matching(scope.data.personDistinctIds.find({ personId: { $in: persons.map((p) => p._id) } }, { projection: { distinctId: 1 }, maxTimeMS }), 'distinct ids');
  return ids.map((d) => d.distinctId);
}

async function matching<T>(cursor: { limit(n: number): { toArray(): Promise<T[]> } }, what: string): Promise<T[]> {
  const found = await cursor.limit(MAX_MATCHED_ENTITIES + 1).toArray();
  if (found.length > MAX_MATCHED_ENTITIES) {
    throw new BadUserInputError(`The filter matches more than ${MAX_MATCHED_ENTITIES} ${what}; narrow it.`);
  }
  return found;
}
