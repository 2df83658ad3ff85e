import type { GroupSlot } from '../../../../src/db/documents.ts';
import type { ProjectScope } from '../../../../src/db/project-scope.ts';
import { escapeKey, escapeKeys } from '../../../../src/db/property-keys.ts';
import { isPlainObject, own } from '../../../../src/ingest/json-values.ts';
import type { NormalizedEvent } from '../../../../src/ingest/types.ts';
import type { WarningSink } from '../../../../src/ingest/warnings.ts';
import { GROUP_WARNINGS } from '../../../../src/modules/groups/ingest.ts';
import { checkGroupKey, checkGroupTypeName, MAX_GROUP_TYPES, preview, slotOf } from '../../../../src/modules/groups/keys.ts';
import { groupTypeRegistry } from '../../../../src/modules/groups/type-registry.ts';

/** A group as the store would hold it (property keys escaped). */
export interface SimGroup {
  typeIndex: number;
  key: string;
  properties: Record<string, unknown>;
  createdAt: Date;
  version: number;
}

/** What one request does to one group (groups/ingest.ts `PendingGroup`). */
interface Pending {
  group: { typeIndex: number; key: string };
  createdAt: Date;
  identified: boolean;
  set: Map<string, unknown>;
  setOnce: Map<string, unknown>;
}

/**
 * Group processing (modules/groups/ingest.ts) in memory, request by request: `$groups` become the
 * event's slots through the project's real group-type registry (so type indexes are claimed in the
 * store exactly as capture claims them), `$groupidentify` folds `$group_set`/`$group_set_once` per
 * request, and the folded changes are applied as the request's upserts would apply them.
 */
export class GroupSimulation {
  readonly groups = new Map<string, SimGroup>();

  async process(scope: ProjectScope, events: NormalizedEvent[], warnings: WarningSink): Promise<void> {
    const mentions: { event: NormalizedEvent; pairs: [string, string][] }[] = [];
    const identifies: { event: NormalizedEvent; type: string; key: string; set: Record<string, unknown>; setOnce: Record<string, unknown> }[] = [];
    const typeNames: string[] = [];
    for (const event of events) {
      if (event.event === '$groupidentify') {
        const type = checkGroupTypeName(own(event.properties, '$group_type'));
        const key = checkGroupKey(own(event.properties, '$group_key'));
        if (!type.ok || !key.ok) throw new Error(`seed data sent an invalid $groupidentify (${JSON.stringify(event.properties.$group_type)})`);
        const props = (name: string) => {
          const value = own(event.properties, name);
          return isPlainObject(value) ? value : {};
        };
        identifies.push({ event, type: type.value, key: key.value, set: props('$group_set'), setOnce: props('$group_set_once') });
        typeNames.push(type.value);
      }
      const groups = own(event.properties, '$groups');
      if (groups === undefined || groups === null) continue;
      if (!isPlainObject(groups)) throw new Error('seed data sent $groups that is not an object');
      const pairs: [string, string][] = [];
      for (const type of Object.keys(groups)) {
        const name = checkGroupTypeName(type);
        const key = checkGroupKey(groups[type]);
        if (!name.ok || !key.ok) throw new Error(`seed data sent an invalid group ${type}`);
        pairs.push([name.value, key.value]);
        typeNames.push(name.value);
      }
      if (pairs.length > 0) mentions.push({ event, pairs });
    }
    if (typeNames.length === 0) return;

    const indexes = await groupTypeRegistry.resolve(scope, typeNames);
    const pending = new Map<string, Pending>();
    const groupOf = (type: string, key: string, event: NormalizedEvent): Pending | undefined => {
      const typeIndex = indexes.get(type);
      if (typeIndex === undefined) {
        warnings.add(GROUP_WARNINGS.typeLimit, { groupType: preview(type), limit: MAX_GROUP_TYPES, message: `The project already has ${MAX_GROUP_TYPES} group types; "${preview(type)}" was ignored.` }, event);
        return undefined;
      }
      const id = `${typeIndex}\0${key}`;
      let group = pending.get(id);
      if (group === undefined) pending.set(id, (group = { group: { typeIndex, key }, createdAt: event.timestamp, identified: false, set: new Map(), setOnce: new Map() }));
      else if (event.timestamp < group.createdAt) group.createdAt = event.timestamp;
      return group;
    };
    for (const { event, pairs } of mentions) {
      const slots: Partial<Record<GroupSlot, string>> = {};
      for (const [type, key] of pairs) {
        const group = groupOf(type, key, event);
        if (group !== undefined) slots[slotOf(group.group.typeIndex)] = key;
      }
      if (Object.keys(slots).length > 0) event.groups = slots;
    }
    for (const identify of identifies) {
      const group = groupOf(identify.type, identify.key, identify.event);
      if (group === undefined) continue;
      group.identified = true;
      for (const [key, value] of Object.entries(identify.setOnce)) {
        const k = escapeKey(key);
        if (!group.set.has(k) && !group.setOnce.has(k)) group.setOnce.set(k, escapeKeys(value));
      }
      for (const [key, value] of Object.entries(identify.set)) {
        group.set.set(escapeKey(key), escapeKeys(value));
        group.setOnce.delete(escapeKey(key));
      }
    }
    for (const [id, change] of pending) this.apply(id, change);
  }

  /** The effect of the request's upsert for one group (groups/ingest.ts `updateOf`). */
  private apply(id: string, change: Pending): void {
    let group = this.groups.get(id);
    if (group === undefined) {
      group = { ...change.group, properties: {}, createdAt: change.createdAt, version: 0 };
      this.groups.set(id, group);
    } else if (change.createdAt < group.createdAt) {
      group.createdAt = change.createdAt;
    }
    if (!change.identified) return;
    for (const [key, value] of change.setOnce) if (!Object.hasOwn(group.properties, key)) group.properties[key] = value;
    for (const [key, value] of change.set) group.properties[key] = value;
    group.version += 1;
  }
}
