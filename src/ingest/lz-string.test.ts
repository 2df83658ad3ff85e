import fc from 'fast-check';
import LZString from 'lz-string';
import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { decompressLzBase64 } from './lz-string.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Builds lz-string base64 whose every code names the phrase being defined, so phrase k is k+1 copies of
 * 'A': `codes` codes of a few bits each expand to about codes²/2 characters.
 */
function quadraticBomb(codes: number): string {
  const bits: number[] = [];
  const write = (value: number, width: number) => {
    for (let i = 0; i < width; i++) bits.push((value >> i) & 1);
  };
  write(0, 2);
  write(0x41, 8);
  let dictSize = 4;
  let numBits = 3;
  let enlargeIn = 4;
  for (let k = 0; k < codes; k++) {
    write(dictSize, numBits);
    dictSize++;
    if (--enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
  write(2, numBits);
  let out = '';
  for (let i = 0; i < bits.length; i += 6) {
    let six = 0;
    for (let j = 0; j < 6; j++) six = (six << 1) | (bits[i + j] ?? 0);
    out += ALPHABET[six];
  }
  return out.padEnd(Math.ceil(out.length / 4) * 4, '=');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CaptureError ? error.code : `not a CaptureError: ${String(error)}`;
  }
}

const codeUnitString = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

describe('decompressLzBase64', () => {
  it.each([
    ['empty string', ''],
    ['ascii', 'hello world'],
    ['json batch', JSON.stringify([{ event: '$pageview', properties: { token: 'phc_x', $current_url: 'https://a.b/c' } }])],
    ['emoji and CJK', '😀 café 日本語 ✓'],
    ['lone surrogate', 'a\ud800b'],
    ['NUL and controls', '\u0000\u0001\u001f'],
    ['long repetition', 'abc'.repeat(5000)],
  ])('round-trips %s from the reference compressor', (_name, text) => {
    expect(decompressLzBase64(LZString.compressToBase64(text), 1_000_000)).toBe(text);
  });

  it('matches the reference decoder on arbitrary UTF-16 strings', () => {
    fc.assert(
      fc.property(codeUnitString(300), (text) => {
        const encoded = LZString.compressToBase64(text);
        expect(decompressLzBase64(encoded, text.length)).toBe(text);
        expect(decompressLzBase64(encoded, text.length)).toBe(LZString.decompressFromBase64(encoded));
      }),
      { numRuns: 300 },
    );
  });

  it('matches the reference decoder on unicode text with heavy repetition', () => {
    const repetitive = fc
      .array(fc.constantFrom('a', 'b', 'é', '😀', '{"k":', '}'), { maxLength: 2000 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), repetitive), (text) => {
        expect(decompressLzBase64(LZString.compressToBase64(text), Number.MAX_SAFE_INTEGER)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('passes output of exactly maxChars and refuses one character more', () => {
    fc.assert(
      fc.property(codeUnitString(200).filter((t) => t.length > 0), (text) => {
        const encoded = LZString.compressToBase64(text);
        expect(decompressLzBase64(encoded, text.length)).toBe(text);
        expect(codeOf(() => decompressLzBase64(encoded, text.length - 1))).toBe('payload_too_large');
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but a CaptureError on random base64, and agrees with the reference when it decodes', () => {
    const garbage = fc.string({ unit: fc.constantFrom(...ALPHABET.split('')), minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(garbage, (input) => {
        let ours: string | undefined;
        try {
          ours = decompressLzBase64(input, 1_000_000);
        } catch (error) {
          expect(error).toBeInstanceOf(CaptureError);
          expect(['invalid_payload', 'payload_too_large']).toContain((error as CaptureError).code);
          return;
        }
        expect(ours).toBe(LZString.decompressFromBase64(input));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes the hand-built quadratic stream exactly as the reference does', () => {
    const small = quadraticBomb(40);
    const expected = 'A'.repeat((41 * 42) / 2);
    expect(LZString.decompressFromBase64(small)).toBe(expected);
    expect(decompressLzBase64(small, expected.length)).toBe(expected);
  });

  it('refuses a quadratic bomb (~110 KB describing ~1 G characters) without building it', () => {
    const bomb = quadraticBomb(45_000);
    expect(bomb.length).toBeLessThan(120_000);
    expect(codeOf(() => decompressLzBase64(bomb, 2 * 1024 * 1024))).toBe('payload_too_large');
  });

  it('refuses a repeated-character bomb from the reference compressor under a 1 KiB cap', () => {
    const encoded = LZString.compressToBase64('A'.repeat(200_000));
    expect(encoded.length).toBeLessThan(4_000);
    expect(codeOf(() => decompressLzBase64(encoded, 1024))).toBe('payload_too_large');
  });

  it.each([
    ['empty input', ''],
    ['character outside the alphabet', 'BIU!'],
    ['non-ASCII character', 'BIUé'],
    ['stream without an end marker', LZString.compressToBase64('hello world').slice(0, 6)],
    ['unknown first code', '////'],
  ])('refuses %s as invalid_payload', (_name, input) => {
    expect(codeOf(() => decompressLzBase64(input, 1_000_000))).toBe('invalid_payload');
  });

  it('refuses a reference to a phrase that does not exist yet', () => {
    // Head 0 + literal 'A', then a 3-bit code 7 while the dictionary only reaches 4.
    const bits = [0, 0, ...[1, 0, 0, 0, 0, 0, 1, 0], 1, 1, 1];
    let text = '';
    for (let i = 0; i < bits.length; i += 6) {
      let six = 0;
      for (let j = 0; j < 6; j++) six = (six << 1) | (bits[i + j] ?? 0);
      text += ALPHABET[six];
    }
    expect(codeOf(() => decompressLzBase64(text, 1000))).toBe('invalid_payload');
  });
});
