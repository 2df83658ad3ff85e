import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { buildProperties } from './properties.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CaptureError ? error.code : String(error);
  }
}

describe('buildProperties', () => {
  it('defaults to an empty object', () => {
    expect(buildProperties({ event: 'e' })).toEqual({});
    expect(buildProperties({ event: 'e', properties: null })).toEqual({});
  });

  it('keeps properties as sent, token included', () => {
    const properties = { token: 'phc_a', $lib: 'web', nested: { a: [1, 2] } };
    expect(buildProperties({ properties })).toEqual(properties);
  });

  it('merges top-level $set and $set_once into properties, top-level keys winning (posthog-js identify)', () => {
    const out = buildProperties({
      properties: { $set: { plan: 'free', email: 'a@x' }, $set_once: { first: 'a' } },
      $set: { plan: 'pro' },
      $set_once: { first: 'b', signup: 'web' },
    });
    expect(out.$set).toEqual({ plan: 'pro', email: 'a@x' });
    expect(out.$set_once).toEqual({ first: 'b', signup: 'web' });
  });

  it('creates $set when only the top level has it, and replaces a non-object property value', () => {
    expect(buildProperties({ $set: { a: 1 } }).$set).toEqual({ a: 1 });
    expect(buildProperties({ properties: { $set: 'junk' }, $set: { a: 1 } }).$set).toEqual({ a: 1 });
  });

  it('merges $unset lists without duplicates, and takes an object form too', () => {
    expect(buildProperties({ properties: { $unset: ['a', 'b'] }, $unset: ['b', 'c'] }).$unset).toEqual(['a', 'b', 'c']);
    expect(buildProperties({ $unset: ['x'] }).$unset).toEqual(['x']);
    expect(buildProperties({ properties: { $unset: { a: 1 } }, $unset: { b: 1 } }).$unset).toEqual({ a: 1, b: 1 });
  });

  it('ignores null top-level $set/$set_once/$unset', () => {
    expect(buildProperties({ properties: { $set: { a: 1 } }, $set: null, $set_once: null, $unset: null })).toEqual({ $set: { a: 1 } });
  });

  it('does not modify the event it was given', () => {
    const event = { properties: { $set: { a: 1 } }, $set: { b: 2 } };
    buildProperties(event);
    expect(event).toEqual({ properties: { $set: { a: 1 } }, $set: { b: 2 } });
  });

  it.each<[string, Record<string, unknown>]>([
    ['properties as an array', { properties: [1, 2] }],
    ['properties as a string', { properties: 'a=1' }],
    ['properties as a number', { properties: 5 }],
    ['top-level $set as a string', { $set: 'x' }],
    ['top-level $set_once as an array', { $set_once: ['x'] }],
    ['top-level $unset as a string', { $unset: 'x' }],
  ])('refuses %s with invalid_payload', (_name, event) => {
    expect(codeOf(() => buildProperties(event))).toBe('invalid_payload');
  });

  it('keeps __proto__ and constructor keys as ordinary data, in properties and in merged $set', () => {
    const event = JSON.parse(
      '{"properties":{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"$set":{"__proto__":{"a":1}}},' +
        '"$set":{"__proto__":{"b":2},"toString":"s"}}',
    ) as Record<string, unknown>;
    const out = buildProperties(event);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor', '$set']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 1 });
    const set = out.$set as Record<string, unknown>;
    expect(Object.getPrototypeOf(set)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(set, '__proto__')?.value).toEqual({ b: 2 });
    expect(set.toString).toBe('s');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).b).toBeUndefined();
  });
});
