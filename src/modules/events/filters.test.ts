import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { compileEventFilter, PROPERTY_OPERATORS, type EventFilter, type PropertyFilter } from './filters.ts';

/*
 * What events a filter matches is proven end to end against an oracle (test/server/property-filters.test.ts).
 * Here: the compiler refuses bad input up front, with a BAD_USER_INPUT error a user can act on.
 */

function refusal(filter: EventFilter): GraphQLError {
  try {
    compileEventFilter(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return error as GraphQLError;
  }
  throw new Error(`expected ${JSON.stringify(filter)} to be refused`);
}

function property(filter: PropertyFilter): EventFilter {
  return { properties: [filter] };
}

describe('compileEventFilter refuses', () => {
  it('a property filter without a key', () => {
    expect(refusal(property({ key: '', operator: 'is_set' })).message).toBe('A property filter needs a key.');
  });

  it('more than 50 property filters', () => {
    const properties = Array.from({ length: 51 }, (_, i): PropertyFilter => ({ key: `k${i}`, operator: 'is_set' }));
    expect(refusal({ properties }).message).toMatch(/At most 50 property filters/);
  });

  it('more than 100 event names', () => {
    expect(refusal({ events: Array.from({ length: 101 }, (_, i) => `e${i}`) }).message).toMatch(/At most 100 event names/);
  });

  it('"after" at or later than "before"', () => {
    const instant = new Date('2024-01-01T00:00:00Z');
    for (const after of [instant, new Date(instant.getTime() + 1)]) {
      expect(refusal({ after, before: instant }).message).toBe('"after" must be earlier than "before".');
    }
  });

  it.each([
    ['an object', { $ne: null }],
    ['a list holding an object', ['pro', { $gt: '' }]],
    ['a nested list', [['pro']]],
  ])('exact and is_not with %s as the value, naming the key', (_label, value) => {
    for (const operator of ['exact', 'is_not'] as const) {
      expect(refusal(property({ key: 'plan', operator, value })).message).toBe('Filter on "plan": values must be strings, numbers, booleans or null.');
    }
  });

  it('exact with an empty list or more than 1000 values', () => {
    expect(refusal(property({ key: 'plan', operator: 'exact', value: [] })).message).toMatch(/needs 1 to 1000 values/);
    const many = Array.from({ length: 1001 }, (_, i) => i);
    expect(refusal(property({ key: 'plan', operator: 'is_not', value: many })).message).toMatch(/needs 1 to 1000 values/);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['an object', { $regex: '.*' }],
    ['a list', ['a']],
  ])('icontains and regex with a %s value', (_label, value) => {
    for (const operator of ['icontains', 'regex'] as const) {
      expect(refusal(property({ key: 'url', operator, value })).message).toBe(`Filter on "url" with "${operator}" needs a non-empty string value.`);
    }
  });

  it.each(['[', '(a', 'a)', '*a', 'a{2,1}', '\\'])('the invalid regex %s', (pattern) => {
    expect(refusal(property({ key: 'url', operator: 'regex', value: pattern })).message).toBe('Regex on "url" is not a valid pattern.');
  });

  it.each(['(a+)+$', '(a*)*b', '([a-z]+)*$', '(x+x+)+y'])('the catastrophic regex %s', (pattern) => {
    expect(refusal(property({ key: 'url', operator: 'regex', value: pattern })).message).toMatch(/^Regex on "url" has nested repetition/);
  });

  it('a regex longer than 500 characters', () => {
    expect(refusal(property({ key: 'url', operator: 'regex', value: 'a'.repeat(501) })).message).toMatch(/longer than 500 characters/);
  });

  it.each([
    ['a word', 'abc'],
    ['a blank string', '  '],
    ['null', null],
    ['missing', undefined],
    ['a boolean', true],
    ['an object', { $gt: 0 }],
    ['infinity as text', 'Infinity'],
  ])('numeric comparisons with %s as the bound', (_label, value) => {
    for (const operator of ['gt', 'gte', 'lt', 'lte'] as const) {
      expect(refusal(property({ key: 'amount', operator, value })).message).toBe(`Filter on "amount" with "${operator}" needs a number.`);
    }
  });
});

describe('compileEventFilter accepts', () => {
  it('no filter, or an empty one', () => {
    expect(() => compileEventFilter(undefined)).not.toThrow();
    expect(() => compileEventFilter(null)).not.toThrow();
    expect(() => compileEventFilter({})).not.toThrow();
  });

  it('every operator with a value of the kind it takes', () => {
    const value: Record<(typeof PROPERTY_OPERATORS)[number], unknown> = {
      exact: ['a', 1, true, null],
      is_not: 'a',
      icontains: 'a',
      regex: '^a(b|c)$',
      gt: 1,
      gte: '2.5',
      lt: -1,
      lte: '1e3',
      is_set: undefined,
      is_not_set: { ignored: true },
    };
    for (const operator of PROPERTY_OPERATORS) {
      expect(() => compileEventFilter(property({ key: '$browser.version', operator, value: value[operator] })), operator).not.toThrow();
    }
  });

  it('exactly 50 property filters and 100 event names', () => {
    const properties = Array.from({ length: 50 }, (_, i): PropertyFilter => ({ key: `k${i}`, operator: 'is_set' }));
    expect(() => compileEventFilter({ properties, events: Array.from({ length: 100 }, (_, i) => `e${i}`) })).not.toThrow();
  });
});
