import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, isLikelyBase64, looksLikeUrlDecodedBase64 } from './base64.ts';

describe('isLikelyBase64', () => {
  it.each<[string, string, boolean]>([
    ['standard base64', Buffer.from('{"event":"x"}!').toString('base64'), true],
    ['padded with ==', 'YQ==', true],
    ['JSON object', '{"a":1}', false],
    ['length not a multiple of 4', 'YWJjZA', false],
    ['padding in the middle', 'YQ==YQ==', false],
    ['URL-safe characters', 'ab-_', false],
    ['spaces', 'ab c', false],
    ['empty', '', false],
    ['bad character after the first 128', 'A'.repeat(200) + '!!!!', false],
  ])('%s → %s', (_name, text, expected) => {
    expect(isLikelyBase64(text)).toBe(expected);
    expect(isLikelyBase64(Buffer.from(text, 'latin1'))).toBe(expected);
  });

  it('is false for gzip bytes', () => {
    expect(isLikelyBase64(Buffer.from([0x1f, 0x8b, 0x08, 0x00]))).toBe(false);
  });
});

describe('decodeBase64', () => {
  it('round-trips any bytes in both alphabets, padded or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        expect(decodeBase64(buf.toString('base64'))?.equals(buf) ?? bytes.length === 0).toBe(true);
        expect(decodeBase64(buf.toString('base64url'))?.equals(buf) ?? bytes.length === 0).toBe(true);
      }),
    );
  });

  it('ignores line breaks that MIME-style encoders insert', () => {
    expect(decodeBase64('eyJh\r\nIjoxfQ==')?.toString()).toBe('{"a":1}');
  });

  it.each([['not*base64'], ['YQ=x'], ['Y'], ['YQ='], ['']])('refuses %j instead of skipping bad characters', (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});

describe('looksLikeUrlDecodedBase64', () => {
  it.each<[string, boolean]>([
    ['eyJh IjoxfQ==', true],
    ['abc_-', true],
    ['{"a":1}', false],
    ['   ', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(looksLikeUrlDecodedBase64(text)).toBe(expected);
  });
});
