import { describe, expect, it } from 'vitest';
import { applyPersonOps, personOpsOf } from './property-ops.ts';

const apply = (start: Record<string, unknown>, event: string, properties: Record<string, unknown>) => {
  const person = { ...start };
  const outcome = applyPersonOps(person, personOpsOf(event, properties));
  return { person, ...outcome };
};

describe('person property operations', () => {
  it('applies $set_once, then $set, then $unset within one event', () => {
    const { person } = apply({ kept: 1, gone: 2 }, 'e', {
      $set_once: { a: 'once', kept: 'ignored', b: 'once' },
      $set: { b: 'set', c: 'set' },
      $unset: ['gone', 'c', 'absent'],
    });
    expect(person).toEqual({ kept: 1, a: 'once', b: 'set' });
  });

  it('$set_once only fills keys that are absent, even when the stored value is null', () => {
    const { person, changed } = apply({ plan: null }, 'e', { $set_once: { plan: 'pro' } });
    expect(person).toEqual({ plan: null });
    expect(changed).toBe(false);
  });

  it('$unset takes the keys of an object too', () => {
    expect(apply({ a: 1, b: 2 }, 'e', { $unset: { a: null } }).person).toEqual({ b: 2 });
  });

  it('a $set of the same scalar is no change; objects always count as changed', () => {
    expect(apply({ a: 1 }, 'e', { $set: { a: 1 } }).changed).toBe(false);
    expect(apply({ o: { x: 1 } }, 'e', { $set: { o: { x: 1 } } }).changed).toBe(true);
  });

  it('changes to high-churn keys alone are not worth a write; other keys are', () => {
    const churn = apply({}, '$pageview', { $set: { $current_url: 'https://a.example/x', $browser: 'Chrome' } });
    expect(churn).toMatchObject({ changed: true, significant: false });
    const real = apply({}, '$pageview', { $set: { $current_url: 'https://a.example/x', plan: 'pro' } });
    expect(real).toMatchObject({ changed: true, significant: true });
    expect(apply({ a: 1 }, 'e', { $unset: ['a'] })).toMatchObject({ changed: true, significant: true });
  });

  it('keys are stored escaped, so "$" and "." keys and "__proto__" stay ordinary data', () => {
    const { person } = apply({}, 'e', { $set: JSON.parse('{"a.b": 1, "$x": 2, "__proto__": {"polluted": true}}') });
    expect(Object.keys(person).sort()).toEqual(['%24x', '%5F_proto__', 'a%2Eb']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('$exception and $$heatmap never change persons; malformed operations are ignored', () => {
    expect(apply({}, '$exception', { $set: { a: 1 } }).changed).toBe(false);
    expect(apply({}, '$$heatmap', { $set: { a: 1 } }).changed).toBe(false);
    expect(apply({ a: 1 }, 'e', { $set: 'nope', $set_once: [1, 2], $unset: 'a' }).changed).toBe(false);
  });
});
