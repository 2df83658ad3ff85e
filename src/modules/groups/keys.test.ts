import { describe, expect, it } from 'vitest';
import { checkGroupKey, checkGroupTypeName, MAX_GROUP_NAME_LENGTH, slotOf } from './keys.ts';

describe('group keys', () => {
  it('keeps string keys exactly as sent, dots, dollars and case included', () => {
    expect(checkGroupKey('Acme.Inc$')).toEqual({ ok: true, value: 'Acme.Inc$' });
    expect(checkGroupKey(' padded ')).toEqual({ ok: true, value: ' padded ' });
  });

  it('turns numeric ids into the strings JavaScript prints', () => {
    expect(checkGroupKey(42)).toEqual({ ok: true, value: '42' });
    expect(checkGroupKey(1.5)).toEqual({ ok: true, value: '1.5' });
    expect(checkGroupKey(-0)).toEqual({ ok: true, value: '0' });
  });

  it.each([
    ['an empty string', ''],
    ['a blank string', '   '],
    ['null', null],
    ['a boolean', true],
    ['an object', { id: 1 }],
    ['an array', ['a']],
    ['infinity', Infinity],
    ['an over-long string', 'k'.repeat(MAX_GROUP_NAME_LENGTH + 1)],
  ])('refuses %s with a reason', (_label, value) => {
    const checked = checkGroupKey(value);
    expect(checked.ok).toBe(false);
    expect(checked.ok ? '' : checked.reason).toMatch(/key/);
  });
});

describe('group type names', () => {
  it('accepts any non-blank string as is', () => {
    expect(checkGroupTypeName('company')).toEqual({ ok: true, value: 'company' });
    expect(checkGroupTypeName('Company')).toEqual({ ok: true, value: 'Company' });
  });

  it.each([[''], [' '], [7], [null], [{}]])('refuses %j', (value) => {
    expect(checkGroupTypeName(value).ok).toBe(false);
  });
});

describe('group slots', () => {
  it('maps indexes 0..4 to the event fields g0..g4 and nothing else', () => {
    expect([0, 1, 2, 3, 4].map(slotOf)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
    expect(() => slotOf(5)).toThrow(RangeError);
    expect(() => slotOf(-1)).toThrow(RangeError);
  });
});
