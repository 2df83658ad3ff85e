import { LRUCache } from 'lru-cache';
import type { Document, UpdateFilter } from 'mongodb';
import type { GroupDocument, GroupSlot } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { escapeKey, escapeKeys } from '../../db/property-keys.ts';
import type { ScopedBulkOperation } from '../../db/scoped-collection.ts';
import { permanentFailures } from '../../db/write-errors.ts';
import { isPlainObject, own, type JsonObject } from '../../ingest/json-values.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import type { WarningSink } from '../../ingest/warnings.ts';
import { checkGroupKey, checkGroupTypeName, MAX_GROUP_TYPES, preview, slotOf } from './keys.ts';
import { groupTypeRegistry } from './type-registry.ts';

/** Stable codes of the warnings group processing raises. */
export const GROUP_WARNINGS = {
  typeLimit: 'group_type_limit_exceeded',
  invalidKey: 'invalid_group_key',
  invalidType: 'invalid_group_type',
  invalidGroups: 'invalid_groups',
  invalidProperties: 'invalid_group_properties',
} as const;

/**
 * Groups this process has written, with an upper bound of their stored `createdAt`. `createdAt` only
 * ever decreases, so a later mention at or after that bound cannot change the group and is skipped:
 * an SDK that sends the same `$groups` on every event costs no group write after the first.
 */
const writtenGroups = new LRUCache<string, number>({ max: 100_000, ttl: 600_000 });

/** One event's `(type, key)` pairs that passed validation, in the order sent. */
interface EventGroups {
  event: NormalizedEvent;
  pairs: [type: string, key: string][];
}

/** A `$groupidentify` that passed validation. */
interface Identify {
  event: NormalizedEvent;
  type: string;
  key: string;
  set: JsonObject;
  setOnce: JsonObject;
}

/** What one request does to one group, folded from its events in order. Keys of `set`/`setOnce` are escaped. */
interface PendingGroup {
  typeIndex: number;
  typeName: string;
  key: string;
  createdAt: Date;
  identified: boolean;
  /** Final `$set` values: a later event's value replaces an earlier one. */
  set: Map<string, unknown>;
  /** `$set_once` values for keys no event of the request `$set`; the earliest wins. */
  setOnce: Map<string, unknown>;
}

/**
 * Resolves each event's `$groups` to type indexes (setting `event.groups`), records every group
 * mentioned, and applies `$groupidentify` property updates. Idempotent: a retried request writes the
 * same values again. Throws only when the database did not confirm a write (the request then answers
 * 503 and the SDK retries); bad input becomes ingestion warnings.
 */
export async function processGroups(scope: ProjectScope, events: NormalizedEvent[], warnings: WarningSink): Promise<void> {
  const mentions: EventGroups[] = [];
  const identifies: Identify[] = [];
  const typeNames: string[] = [];
  for (const event of events) {
    const identify = event.event === '$groupidentify' ? readIdentify(event, warnings) : undefined;
    if (identify !== undefined) {
      identifies.push(identify);
      typeNames.push(identify.type);
    }
    const pairs = readGroups(event, warnings);
    if (pairs.length > 0) {
      mentions.push({ event, pairs });
      for (const [type] of pairs) typeNames.push(type);
    }
  }
  if (typeNames.length === 0) return;

  const indexes = await groupTypeRegistry.resolve(scope, typeNames);
  const pending = new Map<string, PendingGroup>();
  const groupOf = (type: string, key: string, event: NormalizedEvent): PendingGroup | undefined => {
    const typeIndex = indexes.get(type);
    if (typeIndex === undefined) {
      warnings.add(GROUP_WARNINGS.typeLimit, { groupType: preview(type), limit: MAX_GROUP_TYPES, message: `The project already has ${MAX_GROUP_TYPES} group types; "${preview(type)}" was ignored.` }, event);
      return undefined;
    }
    const id = `${typeIndex}\0${key}`;
    let group = pending.get(id);
    if (group === undefined) {
      group = { typeIndex, typeName: type, key, createdAt: event.timestamp, identified: false, set: new Map(), setOnce: new Map() };
      pending.set(id, group);
    } else if (event.timestamp < group.createdAt) {
      group.createdAt = event.timestamp;
    }
    return group;
  };

  for (const { event, pairs } of mentions) {
    const slots: Partial<Record<GroupSlot, string>> = {};
    for (const [type, key] of pairs) {
      const group = groupOf(type, key, event);
      if (group !== undefined) slots[slotOf(group.typeIndex)] = key;
    }
    if (Object.keys(slots).length > 0) event.groups = slots;
  }
  for (const identify of identifies) {
    const group = groupOf(identify.type, identify.key, identify.event);
    if (group !== undefined) foldIdentify(group, identify, warnings);
  }
  await writeGroups(scope, [...pending.values()], warnings);
}

/** The event's `$groups` as validated `(type, key)` pairs; invalid entries are warned about and dropped. */
function readGroups(event: NormalizedEvent, warnings: WarningSink): [string, string][] {
  const groups = own(event.properties, '$groups');
  if (groups === undefined || groups === null) return [];
  if (!isPlainObject(groups)) {
    warnings.add(GROUP_WARNINGS.invalidGroups, { message: '$groups must be an object of group type → group key; it was ignored.' }, event);
    return [];
  }
  const pairs: [string, string][] = [];
  for (const type of Object.keys(groups)) {
    const name = checkGroupTypeName(type);
    if (!name.ok) {
      warnings.add(GROUP_WARNINGS.invalidType, { groupType: preview(type), message: `${name.reason}; the group was ignored.` }, event);
      continue;
    }
    const key = checkGroupKey(groups[type]);
    if (!key.ok) {
      warnings.add(GROUP_WARNINGS.invalidKey, { groupType: preview(type), groupKey: preview(groups[type]), message: `${key.reason}; the group was ignored.` }, event);
      continue;
    }
    pairs.push([name.value, key.value]);
  }
  return pairs;
}

function readIdentify(event: NormalizedEvent, warnings: WarningSink): Identify | undefined {
  const rawType = own(event.properties, '$group_type');
  const rawKey = own(event.properties, '$group_key');
  const type = checkGroupTypeName(rawType);
  if (!type.ok) {
    warnings.add(GROUP_WARNINGS.invalidType, { groupType: preview(rawType), message: `$groupidentify: ${type.reason}; the event changed no group.` }, event);
    return undefined;
  }
  const key = checkGroupKey(rawKey);
  if (!key.ok) {
    warnings.add(GROUP_WARNINGS.invalidKey, { groupType: preview(type.value), groupKey: preview(rawKey), message: `$groupidentify: ${key.reason}; the event changed no group.` }, event);
    return undefined;
  }
  const properties = (name: '$group_set' | '$group_set_once'): JsonObject => {
    const value = own(event.properties, name);
    if (value === undefined || value === null) return {};
    if (isPlainObject(value)) return value;
    warnings.add(GROUP_WARNINGS.invalidProperties, { groupType: preview(type.value), groupKey: preview(key.value), message: `${name} must be an object; it was ignored.` }, event);
    return {};
  };
  return { event, type: type.value, key: key.value, set: properties('$group_set'), setOnce: properties('$group_set_once') };
}

/**
 * Applies one `$groupidentify` on top of what earlier events of the request did. Within an event
 * `$group_set_once` goes first, then `$group_set` (PostHog's order for person properties), so:
 * a key some event sets ends at the last set value; a key only ever set-once keeps the first value.
 */
function foldIdentify(group: PendingGroup, identify: Identify, warnings: WarningSink): void {
  group.identified = true;
  for (const [key, value] of entries(identify.setOnce, identify, warnings)) {
    if (!group.set.has(key) && !group.setOnce.has(key)) group.setOnce.set(key, value);
  }
  for (const [key, value] of entries(identify.set, identify, warnings)) {
    group.set.set(key, value);
    group.setOnce.delete(key);
  }
}

/** Escaped keys and values of a `$group_set(_once)`; an empty key has no field path and is dropped with a warning. */
function entries(properties: JsonObject, identify: Identify, warnings: WarningSink): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const key of Object.keys(properties)) {
    if (key === '') {
      warnings.add(GROUP_WARNINGS.invalidProperties, { groupType: preview(identify.type), groupKey: preview(identify.key), message: 'A group property with an empty name was ignored.' }, identify.event);
      continue;
    }
    out.push([escapeKey(key), escapeKeys(properties[key])]);
  }
  return out;
}

/** One unordered bulk write for every group the request touched (minus mentions known to change nothing). */
async function writeGroups(scope: ProjectScope, groups: PendingGroup[], warnings: WarningSink): Promise<void> {
  const now = new Date();
  const toWrite = groups.filter((group) => group.identified || !isKnown(scope.projectId, group));
  if (toWrite.length === 0) return;
  const operations = toWrite.map((group) => ({
    updateOne: { filter: { typeIndex: group.typeIndex, key: group.key }, update: updateOf(group, now), upsert: true },
  })) satisfies ScopedBulkOperation<GroupDocument>[];
  const failed = new Set<number>();
  try {
    // Default write concern: the events are inserted next with {w: majority, j: true}, and journal and
    // replication are ordered, so their acknowledgement covers this write too; a durable wait here would
    // cost a second journal flush per request.
    await scope.data.groups.bulkWrite(operations, { ordered: false });
  } catch (error) {
    for (const index of permanentFailures(error, operations.length)) {
      failed.add(index);
      const group = toWrite[index]!;
      warnings.add(GROUP_WARNINGS.invalidProperties, {
        groupType: preview(group.typeName),
        groupKey: preview(group.key),
        message: 'The database refused the group update (too large or malformed properties); the group was not changed.',
      });
    }
  }
  toWrite.forEach((group, i) => {
    if (!failed.has(i)) remember(scope.projectId, group);
  });
}


/**
 * The update for one group. Every property is its own `$set` path, so concurrent writers of different
 * keys never lose each other's values. `$group_set_once` needs "set unless present", which an update
 * pipeline does atomically; values are wrapped in `$literal` so user strings like "$x" stay data.
 */
function updateOf(group: PendingGroup, now: Date): UpdateFilter<GroupDocument> | Document[] {
  if (group.setOnce.size > 0) {
    const fields: Document = {
      createdAt: { $min: ['$createdAt', { $literal: group.createdAt }] },
      updatedAt: { $literal: now },
      version: { $add: [{ $ifNull: ['$version', 0] }, 1] },
    };
    for (const [key, value] of group.setOnce) {
      const path = `$properties.${key}`;
      fields[`properties.${key}`] = { $cond: [{ $eq: [{ $type: path }, 'missing'] }, { $literal: value }, path] };
    }
    for (const [key, value] of group.set) fields[`properties.${key}`] = { $literal: value };
    return [{ $set: fields }];
  }
  if (!group.identified) {
    return { $min: { createdAt: group.createdAt }, $setOnInsert: { properties: {}, updatedAt: now, version: 0 } };
  }
  const set: Document = { updatedAt: now };
  for (const [key, value] of group.set) set[`properties.${key}`] = value;
  const update: Document = { $min: { createdAt: group.createdAt }, $set: set, $inc: { version: 1 } };
  // An identify without properties still creates the group, and it must have a properties object.
  if (group.set.size === 0) update.$setOnInsert = { properties: {} };
  return update as UpdateFilter<GroupDocument>;
}

function cacheKey(projectId: string, group: PendingGroup): string {
  return `${projectId}\0${group.typeIndex}\0${group.key}`;
}

function isKnown(projectId: string, group: PendingGroup): boolean {
  const bound = writtenGroups.get(cacheKey(projectId, group));
  return bound !== undefined && bound <= group.createdAt.getTime();
}

function remember(projectId: string, group: PendingGroup): void {
  const key = cacheKey(projectId, group);
  const bound = writtenGroups.get(key);
  writtenGroups.set(key, bound === undefined ? group.createdAt.getTime() : Math.min(bound, group.createdAt.getTime()));
}
