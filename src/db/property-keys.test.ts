import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeKey, escapeKeys, unescapeKey, unescapeKeys } from './property-keys.ts';

/** Keys users really send, keys that look already escaped, and the names JavaScript treats specially. */
const AWKWARD = ['$set', '$browser', 'a.b', '.', '..', '$', '%', '%24', '%2E', '%25', '%5F_proto__', '%63onstructor', '__proto__', 'constructor', 'prototype', 'toString', '\0', 'a\0b', '$a.$b', ''];

const keys = fc.oneof(
  fc.constantFrom(...AWKWARD),
  fc.string({ unit: fc.constantFrom('%', '$', '.', '\0', '2', '4', '5', 'E', 'F', '6', '3', '_', 'c', 'a') }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);

/** JSON-like values whose objects are keyed by {@link keys}; built with defineProperty so "__proto__" stays data. */
const documents = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.array(fc.tuple(keys, tie('value')), { maxLength: 5 }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  }),
})).object;

/** Every key at every depth, for checks that must hold all the way down. */
function allKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) allKeys(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      out.push(key);
      allKeys((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

/**
 * Deep equality over own data properties only. The usual matchers consult `value.constructor` to
 * compare types, which an own "constructor" key (the very case under test) would fool.
 */
function sameOwnData(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameOwnData(item, b[i]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every((key, i) => key === keysB[i] && sameOwnData(Object.getOwnPropertyDescriptor(a, key)?.value, Object.getOwnPropertyDescriptor(b, key)?.value))
  );
}

describe('escapeKey and unescapeKey', () => {
  it('give back every key exactly', () => {
    fc.assert(fc.property(keys, (key) => unescapeKey(escapeKey(key)) === key));
  });

  it('never map two different keys to the same stored key', () => {
    fc.assert(
      fc.property(keys, keys, (a, b) => {
        fc.pre(a !== b);
        return escapeKey(a) !== escapeKey(b);
      }),
    );
  });

  it('store no key that MongoDB would read as an operator, a path or a terminator', () => {
    fc.assert(
      fc.property(keys, (key) => {
        const stored = escapeKey(key);
        return !stored.startsWith('$') && !stored.includes('.') && !stored.includes('\0');
      }),
    );
  });

  it('store no key that a JavaScript engine would read as a prototype or a constructor', () => {
    expect(escapeKey('__proto__')).not.toBe('__proto__');
    expect(escapeKey('constructor')).not.toBe('constructor');
  });

  it('leave ordinary keys as they are, so the stored documents stay readable', () => {
    for (const key of ['plan', 'user_id', 'Browser Version', 'prototype', '日本語']) expect(escapeKey(key)).toBe(key);
  });

  it('write the escapes the storage documentation promises to anyone reading the database directly', () => {
    expect(escapeKey('$browser')).toBe('%24browser');
    expect(escapeKey('a.b')).toBe('a%2Eb');
    expect(escapeKey('100%')).toBe('100%25');
  });
});

describe('escapeKeys and unescapeKeys', () => {
  it('give back nested objects and arrays exactly', () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const back = unescapeKeys(escapeKeys(doc));
        expect(sameOwnData(back, doc)).toBe(true);
        expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
      }),
    );
  });

  it('escape keys at every depth, inside objects and inside arrays', () => {
    fc.assert(
      fc.property(documents, (doc) => {
        for (const key of allKeys(escapeKeys(doc))) {
          expect(key.startsWith('$') || key.includes('.') || key === '__proto__').toBe(false);
        }
      }),
    );
  });

  it('do not modify their input', () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const before = JSON.stringify(doc);
        escapeKeys(doc);
        unescapeKeys(doc);
        expect(JSON.stringify(doc)).toBe(before);
      }),
    );
  });

  it('keep "__proto__" an own data key and never change a prototype', () => {
    const sent = JSON.parse('{"__proto__": {"polluted": true}, "nested": {"__proto__": {"polluted": true}}, "list": [{"__proto__": {"polluted": true}}]}');
    for (const result of [escapeKeys(sent), unescapeKeys(escapeKeys(sent))] as Record<string, any>[]) {
      for (const object of [result, result.nested, result.list[0]]) {
        expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
        expect(object.polluted).toBeUndefined();
      }
    }
    const back = unescapeKeys(escapeKeys(sent)) as Record<string, any>;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.hasOwn(back.nested, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keep "constructor" and "prototype" keys as plain data', () => {
    const sent = JSON.parse('{"constructor": {"prototype": {"polluted": true}}}');
    const back = unescapeKeys(escapeKeys(sent)) as Record<string, any>;
    expect(sameOwnData(back.constructor, { prototype: { polluted: true } })).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('pass values that are not plain objects through untouched', () => {
    const date = new Date(0);
    const bytes = new Uint8Array([1, 2]);
    const escaped = escapeKeys({ 'a.b': date, $c: bytes, d: 'text', e: 1 }) as Record<string, unknown>;
    expect(escaped['a%2Eb']).toBe(date);
    expect(escaped['%24c']).toBe(bytes);
    expect(escapeKeys('a.b')).toBe('a.b');
    expect(escapeKeys(null)).toBeNull();
  });
});
