import type { Filter } from 'mongodb';
import type { GroupDocument } from '../../db/documents.ts';
import { compilePropertyCondition, type PropertyFilter } from '../events/filters.ts';

/**
 * One condition on a group property, as a filter on `groups` documents (without `projectId`; the scope
 * adds it). Group properties live under `properties.<escaped key>`, as event properties do, so the
 * operators behave exactly as they do for events.
 */
export function compileGroupPropertyFilter(filter: PropertyFilter): Filter<GroupDocument> {
  return compilePropertyCondition(filter) as Filter<GroupDocument>;
}
