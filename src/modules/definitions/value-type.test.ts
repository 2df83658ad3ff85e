import { describe, expect, it } from 'vitest';
import { isIsoDateTime, valueTypeOf } from './value-type.ts';

describe('valueTypeOf', () => {
  it('types numbers, booleans and strings', () => {
    expect(valueTypeOf(3)).toBe('Numeric');
    expect(valueTypeOf(-0.25)).toBe('Numeric');
    expect(valueTypeOf(false)).toBe('Boolean');
    expect(valueTypeOf('Chrome')).toBe('String');
  });

  it('keeps numeric-looking and boolean-looking strings as strings', () => {
    expect(valueTypeOf('42')).toBe('String');
    expect(valueTypeOf('true')).toBe('String');
    expect(valueTypeOf('')).toBe('String');
  });

  it('has no type for null, objects and arrays', () => {
    expect(valueTypeOf(null)).toBeUndefined();
    expect(valueTypeOf({ a: 1 })).toBeUndefined();
    expect(valueTypeOf([1, 2])).toBeUndefined();
    expect(valueTypeOf(undefined)).toBeUndefined();
  });

  it.each([
    '2024-05-01T10:00:00Z',
    '2024-05-01T10:00:00.123Z',
    '2024-05-01T10:00Z',
    '2024-05-01 10:00:00',
    '2024-05-01T10:00:00+02:00',
    '2024-05-01T10:00:00-0530',
    '2024-02-29T23:59:59.999999Z',
  ])('reads %s as a DateTime', (text) => {
    expect(valueTypeOf(text)).toBe('DateTime');
  });

  it.each([
    '2024-05-01',
    '10:00:00',
    '1714557600',
    '2023-02-29T10:00:00Z',
    '2024-13-01T10:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T10:60:00Z',
    'May 1, 2024 10:00',
    '2024-05-01T10:00:00Z trailing',
  ])('reads %s as a plain String', (text) => {
    expect(isIsoDateTime(text)).toBe(false);
    expect(valueTypeOf(text)).toBe('String');
  });
});
