import { Query } from 'mingo';
import type { AnyObject } from 'mingo/types';
import type { EventDocument } from '../db/documents.ts';
import type { ProjectScope } from '../db/project-scope.ts';
import { compileEventFilter, type EventFilter } from '../modules/events/filters.ts';

/** Decides whether a stored event belongs to a subscription. */
export type EventMatcher = (doc: EventDocument) => boolean;

/**
 * The live twin of the `events` query: the very filter that query sends to the database, project
 * predicate included, evaluated in memory. It runs on the stored document, whose property keys are
 * still escaped exactly as the compiled filter expects, so it must see documents before unescaping.
 * Compiling here also means a bad filter fails the subscribe call, as it fails the query.
 */
export function eventMatcher(scope: ProjectScope, filter: EventFilter | undefined): EventMatcher {
  const query = new Query(scope.scoped(compileEventFilter(filter)) as AnyObject);
  return (doc) => query.test(doc as unknown as AnyObject);
}
