import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { parseJsonText, repairLoneSurrogates } from './json-text.ts';

// The engine's own well-formedness repair (Node 20+), as an independent oracle.
const toWellFormed = (text: string): string => (text as unknown as { toWellFormed(): string }).toWellFormed();
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

describe('repairLoneSurrogates', () => {
  it('leaves JSON of well-formed strings byte-for-byte alone', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (text) => {
        const asJson = JSON.stringify({ [text]: text });
        expect(repairLoneSurrogates(asJson)).toBe(asJson);
      }),
    );
  });

  it('makes the escaped JSON of any UTF-16 string parse to its well-formed version', () => {
    fc.assert(
      fc.property(codeUnits, (text) => {
        // JSON.stringify writes lone surrogates as \uXXXX escapes and keeps valid pairs raw.
        expect(JSON.parse(repairLoneSurrogates(JSON.stringify(text)))).toBe(toWellFormed(text));
      }),
      { numRuns: 500 },
    );
  });

  it('repairs raw lone code units the same way the engine does', () => {
    fc.assert(
      fc.property(codeUnits.filter((t) => !t.includes('\\')), (text) => {
        expect(repairLoneSurrogates(text)).toBe(toWellFormed(text));
      }),
      { numRuns: 500 },
    );
  });

  it('repairs escapes written with upper-case hex as well', () => {
    expect(repairLoneSurrogates(String.raw`"\uD800x\uDBFF"`)).toBe(String.raw`"\ufffdx\ufffd"`);
    expect(repairLoneSurrogates(String.raw`"\uD83D\uDE00"`)).toBe(String.raw`"\uD83D\uDE00"`);
  });

  it('does not read an escaped backslash followed by "ud800" as an escape', () => {
    expect(repairLoneSurrogates(String.raw`"\\ud800" "\\\ud800"`)).toBe(String.raw`"\\ud800" "\\\ufffd"`);
  });
});

describe('parseJsonText', () => {
  it.each([['', 'empty'], ['   ', 'empty'], ['{', 'not valid JSON'], ['{"a":1}x', 'not valid JSON'], ["{'a':1}", 'not valid JSON']])(
    '%j is invalid_payload (%s)',
    (text, message) => {
      let caught: unknown;
      try {
        parseJsonText(text);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CaptureError);
      expect((caught as CaptureError).code).toBe('invalid_payload');
      expect((caught as CaptureError).message).toContain(message);
    },
  );

  it('keeps the last of duplicate keys and own __proto__ keys as data', () => {
    const parsed = parseJsonText('{"a":1,"a":2,"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(parsed.a).toBe(2);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('parses numbers past double range as JSON.parse does rather than refusing', () => {
    expect(parseJsonText('[1e400, -0, 9007199254740993]')).toEqual([Infinity, -0, 9007199254740992]);
  });
});
