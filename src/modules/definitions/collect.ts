import type { PropertyDefinitionKind, PropertyValueType } from '../../db/documents.ts';
import { isPlainObject, own, type JsonObject } from '../../ingest/json-values.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { valueTypeOf } from './value-type.ts';

/** Keys longer than this are not recorded as definitions (they are still stored on the event). */
export const MAX_DEFINITION_KEY_LENGTH = 400;
/**
 * New keys of one kind recorded per request. Definitions feed a query builder, and each new key costs
 * an upsert on the capture path: an event with 50,000 keys must not turn into 50,000 writes. Keys
 * beyond this are recorded when a later, narrower request carries them.
 */
export const MAX_NEW_KEYS_PER_REQUEST = 1000;

/** Properties that carry operations on other entities; their inner keys are recorded under their own kind. */
const CONTAINERS = new Set(['$set', '$set_once', '$unset', '$groups', '$group_set', '$group_set_once']);

/** Seen range and count, folded over a request's events. */
export interface Seen {
  firstSeen: Date;
  lastSeen: Date;
  volume: number;
}

export interface PropertySeen extends Seen {
  kind: Exclude<PropertyDefinitionKind, 'session'>;
  /** -1 unless `kind` is `group`. */
  groupTypeIndex: number;
  key: string;
  /** Type of the first typed value, in event order. */
  valueType: PropertyValueType;
}

/** A request's definitions, one entry per event name and per (kind, group type, key). */
export interface CollectedDefinitions {
  events: Map<string, Seen & { name: string }>;
  /** Keyed by `kind \0 groupTypeIndex \0 key`. */
  properties: Map<string, PropertySeen>;
}

/** A range and count kept in epoch milliseconds while folding (comparing numbers, not Dates, keeps the loop cheap). */
interface Tally {
  first: number;
  last: number;
  volume: number;
}

interface PropertyTally extends Tally {
  kind: PropertySeen['kind'];
  groupTypeIndex: number;
  key: string;
  valueType: PropertyValueType;
  /** Ordinal of the last event counted, so a key is counted once per event. */
  lastEvent: number;
}

/** Per (kind, group type): key → tally. */
type Bucket = Map<string, PropertyTally>;

/**
 * Folds events into definitions in memory, so a request costs one write per distinct name or key
 * rather than one per event. A property's volume counts the events that carried it with a typed value
 * (a string, number or boolean); null, object and array values are not counted.
 * `groupTypeIndexOf` maps a group type name to its index, or undefined when unknown (then skipped).
 *
 * This runs for every captured event, so it avoids per-property allocation: a key already seen in
 * the request is only counted (its value type is fixed by the first value), never typed again.
 */
export function collectDefinitions(events: NormalizedEvent[], groupTypeIndexOf: (name: string) => number | undefined): CollectedDefinitions {
  const names = new Map<string, Tally>();
  const buckets = new Map<string, Bucket>();
  const bucketOf = (kind: PropertySeen['kind'], groupTypeIndex: number): Bucket => {
    const id = `${kind}\0${groupTypeIndex}`;
    let bucket = buckets.get(id);
    if (bucket === undefined) buckets.set(id, (bucket = new Map()));
    return bucket;
  };
  const eventBucket = bucketOf('event', -1);
  const personBucket = bucketOf('person', -1);

  events.forEach((event, ordinal) => {
    const at = event.timestamp.getTime();
    const name = names.get(event.event);
    if (name === undefined) names.set(event.event, { first: at, last: at, volume: 1 });
    else widen(name, at);

    const record = (bucket: Bucket, kind: PropertySeen['kind'], groupTypeIndex: number, source: JsonObject, skipContainers: boolean) => {
      for (const key in source) {
        if (!Object.hasOwn(source, key)) continue;
        const value = source[key];
        const type = typeof value;
        if (type !== 'string' && type !== 'number' && type !== 'boolean') continue;
        const entry = bucket.get(key);
        if (entry !== undefined) {
          // A key in both $set and $set_once of one event is one sighting.
          if (entry.lastEvent === ordinal) continue;
          entry.lastEvent = ordinal;
          widen(entry, at);
          continue;
        }
        if (key === '' || key.length > MAX_DEFINITION_KEY_LENGTH || (skipContainers && CONTAINERS.has(key))) continue;
        if (bucket.size >= MAX_NEW_KEYS_PER_REQUEST) continue;
        const valueType = valueTypeOf(value);
        if (valueType === undefined) continue;
        bucket.set(key, { kind, groupTypeIndex, key, valueType, first: at, last: at, volume: 1, lastEvent: ordinal });
      }
    };

    record(eventBucket, 'event', -1, event.properties, true);
    for (const container of ['$set', '$set_once'] as const) {
      const value = own(event.properties, container);
      if (isPlainObject(value)) record(personBucket, 'person', -1, value, false);
    }
    if (event.event === '$groupidentify') {
      const type = own(event.properties, '$group_type');
      const index = typeof type === 'string' ? groupTypeIndexOf(type) : undefined;
      if (index !== undefined) {
        const bucket = bucketOf('group', index);
        for (const container of ['$group_set', '$group_set_once'] as const) {
          const value = own(event.properties, container);
          if (isPlainObject(value)) record(bucket, 'group', index, value, false);
        }
      }
    }
  });

  const collected: CollectedDefinitions = { events: new Map(), properties: new Map() };
  for (const [name, t] of names) collected.events.set(name, { name, ...seenOf(t) });
  for (const bucket of buckets.values()) {
    for (const t of bucket.values()) {
      collected.properties.set(`${t.kind}\0${t.groupTypeIndex}\0${t.key}`, { kind: t.kind, groupTypeIndex: t.groupTypeIndex, key: t.key, valueType: t.valueType, ...seenOf(t) });
    }
  }
  return collected;
}

function widen(tally: Tally, at: number): void {
  if (at < tally.first) tally.first = at;
  else if (at > tally.last) tally.last = at;
  tally.volume += 1;
}

function seenOf(tally: Tally): Seen {
  return { firstSeen: new Date(tally.first), lastSeen: new Date(tally.last), volume: tally.volume };
}
