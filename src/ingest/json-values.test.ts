import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyObject, defineOwn, exceedsDepth, isPlainObject, own, truncateCodePoints } from './json-values.ts';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

describe('exceedsDepth', () => {
  it.each([
    [1, false], [32, false], [33, true], [100, true],
  ])('a value nested %i levels deep exceeds 32: %s', (depth, expected) => {
    expect(exceedsDepth(nested(depth), 32)).toBe(expected);
  });

  it('treats scalars as depth 0 and an empty object as depth 1', () => {
    expect(exceedsDepth('x', 0)).toBe(false);
    expect(exceedsDepth({}, 0)).toBe(true);
    expect(exceedsDepth({}, 1)).toBe(false);
  });

  it('survives nesting far past the stack depth of a naive walker', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(exceedsDepth(deep, 32)).toBe(true);
  });
});

describe('own / defineOwn / copyObject', () => {
  it('reads only own keys', () => {
    const obj = { a: 1 } as Record<string, unknown>;
    expect(own(obj, 'a')).toBe(1);
    expect(own(obj, 'constructor')).toBeUndefined();
    expect(own(obj, 'toString')).toBeUndefined();
  });

  it('stores __proto__ as data instead of changing the prototype', () => {
    const obj: Record<string, unknown> = {};
    defineOwn(obj, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(['__proto__']);
    expect(obj.polluted).toBeUndefined();
  });

  it('copies own __proto__ keys from parsed JSON as data', () => {
    const copy = copyObject(JSON.parse('{"__proto__":{"x":1},"a":2}') as Record<string, unknown>);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('isPlainObject accepts JSON objects and null-prototype objects only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
  });
});

describe('truncateCodePoints', () => {
  it('returns at most max code points and a prefix of the input, never splitting a pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 0, max: 250 }), (text, max) => {
        const cut = truncateCodePoints(text, max);
        expect(text.startsWith(cut)).toBe(true);
        expect([...cut].length).toBe(Math.min(max, [...text].length));
      }),
    );
  });

  it('counts a lone surrogate as one character', () => {
    expect(truncateCodePoints('\ud800abc', 2)).toBe('\ud800a');
  });
});
