import { createRequire } from 'node:module';
import type { Filter } from 'mongodb';
import type { EventDocument } from '../../db/documents.ts';
import { escapeKey } from '../../db/property-keys.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import { escapeRegex } from '../../graphql/search-text.ts';

// CommonJS package without an ESM entry.
const isSafeRegex = createRequire(import.meta.url)('safe-regex2') as (pattern: string | RegExp) => boolean;

export const PROPERTY_OPERATORS = ['exact', 'is_not', 'icontains', 'regex', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
export type PropertyOperator = (typeof PROPERTY_OPERATORS)[number];

export const PROPERTY_FILTER_TYPES = ['event', 'person', 'group', 'session'] as const;
/** Whose property a filter tests: the event's own, or its person's, group's or session's. */
export type PropertyFilterType = (typeof PROPERTY_FILTER_TYPES)[number];

/** One condition on a property, as a user writes it (PostHog's operator names). */
export interface PropertyFilter {
  key: string;
  operator: PropertyOperator;
  /** A scalar, or a list of scalars for `exact`/`is_not`. Ignored by `is_set`/`is_not_set`. */
  value?: unknown;
  /** Default `event`. */
  type?: PropertyFilterType | null;
  /** Which group type a `group` filter tests (0..4). */
  groupTypeIndex?: number | null;
}

/** Which events to return; all conditions must hold. */
export interface EventFilter {
  events?: string[] | null;
  /** Inclusive lower bound on `timestamp`. */
  after?: Date | null;
  /** Exclusive upper bound on `timestamp`. */
  before?: Date | null;
  distinctId?: string | null;
  properties?: PropertyFilter[] | null;
}

const MAX_EVENT_NAMES = 100;
/** Across all types (event, person, group, session) of one filter. */
export const MAX_PROPERTY_FILTERS = 50;
const MAX_LIST_VALUES = 1000;
const MAX_PATTERN_LENGTH = 500;

type Scalar = string | number | boolean | null;

/**
 * Compiles a typed filter into a MongoDB filter (without `projectId`; the project scope adds it).
 * Values only ever appear as operands of fixed operators, so no user input can become an operator.
 */
export function compileEventFilter(filter: EventFilter | null | undefined): Filter<EventDocument> {
  const and: Filter<EventDocument>[] = [];
  if (filter?.events) {
    if (filter.events.length > MAX_EVENT_NAMES) throw new BadUserInputError(`At most ${MAX_EVENT_NAMES} event names per filter.`);
    and.push({ event: { $in: filter.events } });
  }
  if (filter?.after && filter?.before && filter.after >= filter.before) {
    throw new BadUserInputError('"after" must be earlier than "before".');
  }
  if (filter?.after) and.push({ timestamp: { $gte: filter.after } });
  if (filter?.before) and.push({ timestamp: { $lt: filter.before } });
  if (filter?.distinctId !== undefined && filter.distinctId !== null) and.push({ distinctId: { $eq: filter.distinctId } });
  const properties = filter?.properties ?? [];
  if (properties.length > MAX_PROPERTY_FILTERS) throw new BadUserInputError(`At most ${MAX_PROPERTY_FILTERS} property filters.`);
  for (const property of properties) {
    // Person, group and session conditions need reads of their own collections; the event service
    // resolves them into event conditions first (entity-filters.ts), so any left here are unsupported.
    if ((property.type ?? 'event') !== 'event') {
      throw new BadUserInputError(`Filters of type "${property.type}" are not available here; use event properties.`);
    }
    and.push(compilePropertyCondition(property) as Filter<EventDocument>);
  }
  if (and.length === 0) return {};
  return and.length === 1 ? (and[0] as Filter<EventDocument>) : { $and: and };
}

/**
 * One condition as a MongoDB filter on the document field `path` — by default the escaped key under
 * `properties`, as events, persons and groups store them; sessions pass their own field.
 */
export function compilePropertyCondition({ key, operator, value }: PropertyFilter, path = `properties.${escapeKey(key)}`): Record<string, unknown> {
  if (key === '') throw new BadUserInputError('A property filter needs a key.');
  switch (operator) {
    case 'is_set':
      return { [path]: { $exists: true } };
    case 'is_not_set':
      return { [path]: { $exists: false } };
    case 'exact':
      return equalsAny(path, scalarList(key, value));
    case 'is_not':
      return { $nor: [equalsAny(path, scalarList(key, value))] };
    case 'icontains':
      return { [path]: { $regex: escapeRegex(stringValue(key, operator, value)), $options: 'i', ...NOT_AN_ARRAY } };
    case 'regex':
      return { [path]: { $regex: safePattern(key, stringValue(key, operator, value)), ...NOT_AN_ARRAY } };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return numericComparison(path, operator, numberValue(key, operator, value));
  }
}

/**
 * MongoDB matches a scalar condition against each element of an array, so `exact "a"` would select
 * `["a", "b"]` and `is_not "a"` would drop it. PostHog compares the whole value, and an array is
 * never equal to, nor a substring match of, a scalar.
 */
const NOT_AN_ARRAY = { $not: { $type: 'array' } };

/**
 * The property is present, is not an array, and equals one of `values`. `$exists` keeps `null` from
 * also selecting events that lack the property (MongoDB treats missing as null in `$in`).
 */
function equalsAny(path: string, values: Scalar[]): Record<string, unknown> {
  return { [path]: { $exists: true, $in: values, ...NOT_AN_ARRAY } };
}

/** A number in decimal notation. Blank, hexadecimal or word strings ("", "0x1F", "Infinity") are not numbers. */
const DECIMAL_NUMBER = '^[+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+)(?:[eE][+-]?[0-9]+)?$';

/**
 * PostHog compares numerically after converting, so "42" and 42 both pass `gt 10`. Only numbers and
 * strings in decimal notation take part; booleans, other strings, arrays and missing values never
 * match. Strings are checked against {@link DECIMAL_NUMBER} before converting because converters
 * disagree on the rest (JavaScript reads "" as 0, MongoDB refuses it).
 */
function numericComparison(path: string, operator: 'gt' | 'gte' | 'lt' | 'lte', bound: number): Record<string, unknown> {
  const field = `$${path}`;
  const type = { $type: field };
  const fromString = {
    $cond: [{ $regexMatch: { input: field, regex: DECIMAL_NUMBER } }, { $convert: { input: field, to: 'double', onError: null, onNull: null } }, null],
  };
  const numeric = {
    $cond: [{ $in: [type, ['double', 'int', 'long', 'decimal']] }, field, { $cond: [{ $eq: [type, 'string'] }, fromString, null] }],
  };
  return {
    $expr: {
      $let: {
        vars: { v: numeric },
        in: { $and: [{ $ne: ['$$v', null] }, { [`$${operator}`]: ['$$v', { $literal: bound }] }] },
      },
    },
  };
}

function scalarList(key: string, value: unknown): Scalar[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_LIST_VALUES) {
    throw new BadUserInputError(`Filter on "${key}" needs 1 to ${MAX_LIST_VALUES} values.`);
  }
  for (const item of list) {
    if (item !== null && !['string', 'number', 'boolean'].includes(typeof item)) {
      throw new BadUserInputError(`Filter on "${key}": values must be strings, numbers, booleans or null.`);
    }
  }
  return list as Scalar[];
}

function stringValue(key: string, operator: string, value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string' || value === '') {
    throw new BadUserInputError(`Filter on "${key}" with "${operator}" needs a non-empty string value.`);
  }
  return value;
}

function numberValue(key: string, operator: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new BadUserInputError(`Filter on "${key}" with "${operator}" needs a number.`);
  }
  return n;
}


/**
 * User patterns run inside the database (on the embedded store, on the server's event loop), so
 * patterns prone to catastrophic backtracking are refused before they run.
 */
function safePattern(key: string, pattern: string): string {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new BadUserInputError(`Regex on "${key}" is longer than ${MAX_PATTERN_LENGTH} characters.`);
  }
  try {
    new RegExp(pattern);
  } catch {
    throw new BadUserInputError(`Regex on "${key}" is not a valid pattern.`);
  }
  if (!isSafeRegex(pattern)) {
    throw new BadUserInputError(`Regex on "${key}" has nested repetition that could run for a very long time; simplify it.`);
  }
  return pattern;
}
