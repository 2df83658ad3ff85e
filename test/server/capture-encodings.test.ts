import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { gzipSync as fflateGzipSync, strToU8 } from 'fflate';
import { compressToBase64 } from 'lz-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { countEvents, expectError, expectOk, send, storedByUuid, type CaptureRequest } from '../fixtures/capture/harness.ts';

/*
 * Every body encoding PostHog SDKs have used, produced with real encoders (node:zlib, fflate as
 * posthog-js bundles it, lz-string, base64 as posthog-js writes it) and sent over real HTTP. Each
 * case checks the event arrives with its properties byte for byte, Unicode included.
 */

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = server.project.apiToken;
});

afterAll(async () => {
  await server?.dispose();
});

/**
 * Text that breaks naive encoders: accents, CJK, an astral emoji, RTL override, '+', '/', '=', '&', '%'.
 * The `??? ~~~ >>>` run makes base64 of any payload holding it contain both '+' and '/', whatever its
 * alignment, so the '+'-as-space repair is always exercised.
 */
const TRICKY = 'héllo wörld — 你好 — 😀👩‍👩‍👧 — \u202Eevil — a+b/c=d&e%20f — "quoted" \\ back — ??? ~~~ >>> ûûû ÿÿÿ';

/** posthog-js's `_base64Encode`: UTF-8 bytes, then btoa. */
function jsBase64(text: string): string {
  return btoa(encodeURIComponent(text).replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
}

function toBase64Url(b64: string): string {
  return b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

interface Encoded extends CaptureRequest {
  path: string;
}

type Shape = 'single' | 'array' | 'batch';

/** Two events in the requested shape, carrying TRICKY text in a property. */
function payloadOf(shape: Shape) {
  const run = randomUUID();
  const events = [0, 1].map((i) => ({
    event: `enc ${i}`,
    uuid: randomUUID(),
    timestamp: new Date().toISOString(),
    properties: { token, distinct_id: `enc-user-${i}`, text: TRICKY, nested: { list: [1, 'two', { three: 3 }] }, run },
  }));
  const payload = shape === 'single' ? events[0] : shape === 'array' ? events : { api_key: token, batch: events, sent_at: new Date().toISOString() };
  return { payload, events: shape === 'single' ? events.slice(0, 1) : events, run };
}

const ENCODINGS: [string, Shape, (json: string) => Encoded][] = [
  ['plain JSON, application/json', 'batch', (json) => ({ path: '/batch/', headers: { 'content-type': 'application/json' }, body: json })],
  [
    'gzip (fflate, mtime 0) as text/plain with no hint: current posthog-js',
    'batch',
    (json) => ({ path: '/e/', headers: { 'content-type': 'text/plain' }, body: fflateGzipSync(strToU8(json), { mtime: 0 }) }),
  ],
  ['gzip (zlib) with no content type and no hint', 'batch', (json) => ({ path: '/i/v0/e/', body: gzipSync(json) })],
  [
    'gzip with Content-Encoding: gzip: posthog-node',
    'batch',
    (json) => ({ path: '/batch/', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(json) }),
  ],
  [
    'gzip-js bare array on the old posthog-js 1.200 URL',
    'array',
    (json) => ({
      path: `/e/?ip=1&_=${Date.now()}&ver=1.200.0&compression=gzip-js`,
      headers: { 'content-type': 'text/plain' },
      body: fflateGzipSync(strToU8(json), { mtime: 0 }),
    }),
  ],
  ['compression=gzip on a single event', 'single', (json) => ({ path: '/capture/?compression=gzip', body: gzipSync(json) })],
  [
    'base64 form data= with ?compression=base64: posthog-js sendBeacon',
    'batch',
    (json) => ({
      path: '/e/?compression=base64',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `data=${encodeURIComponent(jsBase64(json))}`,
    }),
  ],
  [
    'base64 form with compression given as a form field',
    'array',
    (json) => ({
      path: '/e/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `data=${encodeURIComponent(jsBase64(json))}&compression=base64`,
    }),
  ],
  [
    'base64 form whose + signs were not escaped (read back as spaces)',
    'array',
    (json) => ({ path: '/e/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `data=${jsBase64(json)}` }),
  ],
  [
    'base64 form with no hint at all',
    'single',
    (json) => ({ path: '/track/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `data=${encodeURIComponent(jsBase64(json))}` }),
  ],
  ['whole body base64, text/plain, no hint', 'batch', (json) => ({ path: '/e/', headers: { 'content-type': 'text/plain' }, body: jsBase64(json) })],
  ['whole body base64 of gzip', 'batch', (json) => ({ path: '/batch/', body: gzipSync(json).toString('base64') })],
  ['gzip of base64 (payload still base64 after inflating)', 'array', (json) => ({ path: '/e/', body: gzipSync(jsBase64(json)) })],
  [
    'lz64 raw body with ?compression=lz64',
    'array',
    (json) => ({ path: '/e/?compression=lz64', headers: { 'content-type': 'text/plain' }, body: compressToBase64(json) }),
  ],
  [
    'lz64 in a form with compression=lz64 in the form',
    'array',
    (json) => ({
      path: '/e/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `data=${encodeURIComponent(compressToBase64(json))}&compression=lz64`,
    }),
  ],
  [
    'lz-string spelling of the hint',
    'single',
    (json) => ({ path: '/e/?compression=lz-string', headers: { 'content-type': 'text/plain' }, body: compressToBase64(json) }),
  ],
  ['GET ?data=<base64>&compression=base64', 'single', (json) => ({ path: `/e/?data=${encodeURIComponent(jsBase64(json))}&compression=base64` })],
  ['GET ?data=<url-safe base64 without padding>', 'array', (json) => ({ path: `/e/?data=${toBase64Url(jsBase64(json))}` })],
  ['GET ?data=<base64 with raw + signs>', 'array', (json) => ({ path: `/e/?data=${jsBase64(json).replaceAll('=', '%3D')}` })],
  ['GET ?data=<lz64>&compression=lz64', 'single', (json) => ({ path: `/e/?data=${encodeURIComponent(compressToBase64(json))}&compression=lz64` })],
  ['GET ?data=<urlencoded JSON>', 'batch', (json) => ({ path: `/batch/?data=${encodeURIComponent(json)}` })],
  ['POST with ?data= in the query (old beacon) and an empty body', 'single', (json) => ({ path: `/e/?data=${encodeURIComponent(jsBase64(json))}`, body: '' })],
  ['JSON sent as a form content type to skip the preflight', 'batch', (json) => ({ path: '/e/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: json })],
  ['JSON with a UTF-8 byte-order mark', 'batch', (json) => ({ path: '/e/', headers: { 'content-type': 'application/json' }, body: `\ufeff${json}` })],
];

describe('encodings', () => {
  it.each(ENCODINGS)('%s', async (_name, shape, encode) => {
    const { payload, events, run } = payloadOf(shape);
    const { path, ...init } = encode(JSON.stringify(payload));
    const reply = await send(server, path, { method: init.body === undefined ? 'GET' : 'POST', ...init });
    expectOk(reply, events.length);
    const stored = await storedByUuid(server, events.map((e) => e.uuid));
    expect(stored.size).toBe(events.length);
    for (const sent of events) {
      const got = stored.get(sent.uuid)!;
      expect(got.event).toBe(sent.event);
      expect(got.distinctId).toBe(sent.properties.distinct_id);
      expect(got.properties.text).toBe(TRICKY);
      expect(got.properties.nested).toEqual(sent.properties.nested);
      expect(got.properties.run).toBe(run);
    }
  });

  it('base64 of the payloads above contains + and / (so the + handling is exercised)', () => {
    const { payload } = payloadOf('array');
    const b64 = jsBase64(JSON.stringify(payload));
    expect(b64).toMatch(/\+/);
    expect(b64).toMatch(/\//);
  });

  it('gzip magic bytes win over a misleading hint', async () => {
    const { payload, events } = payloadOf('batch');
    const reply = await send(server, '/e/?compression=base64', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: gzipSync(JSON.stringify(payload)) });
    expectOk(reply, 2);
    expect((await storedByUuid(server, events.map((e) => e.uuid))).size).toBe(2);
  });

  it('a JSON body is never mistaken for a form, even with &data= inside a string', async () => {
    const { payload, events } = payloadOf('single');
    (events[0]!.properties as Record<string, unknown>).$current_url = 'https://x.example/?a=1&data=abc&compression=lz64';
    const reply = await send(server, '/e/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify(payload) });
    expectOk(reply, 1);
    expect((await storedByUuid(server, [events[0]!.uuid])).get(events[0]!.uuid)?.properties.$current_url).toBe('https://x.example/?a=1&data=abc&compression=lz64');
  });

  it('invalid UTF-8 inside a string becomes U+FFFD and the event is kept', async () => {
    const uuid = randomUUID();
    const head = Buffer.from(`{"token":"${token}","event":"bad utf8","distinct_id":"u","uuid":"${uuid}","properties":{"s":"a`);
    const tail = Buffer.from('b"}}');
    const body = Buffer.concat([head, Buffer.from([0xc0, 0x80, 0xff, 0x80]), tail]);
    expectOk(await send(server, '/e/', { method: 'POST', body }), 1);
    const s = (await storedByUuid(server, [uuid])).get(uuid)?.properties.s as string;
    expect(s.startsWith('a')).toBe(true);
    expect(s.endsWith('b')).toBe(true);
    expect(s).toContain('\ufffd');
  });

  it('lone surrogate escapes are repaired to U+FFFD; escaped pairs survive', async () => {
    const uuid = randomUUID();
    const body = `{"token":"${token}","event":"surrogates","distinct_id":"u","uuid":"${uuid}","properties":{"lone":"x\\ud800y","low":"\\udfff","pair":"\\ud83d\\ude00","escaped":"\\\\ud800"}}`;
    expectOk(await send(server, '/e/', { method: 'POST', body }), 1);
    const props = (await storedByUuid(server, [uuid])).get(uuid)!.properties;
    expect(props).toMatchObject({ lone: 'x\ufffdy', low: '\ufffd', pair: '😀', escaped: '\\ud800' });
  });
});

describe('undecodable bodies are refused with a JSON error, never stored', () => {
  const CASES: [string, Encoded][] = [
    ['Content-Encoding: gzip over plain bytes', { path: '/batch/', headers: { 'content-encoding': 'gzip' }, body: 'definitely not gzip' }],
    ['truncated gzip', { path: '/e/', body: gzipSync(JSON.stringify({ token, event: 'x', distinct_id: 'u' })).subarray(0, 20) }],
    ['gzip with a corrupted stream', { path: '/e/', body: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('garbage garbage garbage')]) }],
    ['gzip of something that is not JSON', { path: '/e/', body: gzipSync('<html>hello</html>') }],
    ['compression=base64 with characters outside base64', { path: '/e/?compression=base64', body: 'data=%21%21%21not*base64' }],
    ['compression=lz64 with characters outside the alphabet', { path: '/e/?compression=lz64', body: '!!!***' }],
    ['compression=lz64 that never ends', { path: '/e/?compression=lz64', body: 'AAAAAAAA' }],
    ['a form without a data field', { path: '/e/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'ver=1.2&compression=base64' }],
    ['a form with an empty data field', { path: '/e/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'data=&ip=1' }],
    ['truncated JSON', { path: '/e/', body: `{"token":"${token}","event":"x","distinct_id":"u"` }],
    ['JSON with trailing garbage', { path: '/e/', body: `{"token":"${token}","event":"x","distinct_id":"u"} trailing` }],
    ['JSON with a leading zero number', { path: '/e/', body: `{"token":"${token}","event":"x","distinct_id":"u","properties":{"n":01}}` }],
    ['only whitespace', { path: '/e/', body: '   \n\t  ' }],
    ['only a byte-order mark', { path: '/e/', body: '\ufeff' }],
    ['gzip of gzip (nested compression is not unwrapped twice)', { path: '/e/', body: gzipSync(gzipSync(JSON.stringify({ token, event: 'x', distinct_id: 'u' }))) }],
  ];

  it.each(CASES)('%s', async (_name, { path, ...init }) => {
    const before = await countEvents(server);
    const reply = await send(server, path, { method: 'POST', ...init });
    expectError(reply, 400, 'invalid_payload');
    expect(await countEvents(server)).toBe(before);
  });
});
