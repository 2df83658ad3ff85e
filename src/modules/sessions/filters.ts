import type { Filter } from 'mongodb';
import type { SessionDocument } from '../../db/documents.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { compilePropertyCondition, type PropertyFilter } from '../events/filters.ts';

/** PostHog's session property names and the session document fields they are stored in. */
export const SESSION_PROPERTY_FIELDS = {
  $session_id: 'sessionId',
  $start_timestamp: 'startTimestamp',
  $end_timestamp: 'endTimestamp',
  $session_duration: 'duration',
  $entry_current_url: 'entry.currentUrl',
  $entry_pathname: 'entry.pathname',
  $entry_referrer: 'entry.referrer',
  $entry_referring_domain: 'entry.referringDomain',
  $entry_utm_source: 'entry.utmSource',
  $entry_utm_medium: 'entry.utmMedium',
  $entry_utm_campaign: 'entry.utmCampaign',
  $entry_utm_term: 'entry.utmTerm',
  $entry_utm_content: 'entry.utmContent',
  $entry_gclid: 'entry.gclid',
  $entry_gad_source: 'entry.gadSource',
  $exit_current_url: 'exit.currentUrl',
  $exit_pathname: 'exit.pathname',
  $pageview_count: 'pageviewCount',
  $autocapture_count: 'autocaptureCount',
  $is_bounce: 'isBounce',
  $channel_type: 'channelType',
} as const;

export type SessionPropertyName = keyof typeof SESSION_PROPERTY_FIELDS;

const TIMESTAMP_PROPERTIES: ReadonlySet<string> = new Set<SessionPropertyName>(['$start_timestamp', '$end_timestamp']);
const RANGE_OPERATORS = { gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte' } as const;

/** Which sessions to list; all conditions must hold. */
export interface SessionFilter {
  /** Inclusive lower bound on the session's start. */
  after?: Date | null;
  /** Exclusive upper bound on the session's start. */
  before?: Date | null;
  /** The distinct id of the session's first event. */
  distinctId?: string | null;
  /** Sessions whose first event's distinct id is one of these (a person's ids). */
  distinctIds?: readonly string[] | null;
  properties?: PropertyFilter[] | null;
}

const MAX_PROPERTY_FILTERS = 50;

/**
 * One condition on a session property (PostHog's name, e.g. `$session_duration` or `$entry_utm_source`)
 * as a filter on the session document. Values are operands of fixed operators only. Timestamps
 * compare as instants: range operators take an ISO date or epoch milliseconds.
 */
export function compileSessionPropertyFilter(filter: PropertyFilter): Filter<SessionDocument> {
  if (!Object.hasOwn(SESSION_PROPERTY_FIELDS, filter.key)) {
    throw new BadUserInputError(`"${filter.key}" is not a session property. Use one of: ${Object.keys(SESSION_PROPERTY_FIELDS).join(', ')}.`, {
      allowed: Object.keys(SESSION_PROPERTY_FIELDS),
    });
  }
  const path = SESSION_PROPERTY_FIELDS[filter.key as SessionPropertyName];
  if (TIMESTAMP_PROPERTIES.has(filter.key) && filter.operator !== 'is_set' && filter.operator !== 'is_not_set') {
    return timestampCondition(filter, path);
  }
  return compilePropertyCondition(filter, path) as Filter<SessionDocument>;
}

/** The filter of a session list (without `projectId`; the project scope adds it). */
export function compileSessionFilter(filter: SessionFilter | null | undefined): Filter<SessionDocument> {
  const and: Filter<SessionDocument>[] = [];
  if (filter?.after && filter?.before && filter.after >= filter.before) {
    throw new BadUserInputError('"after" must be earlier than "before".');
  }
  if (filter?.after) and.push({ startTimestamp: { $gte: filter.after } });
  if (filter?.before) and.push({ startTimestamp: { $lt: filter.before } });
  if (filter?.distinctId !== undefined && filter.distinctId !== null) and.push({ distinctId: { $eq: filter.distinctId } });
  if (filter?.distinctIds !== undefined && filter.distinctIds !== null) and.push({ distinctId: { $in: [...filter.distinctIds] } });
  const properties = filter?.properties ?? [];
  if (properties.length > MAX_PROPERTY_FILTERS) throw new BadUserInputError(`At most ${MAX_PROPERTY_FILTERS} property filters.`);
  for (const property of properties) {
    // A session list filters on session properties; a filter naming another kind is a mistake, not a no-op.
    if ((property.type ?? 'session') !== 'session') {
      throw new BadUserInputError(`Filters of type "${property.type}" are not available on sessions; use session properties.`);
    }
    and.push(compileSessionPropertyFilter(property));
  }
  if (and.length === 0) return {};
  return and.length === 1 ? and[0]! : { $and: and };
}

function timestampCondition({ key, operator, value }: PropertyFilter, path: string): Filter<SessionDocument> {
  if (!Object.hasOwn(RANGE_OPERATORS, operator)) {
    throw new BadUserInputError(`"${key}" is a timestamp: filter it with gt, gte, lt, lte, is_set or is_not_set.`);
  }
  const instant = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (instant === undefined || Number.isNaN(instant.getTime())) {
    throw new BadUserInputError(`Filter on "${key}" needs an ISO date or epoch milliseconds.`);
  }
  return { [path]: { [RANGE_OPERATORS[operator as keyof typeof RANGE_OPERATORS]]: instant } } as Filter<SessionDocument>;
}
