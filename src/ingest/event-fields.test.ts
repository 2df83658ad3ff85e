import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { extractDistinctId, normalizeEventName, normalizeEventUuid } from './event-fields.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CaptureError ? error.code : String(error);
  }
}

describe('normalizeEventUuid', () => {
  it.each<[string, unknown, string | undefined]>([
    ['absent', undefined, undefined],
    ['null', null, undefined],
    ['empty string means none', '', undefined],
    ['canonical', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['upper case is lowered', '01890C5E-7F6A-7CDE-8A1B-2C3D4E5F6A7B', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['braced', '{01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b}', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['urn form', 'urn:uuid:01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['32 bare hex digits', '01890c5e7f6a7cde8a1b2c3d4e5f6a7b', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['nil uuid is syntactically valid', '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'],
  ])('%s', (_name, input, expected) => {
    expect(normalizeEventUuid(input)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['not hex', 'zzzzzzzz-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['too short', '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7'],
    ['misplaced hyphens', '01890c5e7-f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['half-braced', '{01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b'],
    ['surrounding spaces', ' 01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b '],
    ['a word', 'my-event-1'],
    ['a number', 12345],
    ['an object', { id: 'x' }],
  ])('refuses %s with invalid_uuid', (_name, input) => {
    expect(codeOf(() => normalizeEventUuid(input))).toBe('invalid_uuid');
  });
});

describe('normalizeEventName', () => {
  it('keeps ordinary names and cuts long ones to 200 characters', () => {
    expect(normalizeEventName('$pageview', 'event')).toBe('$pageview');
    expect(normalizeEventName('x'.repeat(250), 'batch')).toBe('x'.repeat(200));
    expect(normalizeEventName('x'.repeat(200), 'batch')).toBe('x'.repeat(200));
  });

  it('counts characters, not UTF-16 units, and never splits an emoji', () => {
    const cut = normalizeEventName('😀'.repeat(250), 'event');
    expect([...cut]).toHaveLength(200);
    expect(cut).toBe('😀'.repeat(200));
  });

  it('fills in $identify on /engage, which carries no name', () => {
    expect(normalizeEventName(undefined, 'engage')).toBe('$identify');
    expect(normalizeEventName('$set', 'engage')).toBe('$set');
  });

  it.each<[string, unknown, string]>([
    ['missing', undefined, 'missing_event_name'],
    ['null', null, 'missing_event_name'],
    ['empty', '', 'missing_event_name'],
    ['a number', 42, 'invalid_payload'],
    ['an array', ['a'], 'invalid_payload'],
    ['an object', { name: 'a' }, 'invalid_payload'],
    ['a boolean', true, 'invalid_payload'],
  ])('refuses a name that is %s with %s', (_name, input, code) => {
    expect(codeOf(() => normalizeEventName(input, 'event'))).toBe(code);
  });
});

describe('extractDistinctId', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['top-level string', { distinct_id: 'u1' }, {}, 'u1'],
    ['$distinct_id alias', { $distinct_id: 'u1' }, {}, 'u1'],
    ['properties.distinct_id (posthog-js)', {}, { distinct_id: 'u1' }, 'u1'],
    ['top level wins over properties', { distinct_id: 'top' }, { distinct_id: 'prop' }, 'top'],
    ['null top level falls back to properties', { distinct_id: null }, { distinct_id: 'prop' }, 'prop'],
    ['number becomes its JSON text', { distinct_id: 23 }, {}, '23'],
    ['float', { distinct_id: 1.5 }, {}, '1.5'],
    ['boolean', { distinct_id: false }, {}, 'false'],
    ['array becomes JSON', { distinct_id: ['a', 'b'] }, {}, '["a","b"]'],
    ['object becomes JSON', { distinct_id: { id: 1 } }, {}, '{"id":1}'],
    ['NUL becomes U+FFFD', { distinct_id: 'a\u0000b' }, {}, 'a\ufffdb'],
    ['surrounding whitespace is kept', { distinct_id: '  u1  ' }, {}, '  u1  '],
    ['the string "null" is a valid id here', { distinct_id: 'null' }, {}, 'null'],
    ['long ids are cut to 200 characters', { distinct_id: 'x'.repeat(10_000) }, {}, 'x'.repeat(200)],
  ])('%s', (_name, event, properties, expected) => {
    expect(extractDistinctId(event, properties)).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['missing', {}, {}],
    ['null everywhere', { distinct_id: null }, { distinct_id: null }],
    ['empty string', { distinct_id: '' }, { distinct_id: 'prop' }],
    ['whitespace only', { distinct_id: ' \t\n' }, {}],
  ])('refuses %s with missing_distinct_id', (_name, event, properties) => {
    expect(codeOf(() => extractDistinctId(event, properties))).toBe('missing_distinct_id');
  });
});
