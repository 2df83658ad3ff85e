import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import LZString from 'lz-string';
import { describe, expect, it } from 'vitest';
import { compressionFromHint, decodeCaptureBody, type CaptureBodyRequest } from './decode.ts';
import { CaptureError } from './errors.ts';

const FORM = 'application/x-www-form-urlencoded';
const batch = { api_key: 'phc_test', batch: [{ event: '$pageview', distinct_id: 'u1', properties: { $current_url: 'https://x.y/?a=1&b=2' } }] };
const json = JSON.stringify(batch);
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
// A document whose base64 holds '+' and '/', which url-decoding mangles unless they are restored.
const plusDoc = [0, 1, 2]
  .map((n) => ({ ...batch, pad: `${'x'.repeat(n)}>>>???` }))
  .find((d) => b64(JSON.stringify(d)).includes('+'))!;
const plusJson = JSON.stringify(plusDoc);
const docWithDataInUrl = { event: 'e', properties: { $current_url: 'https://a.b/?x=1&data=2' } };
const jsonWithDataInUrl = JSON.stringify(docWithDataInUrl);

function post(body: Buffer | string, extra: Partial<CaptureBodyRequest> = {}): CaptureBodyRequest {
  return { method: 'POST', body: Buffer.from(body), query: new URLSearchParams(), limitBytes: 1024 * 1024, ...extra };
}

function get(query: string, extra: Partial<CaptureBodyRequest> = {}): CaptureBodyRequest {
  return { method: 'GET', body: Buffer.alloc(0), query: new URLSearchParams(query), limitBytes: 1024 * 1024, ...extra };
}

async function refusal(req: CaptureBodyRequest): Promise<CaptureError> {
  const error = await decodeCaptureBody(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CaptureError);
  return error as CaptureError;
}

describe('decodeCaptureBody: encodings the SDKs send', () => {
  it.each<[string, CaptureBodyRequest, string, unknown?]>([
    ['plain JSON (uncompressed posthog-js)', post(json, { contentType: 'application/json' }), 'none'],
    ['gzip sniffed by magic bytes, no hint (posthog-js 1.449, text/plain)', post(gzipSync(json), { contentType: 'text/plain' }), 'gzip'],
    ['gzip with Content-Encoding: gzip (posthog-node)', post(gzipSync(json), { contentType: 'application/json', contentEncoding: 'gzip' }), 'gzip'],
    ['gzip with ?compression=gzip-js (posthog-js 1.200)', post(gzipSync(json), { query: new URLSearchParams('compression=gzip-js&ip=1&_=1700000000000&ver=1.200.0') }), 'gzip'],
    ['lz64 with ?compression=lz64', post(LZString.compressToBase64(json), { query: new URLSearchParams('compression=lz64') }), 'lz64'],
    ['lz64 with Content-Encoding: lz-string', post(LZString.compressToBase64(json), { contentEncoding: 'lz-string' }), 'lz64'],
    ['base64 form, the sendBeacon shape', post(`data=${encodeURIComponent(b64(json))}`, { contentType: FORM, query: new URLSearchParams('compression=base64') }), 'base64'],
    ['base64 form with its + signs left unescaped', post(`data=${b64(plusJson)}`, { contentType: `${FORM}; charset=UTF-8` }), 'base64', plusDoc],
    ['form with compression field and lz64 data', post(`compression=lz64&data=${LZString.compressToBase64(json)}`, { contentType: FORM }), 'lz64'],
    ['form with a ver field before data', post(`ver=1.2.3&data=${encodeURIComponent(json)}`, { contentType: FORM }), 'none'],
    ['form without a form content type', post(`data=${encodeURIComponent(b64(json))}`), 'base64'],
    ['whole raw body in base64, no hint', post(b64(json)), 'base64'],
    ['base64 of gzip in the body', post(b64(gzipSync(json))), 'gzip'],
    ['base64 of gzip in a form with compression=gzip-js', post(`data=${encodeURIComponent(b64(gzipSync(json)))}&compression=gzip-js`, { contentType: FORM }), 'gzip'],
    ['gzip of base64 JSON, unwrapped once more', post(gzipSync(b64(json))), 'gzip'],
    ['JSON under a form content type (CORS-simple trick)', post(json, { contentType: FORM }), 'none'],
    ['JSON with `&data=` in a URL, under a form content type', post(jsonWithDataInUrl, { contentType: FORM }), 'none', docWithDataInUrl],
    ['gzip magic wins over an lz64 hint', post(gzipSync(json), { query: new URLSearchParams('compression=lz64') }), 'gzip'],
    ['GET with base64 data in the query', get(`data=${encodeURIComponent(b64(json))}&compression=base64`), 'base64'],
    ['GET with base64 data whose + became spaces', get(`data=${b64(plusJson)}`), 'base64', plusDoc],
    ['GET with URL-safe unpadded base64', get(`data=${Buffer.from(plusJson).toString('base64url')}`), 'base64', plusDoc],
    ['GET with raw JSON in the query', get(`data=${encodeURIComponent(json)}`), 'none'],
    ['POST whose payload is in the query string', post('', { query: new URLSearchParams(`data=${encodeURIComponent(json)}`) }), 'none'],
  ])('%s', async (_name, req, compression, expected = batch) => {
    const result = await decodeCaptureBody(req);
    expect(result.payload).toEqual(expected);
    expect(result.compression).toBe(compression);
  });

  it('uses a fixture whose base64 really has + and / in it', () => {
    expect(b64(plusJson)).toContain('+');
    expect(Buffer.from(plusJson).toString('base64url')).toMatch(/[-_]/);
    expect(Buffer.from(plusJson).toString('base64url')).not.toContain('=');
  });
});

describe('decodeCaptureBody: refusals', () => {
  it.each<[string, CaptureBodyRequest, string]>([
    ['empty POST body', post(''), 'invalid_payload'],
    ['whitespace-only body', post('  \n'), 'invalid_payload'],
    ['GET without data', get('compression=gzip'), 'invalid_payload'],
    ['Content-Encoding: gzip over plain JSON', post(json, { contentEncoding: 'gzip' }), 'invalid_payload'],
    ['?compression=gzip over plain JSON', post(json, { query: new URLSearchParams('compression=gzip') }), 'invalid_payload'],
    ['truncated gzip', post(gzipSync(json).subarray(0, 20)), 'invalid_payload'],
    ['gzip with a corrupted body', post(Buffer.concat([gzipSync(json).subarray(0, 10), Buffer.alloc(40, 0xff)])), 'invalid_payload'],
    ['compression=base64 over text that is not base64', post('not*base64!', { query: new URLSearchParams('compression=base64') }), 'invalid_payload'],
    ['lz64 hint over garbage', post('%%%%', { query: new URLSearchParams('compression=lz64') }), 'invalid_payload'],
    ['truncated JSON', post(json.slice(0, -3)), 'invalid_payload'],
    ['JSON with trailing garbage', post(`${json} trailing`), 'invalid_payload'],
    ['form with no data field', post('ip=1&_=1700000000000', { contentType: FORM }), 'invalid_payload'],
    ['form whose data is empty', post('data=&compression=base64', { contentType: FORM }), 'invalid_payload'],
    ['gzip inside gzip (never inflated twice)', post(gzipSync(gzipSync(json))), 'invalid_payload'],
  ])('%s → %s', async (_name, req, code) => {
    const error = await refusal(req);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(5);
  });

  it('names the JSON problem in the message', async () => {
    expect((await refusal(post('{"event": }'))).message).toMatch(/not valid JSON/);
    expect((await refusal(post(gzipSync(json).subarray(0, 20)))).message).toMatch(/gzip/);
  });
});

describe('decodeCaptureBody: size limit applies to the decompressed bytes', () => {
  const exactly = (n: number) => `"${'a'.repeat(n - 2)}"`;
  const wrap = (n: number) => `[${exactly(n - 2)}]`;

  it.each([
    ['plain', (text: string) => post(text)],
    ['gzip', (text: string) => post(gzipSync(text))],
    ['lz64', (text: string) => post(LZString.compressToBase64(text), { query: new URLSearchParams('compression=lz64') })],
    ['base64 body', (text: string) => post(b64(text))],
    ['base64 form', (text: string) => post(`data=${encodeURIComponent(b64(text))}`, { contentType: FORM })],
  ])('%s: exactly at the limit passes, one byte over is payload_too_large', async (_name, make) => {
    const limit = 1024;
    const atLimit = wrap(limit);
    expect(Buffer.byteLength(atLimit)).toBe(limit);
    const ok = await decodeCaptureBody({ ...make(atLimit), limitBytes: limit });
    expect(ok.payload).toEqual(JSON.parse(atLimit));
    const over = await refusal({ ...make(wrap(limit + 1)), limitBytes: limit });
    expect(over.code).toBe('payload_too_large');
  });

  it('counts UTF-8 bytes, not characters, for lz64', async () => {
    const text = JSON.stringify(['é'.repeat(600)]); // 606 characters, 1206 bytes
    const req = post(LZString.compressToBase64(text), { query: new URLSearchParams('compression=lz64'), limitBytes: 1024 });
    expect((await refusal(req)).code).toBe('payload_too_large');
  });

  it('lets a base64 body larger than the limit through when its decoded JSON fits', async () => {
    const text = wrap(900);
    const body = b64(text);
    expect(body.length).toBeGreaterThan(1000);
    expect((await decodeCaptureBody({ ...post(body), limitBytes: 1000 })).payload).toEqual(JSON.parse(text));
  });
});

describe('decodeCaptureBody: gzip bombs', () => {
  it('refuses 64 KiB of zeros under a 1 KiB limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024));
    expect(bomb.length).toBeLessThan(200);
    expect((await refusal({ ...post(bomb), limitBytes: 1024 })).code).toBe('payload_too_large');
  });

  it('refuses a single-member bomb of 64 MiB zeros under a 1 MiB limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect((await refusal({ ...post(bomb), limitBytes: 1024 * 1024 })).code).toBe('payload_too_large');
  });

  it('refuses ~10 MB of gzip describing ~10 GiB under the 20 MiB batch limit, without inflating it all', async () => {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 640 }, () => member));
    expect(bomb.length).toBeLessThan(11 * 1024 * 1024);
    const error = await refusal({ ...post(bomb, { contentEncoding: 'gzip' }), limitBytes: 20 * 1024 * 1024 });
    expect(error.code).toBe('payload_too_large');
    expect(error.status).toBe(413);
  });
});

describe('decodeCaptureBody: text repair before parsing', () => {
  it.each([
    ['lone high surrogate escape', String.raw`{"k":"a\ud800b"}`, { k: 'a\ufffdb' }],
    ['lone low surrogate escape', String.raw`{"k":"\udc00"}`, { k: '\ufffd' }],
    ['high escape followed by a non-surrogate escape', String.raw`{"k":"\ud800\u0041"}`, { k: '\ufffdA' }],
    ['reversed pair', String.raw`{"k":"\udc00\ud800"}`, { k: '\ufffd\ufffd' }],
    ['lone surrogate in a key', String.raw`{"\udfff":1}`, { '\ufffd': 1 }],
    ['valid escaped pair kept', String.raw`{"k":"\ud83d\ude00"}`, { k: '😀' }],
    ['escaped backslash before u kept literal', String.raw`{"k":"\\ud800"}`, { k: '\\ud800' }],
    ['leading byte-order mark', '\ufeff{"k":1}', { k: 1 }],
  ])('%s', async (_name, text, expected) => {
    const { payload } = await decodeCaptureBody(post(text));
    expect(payload).toEqual(expected);
  });

  it('replaces lone surrogates that lz64 output carries as raw code units', async () => {
    const { payload } = await decodeCaptureBody(
      post(LZString.compressToBase64('{"k":"x\ud800y"}'), { query: new URLSearchParams('compression=lz64') }),
    );
    expect(payload).toEqual({ k: 'x\ufffdy' });
  });

  it.each([
    ['overlong NUL (C0 80)', [0xc0, 0x80]],
    ['lone continuation byte', [0x80]],
    ['truncated 3-byte sequence', [0xe2, 0x82]],
    ['UTF-8-encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('stores invalid UTF-8 (%s) as U+FFFD instead of refusing the batch', async (_name, bad) => {
    const body = Buffer.concat([Buffer.from('{"k":"a'), Buffer.from(bad), Buffer.from('b","n":1}')]);
    const { payload } = await decodeCaptureBody(post(gzipSync(body)));
    const value = (payload as { k: string; n: number }).k;
    expect(value.startsWith('a\ufffd')).toBe(true);
    expect(value.endsWith('b')).toBe(true);
    expect(Buffer.from(value, 'utf8').toString('utf8')).toBe(value); // no lone surrogates left
    expect((payload as { n: number }).n).toBe(1);
  });
});

describe('decodeCaptureBody: round trips of arbitrary JSON', () => {
  const documents = fc
    .jsonValue({ stringUnit: 'grapheme', maxDepth: 4 })
    .filter((v) => typeof v === 'object' && v !== null)
    .map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  const encoders: Record<string, (text: string) => CaptureBodyRequest> = {
    plain: (text) => post(text),
    gzip: (text) => post(gzipSync(text)),
    'gzip, Content-Encoding': (text) => post(gzipSync(text), { contentEncoding: 'gzip' }),
    lz64: (text) => post(LZString.compressToBase64(text), { query: new URLSearchParams('compression=lz64') }),
    'base64 form': (text) => post(`data=${encodeURIComponent(b64(text))}`, { contentType: FORM, query: new URLSearchParams('compression=base64') }),
    'base64 raw body': (text) => post(b64(text)),
    'GET base64': (text) => get(`data=${encodeURIComponent(b64(text))}`),
  };

  it.each(Object.entries(encoders))('%s', async (_name, encode) => {
    await fc.assert(
      fc.asyncProperty(documents, async (doc) => {
        const { payload } = await decodeCaptureBody(encode(JSON.stringify(doc)));
        expect(payload).toEqual(doc);
      }),
      { numRuns: 60 },
    );
  });
});

describe('compressionFromHint', () => {
  it.each([
    ['gzip', 'gzip'], ['gzip-js', 'gzip'], ['GZIP', 'gzip'], ['gzip, identity', 'gzip'],
    ['lz64', 'lz64'], ['lz-string', 'lz64'], ['base64', 'base64'], ['b64', 'base64'],
    ['br', 'none'], ['', 'none'], [null, 'none'], [undefined, 'none'],
  ])('%s → %s', (hint, expected) => {
    expect(compressionFromHint(hint)).toBe(expected);
  });
});
