import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { gunzipBounded, hasGzipMagic } from './gzip.ts';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof CaptureError ? error.code : `not a CaptureError: ${String(error)}`),
  );
}

describe('hasGzipMagic', () => {
  it.each<[string, number[], boolean]>([
    ['gzip header', [0x1f, 0x8b, 0x08, 0x00], true],
    ['gzip magic with a non-deflate method', [0x1f, 0x8b, 0x07], false],
    ['too short', [0x1f, 0x8b], false],
    ['JSON', [0x7b, 0x22], false],
  ])('%s → %s', (_name, bytes, expected) => {
    expect(hasGzipMagic(Buffer.from(bytes))).toBe(expected);
  });

  it('recognises what node:zlib writes (the same format as fflate with mtime 0)', () => {
    expect(hasGzipMagic(gzipSync('{}'))).toBe(true);
  });
});

describe('gunzipBounded', () => {
  it('inflates exactly-at-limit output and refuses one byte more', async () => {
    expect((await gunzipBounded(gzipSync(Buffer.alloc(1024, 65)), 1024)).length).toBe(1024);
    expect(await codeOf(gunzipBounded(gzipSync(Buffer.alloc(1025, 65)), 1024))).toBe('payload_too_large');
  });

  it('refuses 64 KiB of zeros under a 1 KiB limit', async () => {
    expect(await codeOf(gunzipBounded(gzipSync(Buffer.alloc(64 * 1024)), 1024))).toBe('payload_too_large');
  });

  it('inflates concatenated members as one stream', async () => {
    const joined = Buffer.concat([gzipSync('{"a":'), gzipSync('1}')]);
    expect((await gunzipBounded(joined, 100)).toString()).toBe('{"a":1}');
  });

  it('refuses non-empty output under a zero limit', async () => {
    expect(await codeOf(gunzipBounded(gzipSync('x'), 0))).toBe('payload_too_large');
  });

  it.each([
    ['garbage', Buffer.from('not gzip data at all')],
    ['a truncated stream', gzipSync('hello world, hello world').subarray(0, 15)],
    ['a flipped checksum', (() => { const b = gzipSync('hello'); b[b.length - 5]! ^= 0xff; return b; })()],
  ])('refuses %s as invalid_payload', async (_name, bytes) => {
    expect(await codeOf(gunzipBounded(bytes, 1024))).toBe('invalid_payload');
  });
});
