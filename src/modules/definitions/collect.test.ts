import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { collectDefinitions, MAX_DEFINITION_KEY_LENGTH, MAX_NEW_KEYS_PER_REQUEST } from './collect.ts';

let n = 0;
function event(name: string, second: number, properties: Record<string, unknown>): NormalizedEvent {
  n += 1;
  return { uuid: `u${n}`, event: name, distinctId: 'd', timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, second)), properties };
}

const noGroups = () => undefined;

describe('collectDefinitions', () => {
  it('counts each event name once per event with its earliest and latest timestamp', () => {
    const { events } = collectDefinitions([event('view', 5, {}), event('view', 2, {}), event('buy', 9, {}), event('view', 7, {})], noGroups);
    expect(events.get('view')).toEqual({ name: 'view', firstSeen: new Date(Date.UTC(2024, 0, 1, 0, 0, 2)), lastSeen: new Date(Date.UTC(2024, 0, 1, 0, 0, 7)), volume: 3 });
    expect(events.get('buy')?.volume).toBe(1);
  });

  it('types a property by its first typed value in event order, and counts only events with a typed value', () => {
    const { properties } = collectDefinitions(
      [event('e', 1, { plan: null }), event('e', 2, { plan: 'pro' }), event('e', 3, { plan: 7 }), event('e', 4, { plan: { nested: true } })],
      noGroups,
    );
    const plan = properties.get('event\0-1\0plan');
    expect(plan?.valueType).toBe('String');
    expect(plan?.volume).toBe(2);
    expect(plan?.firstSeen).toEqual(new Date(Date.UTC(2024, 0, 1, 0, 0, 2)));
  });

  it('creates no definition from null, object or array values alone', () => {
    const { properties } = collectDefinitions([event('e', 1, { a: null, b: { c: 1 }, d: [1] })], noGroups);
    expect([...properties.keys()]).toEqual([]);
  });

  it('records person keys from $set and $set_once, not the containers themselves, and counts a key in both once', () => {
    const { properties } = collectDefinitions(
      [event('e', 1, { $set: { email: 'a@b.c', age: 30 }, $set_once: { email: 'x@y.z', first_seen: '2024-01-01T00:00:00Z' }, $unset: ['old'], $groups: { company: 'acme' } })],
      noGroups,
    );
    const ids = [...properties.keys()].sort();
    expect(ids).toEqual(['person\0-1\0age', 'person\0-1\0email', 'person\0-1\0first_seen']);
    expect(properties.get('person\0-1\0email')?.volume).toBe(1);
    expect(properties.get('person\0-1\0first_seen')?.valueType).toBe('DateTime');
  });

  it('records $group_set keys of a $groupidentify under the group type index, and skips unknown types', () => {
    const indexOf = (name: string) => (name === 'company' ? 3 : undefined);
    const { properties } = collectDefinitions(
      [
        event('$groupidentify', 1, { $group_type: 'company', $group_key: 'acme', $group_set: { name: 'Acme', seats: 5 } }),
        event('$groupidentify', 2, { $group_type: 'team', $group_key: 't', $group_set: { size: 2 } }),
      ],
      indexOf,
    );
    expect(properties.get('group\x003\0name')).toMatchObject({ kind: 'group', groupTypeIndex: 3, valueType: 'String', volume: 1 });
    expect(properties.get('group\x003\0seats')?.valueType).toBe('Numeric');
    expect([...properties.keys()].some((id) => id.startsWith('group') && id.endsWith('size'))).toBe(false);
    // The identify's own $group_type and $group_key are event properties.
    expect(properties.get('event\0-1\0$group_type')?.volume).toBe(2);
  });

  it('keeps keys raw (dots and dollars are values here) and skips empty and over-long keys', () => {
    const { properties } = collectDefinitions([event('e', 1, { 'a.b': 1, $browser: 'x', '': 1, ['k'.repeat(MAX_DEFINITION_KEY_LENGTH + 1)]: 1 })], noGroups);
    expect([...properties.values()].map((p) => p.key).sort()).toEqual(['$browser', 'a.b']);
  });
});

describe('wide events', () => {
  it('records at most MAX_NEW_KEYS_PER_REQUEST keys of one kind per request', () => {
    const properties = Object.fromEntries(Array.from({ length: MAX_NEW_KEYS_PER_REQUEST + 500 }, (_, i) => [`k${i}`, i]));
    const collected = collectDefinitions([{ uuid: 'u', event: 'wide', distinctId: 'd', timestamp: new Date(0), properties }], () => undefined);
    expect([...collected.properties.values()].filter((p) => p.kind === 'event')).toHaveLength(MAX_NEW_KEYS_PER_REQUEST);
  });
});
