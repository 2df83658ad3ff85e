import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compressToBase64 } from 'lz-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  countEvents,
  event,
  expectError,
  expectOk,
  postJson,
  send,
  storedByUuid,
  type CaptureReply,
  type CaptureRequest,
} from '../fixtures/capture/harness.ts';

/*
 * Size limits (measured after decompression), decompression bombs, name/id truncation, nesting and
 * size caps per event, and a bad-input corpus: hand-picked hostile inputs plus generated ones. Whatever
 * comes in, the answer is a 2xx or a 4xx with a JSON error body — never a 5xx, a hang or a crash — and
 * events stored earlier stay exactly as they were.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const EVENT_LIMIT = 2 * MiB;
const BATCH_LIMIT = 20 * MiB;
const EVENT_JSON_LIMIT = 1 * MiB;

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = server.project.apiToken;
});

afterAll(async () => {
  await server?.dispose();
});

/** `json` followed by spaces up to exactly `size` bytes (JSON allows trailing whitespace). */
function padTo(json: string, size: number): string {
  const bytes = Buffer.byteLength(json);
  if (bytes > size) throw new Error(`payload is already ${bytes} bytes`);
  return json + ' '.repeat(size - bytes);
}

/** A bare array of `count` real events whose JSON is exactly `size` bytes, filler spread evenly. */
function arrayOfSize(size: number, count: number, run: string): { body: string; uuids: string[] } {
  const events = Array.from({ length: count }, () => ({ ...event('sized', 'sized-user', { properties: { token, run, filler: '' } }) }));
  const base = Buffer.byteLength(JSON.stringify(events));
  const share = Math.floor((size - base) / count);
  events.forEach((e, i) => (e.properties.filler = 'f'.repeat(i === count - 1 ? size - base - share * (count - 1) : share)));
  const body = JSON.stringify(events);
  expect(Buffer.byteLength(body)).toBe(size);
  return { body, uuids: events.map((e) => e.uuid) };
}

/** One event whose own JSON is exactly `size` bytes. */
function eventOfSize(size: number): Record<string, any> {
  const e = event('one event sized', 'u', { properties: { filler: '' } });
  e.properties.filler = 'e'.repeat(size - Buffer.byteLength(JSON.stringify(e)));
  expect(Buffer.byteLength(JSON.stringify(e))).toBe(size);
  return e;
}

async function expectHealthy(): Promise<void> {
  const health = await send(server, '/healthz');
  expect(health.status).toBe(200);
  const probe = event('still healthy', 'u');
  expectOk(await postJson(server, '/batch/', { api_key: token, batch: [probe] }), 1);
  expect((await storedByUuid(server, [probe.uuid])).size).toBe(1);
}

describe('body size limits (after decompression)', () => {
  const single = (extra = '') => JSON.stringify({ token, event: 'at limit', distinct_id: 'u', uuid: randomUUID(), properties: { extra } });

  it('an event route takes a body of exactly 2 MiB and refuses one byte more with 413', async () => {
    expectOk(await send(server, '/e/', { method: 'POST', body: padTo(single(), EVENT_LIMIT) }), 1);
    const over = await send(server, '/e/', { method: 'POST', body: padTo(single(), EVENT_LIMIT + 1) });
    expectError(over, 413, 'payload_too_large');
  });

  it('the same holds for gzip: 2 MiB once inflated passes, one byte more is 413', async () => {
    expectOk(await send(server, '/i/v0/e/', { method: 'POST', body: gzipSync(padTo(single(), EVENT_LIMIT)) }), 1);
    expectError(await send(server, '/i/v0/e/', { method: 'POST', body: gzipSync(padTo(single(), EVENT_LIMIT + 1)) }), 413, 'payload_too_large');
    expectError(
      await send(server, '/i/v0/e/', { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync(padTo(single(), EVENT_LIMIT + 1)) }),
      413,
      'payload_too_large',
    );
  });

  it('real events filling exactly 2 MiB are all stored; one more byte stores none', async () => {
    const run = randomUUID();
    const exact = arrayOfSize(EVENT_LIMIT, 3, run);
    expectOk(await send(server, '/e/', { method: 'POST', body: exact.body }), 3);
    const over = arrayOfSize(EVENT_LIMIT + 1, 3, run);
    expectError(await send(server, '/e/', { method: 'POST', body: over.body }), 413, 'payload_too_large');
    expect(await countEvents(server, { 'properties.run': run })).toBe(3);
  });

  it('/batch takes what an event route refuses: 6 MiB of real events', async () => {
    const run = randomUUID();
    const { body, uuids } = arrayOfSize(6 * MiB, 8, run);
    expectError(await send(server, '/e/', { method: 'POST', body }), 413, 'payload_too_large');
    expectOk(await send(server, '/batch/', { method: 'POST', body }), 8);
    expect((await storedByUuid(server, uuids)).size).toBe(8);
  });

  it('/batch takes exactly 20 MiB and refuses one byte more', async () => {
    const run = randomUUID();
    const { body, uuids } = arrayOfSize(BATCH_LIMIT, 21, run);
    expectOk(await send(server, '/batch/', { method: 'POST', body }), 21);
    expect((await storedByUuid(server, uuids)).size).toBe(21);

    const over = arrayOfSize(BATCH_LIMIT + 1, 21, randomUUID());
    expectError(await send(server, '/batch/', { method: 'POST', body: over.body }), 413, 'payload_too_large');
    expectError(await send(server, '/batch/', { method: 'POST', body: gzipSync(over.body) }), 413, 'payload_too_large');
  });

  it('an oversized upload is refused without reading it all, declared or streamed', async () => {
    expectError(await send(server, '/e/', { method: 'POST', body: Buffer.alloc(6 * MiB, 0x20) }), 413, 'payload_too_large');
    const chunk = new Uint8Array(256 * KiB).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/e/`, { method: 'POST', body: stream, duplex: 'half', signal: AbortSignal.timeout(20_000) } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ status: 'error', code: 'payload_too_large' });
    await expectHealthy();
  });
});

describe('decompression bombs', () => {
  const zeros = gzipSync(Buffer.alloc(30 * MiB));
  // Compressing takes seconds of CPU; done while collecting tests, so it never stalls the in-process server.
  const lzBomb = compressToBase64('a'.repeat(EVENT_LIMIT + 64 * KiB));

  it('30 MiB of zeros gzipped (a few KiB on the wire) is 413 on every route', async () => {
    expect(zeros.length).toBeLessThan(64 * KiB);
    for (const path of ['/e/', '/batch/', '/i/v0/e/']) {
      expectError(await send(server, path, { method: 'POST', body: zeros }), 413, 'payload_too_large');
      expectError(await send(server, path, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: zeros }), 413, 'payload_too_large');
    }
    expectError(await send(server, `/e/?compression=gzip-js`, { method: 'POST', body: zeros }), 413, 'payload_too_large');
    await expectHealthy();
  });

  it('a bomb that inflates to valid-looking JSON is refused just the same, and nothing is stored', async () => {
    const jsonBomb = gzipSync(`{"token":"${token}","event":"bomb","distinct_id":"u","properties":{"p":"${'a'.repeat(30 * MiB)}"}}`);
    expect(jsonBomb.length).toBeLessThan(64 * KiB);
    expectError(await send(server, '/batch/', { method: 'POST', body: jsonBomb }), 413, 'payload_too_large');
    expect(await countEvents(server, { event: 'bomb' })).toBe(0);
    await expectHealthy();
  });

  it('a bomb wrapped in base64 (form beacon) is refused', async () => {
    const body = `data=${encodeURIComponent(zeros.toString('base64'))}`;
    expectError(await send(server, '/e/?compression=base64', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }), 413, 'payload_too_large');
  });

  it('an lz64 payload that expands past the limit is refused', async () => {
    expect(lzBomb.length).toBeLessThan(16 * KiB);
    expectError(await send(server, '/e/?compression=lz64', { method: 'POST', body: lzBomb }), 413, 'payload_too_large');
    await expectHealthy();
  });

  it('ten bombs at once, then ordinary traffic is served', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(server, i % 2 ? '/e/' : '/batch/', { method: 'POST', body: zeros })));
    for (const reply of replies) expectError(reply, 413, 'payload_too_large');
    await expectHealthy();
  });
});

describe('requests Node refuses before routing', () => {
  it('a GET whose query string overflows the header limit gets 431 with a JSON error body, and the server keeps serving', async () => {
    const { request } = await import('node:http');
    const url = new URL(server.url);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: `/e/?data=${'a'.repeat(20_000)}`, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(response.status).toBe(431);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'error', code: 'invalid_request' });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('per-event limits', () => {
  it('event names and distinct ids longer than 200 characters are cut to 200', async () => {
    const long = event('n'.repeat(500), 'd'.repeat(300));
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [long] }), 1);
    const stored = (await storedByUuid(server, [long.uuid])).get(long.uuid)!;
    expect(stored.event).toBe('n'.repeat(200));
    expect(stored.distinctId).toBe('d'.repeat(300).slice(0, 200));
  });

  it('the cut counts characters, never splitting an emoji; exactly 200 is kept whole', async () => {
    const emoji = event('😀'.repeat(250), `${'é'.repeat(199)}🎉🎉`);
    const exact = event('x'.repeat(200), 'y'.repeat(200));
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [emoji, exact] }), 2);
    const stored = await storedByUuid(server, [emoji.uuid, exact.uuid]);
    expect(stored.get(emoji.uuid)!.event).toBe('😀'.repeat(200));
    expect(stored.get(emoji.uuid)!.distinctId).toBe(`${'é'.repeat(199)}🎉`);
    expect(stored.get(exact.uuid)).toMatchObject({ event: 'x'.repeat(200), distinctId: 'y'.repeat(200) });
  });

  it('a non-string distinct_id is stored as its JSON text, cut to 200', async () => {
    const e = event('json id', 'ignored');
    e.distinct_id = Array.from({ length: 100 }, (_, i) => i);
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [e] }), 1);
    expect((await storedByUuid(server, [e.uuid])).get(e.uuid)!.distinctId).toBe(JSON.stringify(e.distinct_id).slice(0, 200));
  });

  it('an event of exactly 1 MiB of JSON is stored; one byte more is refused as event_too_big', async () => {
    const atLimit = eventOfSize(EVENT_JSON_LIMIT);
    const over = eventOfSize(EVENT_JSON_LIMIT + 1);
    const reply = await postJson(server, '/batch/', { api_key: token, batch: [atLimit, over] });
    expectOk(reply, 1);
    expect(reply.body.errors).toEqual([expect.objectContaining({ index: 1, code: 'event_too_big', uuid: over.uuid })]);
    const stored = await storedByUuid(server, [atLimit.uuid, over.uuid]);
    expect(stored.get(atLimit.uuid)!.properties.filler).toBe(atLimit.properties.filler);
    expect(stored.has(over.uuid)).toBe(false);
  });

  it('a 16 MiB + 1 event inside a /batch is refused on its own; its neighbour is stored', async () => {
    const huge = event('huge', 'u', { properties: { blob: 'h'.repeat(16 * MiB + 1) } });
    const small = event('next to huge', 'u');
    const reply = await postJson(server, '/batch/', { api_key: token, batch: [huge, small] });
    expectOk(reply, 1);
    expect(reply.body.errors).toEqual([expect.objectContaining({ index: 0, code: 'event_too_big' })]);
    expect((await storedByUuid(server, [small.uuid])).size).toBe(1);
  });

  it('nesting: 32 levels (event = 1) are stored intact, 33 are refused, 100 000 do not crash anything', async () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: nest(levels - 1) });
    const ok = event('deep ok', 'u', { properties: { deep: nest(30) } });
    const tooDeep = event('deep refused', 'u', { properties: { deep: nest(31) } });
    const reply = await postJson(server, '/batch/', { api_key: token, batch: [ok, tooDeep] });
    expectOk(reply, 1);
    expect(reply.body.errors).toEqual([expect.objectContaining({ index: 1, code: 'invalid_payload' })]);
    expect((await storedByUuid(server, [ok.uuid])).get(ok.uuid)!.properties.deep).toEqual(nest(30));

    const hostile = `{"api_key":"${token}","batch":[{"event":"d","distinct_id":"u","properties":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`;
    expectError(await send(server, '/batch/', { method: 'POST', body: hostile }), 400, 'invalid_payload');
    const topLevel = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
    const reply2 = await send(server, '/e/', { method: 'POST', body: topLevel });
    expect(reply2.status).toBeGreaterThanOrEqual(400);
    expect(reply2.status).toBeLessThan(500);
    await expectHealthy();
  });

  it('a thousand events in one batch are all stored', async () => {
    const run = randomUUID();
    const batch = Array.from({ length: 1000 }, (_, i) => event('many', `u${i % 7}`, { properties: { run, i } }));
    expectOk(await postJson(server, '/batch/', { api_key: token, batch }), 1000);
    expect(await countEvents(server, { 'properties.run': run })).toBe(1000);
  });

  it('an event with 50 000 property keys is stored whole', async () => {
    const properties: Record<string, number> = {};
    for (let i = 0; i < 50_000; i++) properties[`key_${i}`] = i;
    const e = event('wide', 'u', { properties });
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [e] }), 1);
    const stored = (await storedByUuid(server, [e.uuid])).get(e.uuid)!;
    expect(Object.keys(stored.properties).filter((k) => k.startsWith('key_'))).toHaveLength(50_000);
    expect(stored.properties.key_49999).toBe(49_999);
  });
});

/** Sends raw JSON text as a /batch body and returns the reply. */
function postRaw(body: string, path = '/batch/'): Promise<CaptureReply> {
  return send(server, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

describe('bad-input corpus', () => {
  it('hostile property keys are stored and read back exactly as sent', async () => {
    const keys = [
      '$set', '$inc', '$where', '$', 'a.b', '.', '..', '', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString',
      'a\u0000b', '_id', 'projectId', 'uuid', 'distinctId', 'timestamp', '\u202Eevil', 'e\u0301', '\u00e9', 'zero\u200bwidth', '😀',
      'раураl', '%', '%24', '%2E', '%25', '%5F_proto__', 'k'.repeat(64 * KiB),
    ];
    // Raw JSON text, so '__proto__' is an ordinary key on the wire exactly as a client would send it.
    const entries = keys.map((k, i) => `${JSON.stringify(k)}:{${JSON.stringify(k)}:${i},"list":[{${JSON.stringify(k)}:${i}}]}`);
    const uuid = randomUUID();
    const reply = await postRaw(`{"api_key":"${token}","batch":[{"event":"hostile keys","distinct_id":"u","uuid":"${uuid}","properties":{${entries.join(',')}}}]}`);
    expectOk(reply, 1);
    const stored = (await storedByUuid(server, [uuid])).get(uuid)!;
    expect(stored.projectId).toBe(server.project._id);
    expect(stored.uuid).toBe(uuid);
    expect(stored.distinctId).toBe('u');
    keys.forEach((k, i) => {
      expect(Object.hasOwn(stored.properties, k), `key ${JSON.stringify(k.slice(0, 20))}`).toBe(true);
      const value = stored.properties[k] as Record<string, unknown>;
      expect(Object.hasOwn(value, k) && value[k]).toBe(i);
      expect((value.list as Record<string, unknown>[])[0]![k]).toBe(i);
    });
    // The stored object's prototype is untouched by a '__proto__' key.
    expect(Object.getPrototypeOf(stored.properties)).toBe(Object.prototype);

    // The API hands the keys back exactly as sent too.
    const read = await gql(
      server,
      `query($id: ID!, $uuid: ID!) { project(id: $id) { event(uuid: $uuid) { uuid distinctId properties } } }`,
      { id: server.project._id, uuid },
      server.adminKey,
    );
    expect(read.errors).toBeUndefined();
    const apiProperties = read.data.project.event.properties as Record<string, unknown>;
    expect(Object.keys(apiProperties).sort()).toEqual([...keys, '$ip'].sort());
    keys.forEach((k, i) => expect((apiProperties[k] as Record<string, unknown>)[k]).toBe(i));
  });

  it('duplicate JSON keys: the last one wins', async () => {
    const uuid = randomUUID();
    expectOk(await postRaw(`{"api_key":"${token}","batch":[{"event":"first","event":"last","distinct_id":"u","uuid":"${uuid}","properties":{"k":1,"k":2}}]}`), 1);
    const stored = (await storedByUuid(server, [uuid])).get(uuid)!;
    expect(stored.event).toBe('last');
    expect(stored.properties.k).toBe(2);
  });

  it('strange strings are kept (lone surrogates become U+FFFD)', async () => {
    const values: [string, string][] = [
      ['"\\ud800"', '\ufffd'],
      ['"\\udfff"', '\ufffd'],
      ['"\\ufffe\\uffff"', '\ufffe\uffff'],
      ['"\\u0000\\u0001\\u001f\\u007f"', '\u0000\u0001\u001f\u007f'],
      ['"\\ud83d\\ude00"', '😀'],
      [JSON.stringify('x'.repeat(MiB - 256)), 'x'.repeat(MiB - 256)],
    ];
    for (const [json, expected] of values) {
      const uuid = randomUUID();
      expectOk(await postRaw(`{"api_key":"${token}","batch":[{"event":"strings","distinct_id":"u","uuid":"${uuid}","properties":{"v":${json}}}]}`), 1);
      expect((await storedByUuid(server, [uuid])).get(uuid)!.properties.v).toBe(expected);
    }
  });

  it('numbers keep their values and types (numeric strings stay strings)', async () => {
    const cases: [string, unknown][] = [
      ['9007199254740993', 9007199254740992],
      ['1e308', 1e308],
      ['-0', -0],
      ['0.30000000000000004', 0.1 + 0.2],
      ['1e-400', 0],
      ['"5"', '5'],
      ['5', 5],
      ['-2147483649', -2147483649],
    ];
    for (const [json, expected] of cases) {
      const uuid = randomUUID();
      expectOk(await postRaw(`{"api_key":"${token}","batch":[{"event":"numbers","distinct_id":"u","uuid":"${uuid}","properties":{"v":${json}}}]}`), 1);
      expect(Object.is((await storedByUuid(server, [uuid])).get(uuid)!.properties.v, expected), json).toBe(true);
    }
    // 1e400 overflows to Infinity; it must be stored or refused, never a server error.
    const uuid = randomUUID();
    const reply = await postRaw(`{"api_key":"${token}","batch":[{"event":"numbers","distinct_id":"u","uuid":"${uuid}","properties":{"v":1e400}}]}`);
    expect([200, 400]).toContain(reply.status);
  });

  it('event names that are not strings are refused per event', async () => {
    const batch = [1, [1], { a: 1 }, true, null, ''].map((name) => ({ event: name, distinct_id: 'u', uuid: randomUUID() }));
    const reply = await postJson(server, '/batch/', { api_key: token, batch: [...batch, event('fine', 'u')] });
    expectOk(reply, 1);
    expect(reply.body.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [0, 'invalid_payload'],
      [1, 'invalid_payload'],
      [2, 'invalid_payload'],
      [3, 'invalid_payload'],
      [4, 'missing_event_name'],
      [5, 'missing_event_name'],
    ]);
  });

  it('distinct_id edge cases: empty refused, sentinel strings kept as text, NUL replaced, 10 KB cut', async () => {
    const cases: [unknown, string | null][] = [
      [null, null],
      ['', null],
      ['   ', null],
      ['null', 'null'],
      ['undefined', 'undefined'],
      ['[object Object]', '[object Object]'],
      [' padded ', ' padded '],
      ['a\u0000b', 'a\ufffdb'],
      [true, 'true'],
      [0, '0'],
      [{ id: 1 }, '{"id":1}'],
      ['z'.repeat(10_000), 'z'.repeat(200)],
    ];
    const batch = cases.map(([id]) => ({ event: 'ids', distinct_id: id, uuid: randomUUID() }));
    const reply = await postJson(server, '/batch/', { api_key: token, batch });
    expect(reply.status).toBe(200);
    const stored = await storedByUuid(server, batch.map((e) => e.uuid));
    cases.forEach(([, expected], i) => {
      const got = stored.get(batch[i]!.uuid);
      if (expected === null) {
        expect(got).toBeUndefined();
        expect(reply.body.errors).toContainEqual(expect.objectContaining({ index: i, code: 'missing_distinct_id' }));
      } else {
        expect(got?.distinctId).toBe(expected);
      }
    });
  });

  it('uuid forms: canonical lowercase is stored; junk is refused', async () => {
    const base = randomUUID();
    const cases: [unknown, string | null][] = [
      [base.toUpperCase(), base],
      ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'],
      ['not-a-uuid', null],
      [`${base}-extra`, null],
      [`${base.slice(0, -1)}g`, null],
      [12345, null],
      [{ uuid: base }, null],
    ];
    for (const [uuid, expected] of cases) {
      const reply = await postJson(server, '/batch/', { api_key: token, batch: [{ event: 'uuid forms', distinct_id: 'u', uuid }] });
      if (expected === null) {
        expectError(reply, 400, 'invalid_uuid');
      } else {
        expect(reply.status).toBe(200);
        expect(await countEvents(server, { uuid: expected })).toBe(1);
      }
    }
  });

  it('timestamps at the edges of the calendar are stored, never refused', async () => {
    const cases: [string | number, string | 'now'][] = [
      ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
      ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59Z', 'now'],
      ['+275760-09-13T00:00:00.000Z', 'now'],
      ['+275760-09-13T00:00:00.001Z', 'now'],
      ['2024-01-01T00:00:00+14:00', '2023-12-31T10:00:00.000Z'],
      ['2024-01-01T00:00:00-14:00', '2024-01-01T14:00:00.000Z'],
      [1_700_000_000, '2023-11-14T22:13:20.000Z'],
      [1_700_000_000_000, '2023-11-14T22:13:20.000Z'],
      ['2024-01-01', '2024-01-01T00:00:00.000Z'],
      ['not a date at all', 'now'],
    ];
    const batch = cases.map(([timestamp]) => event('edge time', 'u', { timestamp }));
    const before = Date.now();
    const reply = await postJson(server, '/batch/', { api_key: token, batch });
    const after = Date.now();
    expectOk(reply, cases.length);
    const stored = await storedByUuid(server, batch.map((e) => e.uuid));
    cases.forEach(([sent, expected], i) => {
      const t = stored.get(batch[i]!.uuid)!.timestamp;
      if (expected === 'now') {
        expect(t.getTime(), String(sent)).toBeGreaterThanOrEqual(before);
        expect(t.getTime(), String(sent)).toBeLessThanOrEqual(after);
      } else {
        expect(t.toISOString(), String(sent)).toBe(expected);
      }
    });
  });

  it('a leap second and a sent_at far off do not lose the event', async () => {
    const leap = event('leap', 'u', { timestamp: '2016-12-31T23:59:60Z' });
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [leap] }), 1);
    const t = (await storedByUuid(server, [leap.uuid])).get(leap.uuid)!.timestamp.getTime();
    expect(Math.abs(t - Date.parse('2017-01-01T00:00:00Z'))).toBeLessThanOrEqual(1000);

    for (const sentAt of ['9999-12-31T00:00:00Z', '1900-01-01T00:00:00Z', 'garbage', 12]) {
      const e = event('odd sent_at', 'u', { timestamp: new Date().toISOString() });
      expectOk(await postJson(server, '/batch/', { api_key: token, sent_at: sentAt, batch: [e] }), 1);
    }
  });

  it('tokens: the Authorization header is not a capture token; lookalikes are unknown', async () => {
    const other = await createProject(server, 'Header project');
    const e = event('header token', 'u');
    const reply = await postJson(server, '/batch/', { api_key: other.apiToken, batch: [e] }, { authorization: `Bearer ${token}` });
    expectOk(reply, 1);
    expect((await storedByUuid(server, [e.uuid])).get(e.uuid)!.projectId).toBe(other._id);
    expectError(await postJson(server, '/batch/', { batch: [event('x', 'u')] }, { authorization: `Bearer ${token}` }), 401, 'ingest_key_required');
    const lookalike = token.replace('phc_', 'рhc_'); // Cyrillic р
    expectError(await postJson(server, '/batch/', { api_key: lookalike, batch: [event('x', 'u')] }), 403, 'ingest_key_unknown');
    expectError(await postJson(server, '/batch/', { api_key: `\u200b${token}`, batch: [event('x', 'u')] }), 403, 'ingest_key_unknown');
    expectError(await postJson(server, '/batch/', { api_key: 12345, batch: [event('x', 'u')] }), 401, 'ingest_key_required');
  });

  it('content types are not trusted: JSON under image/png or multipart is still read', async () => {
    for (const contentType of ['image/png', 'multipart/form-data; boundary=xyz', 'application/octet-stream', 'text/html; charset=latin1']) {
      const e = event('odd content type', 'u');
      expectOk(await postJson(server, '/batch/', { api_key: token, batch: [e] }, { 'content-type': contentType }), 1);
    }
  });
});

/** The answer contract every input must meet. */
function expectContract(reply: CaptureReply): void {
  expect(reply.status, reply.text).toBeLessThan(500);
  if (reply.status >= 400) {
    expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
    expect(reply.body, reply.text).toMatchObject({ status: 'error', code: expect.any(String), error: expect.any(String) });
    expect(reply.body.code).toMatch(/^[a-z_]+$/);
  } else {
    expect(reply.status).toBeGreaterThanOrEqual(200);
    if (reply.status === 200) expect(reply.body).toMatchObject({ status: 'Ok' });
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with each unpaired UTF-16 surrogate replaced by U+FFFD. */
function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** Repairs what the server repairs: lone surrogates anywhere (keys included) become U+FFFD. */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return toWellFormed(value);
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, toWellFormed(k), { value: wellFormed(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

function cutTo200(text: string): string {
  return Array.from(text).slice(0, 200).join('');
}

describe('generated bad input', () => {
  let sentinels: Record<string, unknown>[];

  /** Events stored before any fuzzing: they must come out of it byte for byte unchanged. */
  async function snapshot() {
    return server.storage.db.collection('events').find({ 'properties.sentinel': true }).sort({ uuid: 1 }).toArray();
  }

  beforeAll(async () => {
    const batch = Array.from({ length: 25 }, (_, i) =>
      event(`sentinel ${i}`, `sentinel-user-${i % 4}`, {
        timestamp: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
        properties: { sentinel: true, i, nested: { list: [i, `${i}`, { deep: [i] }] }, 'dotted.key': i, $dollar: i },
      }),
    );
    expectOk(await postJson(server, '/batch/', { api_key: token, batch }), 25);
    sentinels = await snapshot();
    expect(sentinels).toHaveLength(25);
  });

  const routes = fc.constantFrom('/e', '/e/', '/batch', '/batch/', '/i/v0/e/', '/capture', '/track/', '/engage/');
  const json = fc.jsonValue({ maxDepth: 5 });
  const oddText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  );

  /** Sends, checks the contract, and checks the store grew by exactly what was accepted. */
  async function sendChecked(path: string, init: CaptureRequest): Promise<CaptureReply> {
    const before = await countEvents(server);
    const reply = await send(server, path, init);
    expectContract(reply);
    const accepted = reply.status === 200 ? (reply.body.accepted as number) : 0;
    if (reply.status === 204) {
      expect(await countEvents(server)).toBeGreaterThanOrEqual(before);
    } else {
      expect(await countEvents(server)).toBe(before + accepted);
    }
    return reply;
  }

  it('arbitrary JSON bodies, with or without a valid token, on any route and method', async () => {
    const body = fc.oneof(
      json,
      json.map((v) => ({ api_key: token, batch: v })),
      fc.array(json, { maxLength: 5 }).map((batch) => ({ api_key: token, batch })),
      fc.dictionary(oddText, json, { maxKeys: 6 }).map((v) => ({ ...v, token })),
      fc.array(fc.dictionary(oddText, json, { maxKeys: 6 }), { maxLength: 5 }).map((events) => events.map((e) => ({ ...e, properties: { token } }))),
    );
    await fc.assert(
      fc.asyncProperty(routes, fc.constantFrom('GET', 'POST', 'POST beacon'), body, async (route, method, payload) => {
        const text = JSON.stringify(payload);
        const query = encodeURIComponent(text);
        // Node itself answers 431 (without a JSON body) to request lines over 16 KiB, before capture runs,
        // so a longer payload goes in a POST body instead.
        if (method === 'GET' && query.length < 8 * KiB) {
          await sendChecked(`${route}?data=${query}`, { method: 'GET' });
        } else {
          const path = method === 'POST beacon' ? `${route}?beacon=1` : route;
          await sendChecked(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('arbitrary bytes under any combination of encoding hints', async () => {
    const bytes = fc.uint8Array({ maxLength: 1024 });
    const body = fc.oneof(
      bytes.map((b) => Buffer.from(b)),
      bytes.map((b) => gzipSync(b)),
      bytes.map((b) => Buffer.from(Buffer.from(b).toString('base64'))),
      bytes.map((b) => Buffer.from(`data=${encodeURIComponent(Buffer.from(b).toString('base64'))}`)),
      oddText.map((t) => Buffer.from(compressToBase64(t))),
      bytes.map((b) => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), b])),
      json.map((v) => gzipSync(JSON.stringify({ api_key: token, batch: [v] }))),
    );
    const contentType = fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png', 'multipart/form-data; boundary=x');
    const contentEncoding = fc.constantFrom(undefined, 'gzip', 'br', 'identity', 'gzip, deflate');
    const compression = fc.constantFrom(undefined, 'gzip', 'gzip-js', 'lz64', 'lz-string', 'base64', 'b64', 'bogus');
    await fc.assert(
      fc.asyncProperty(routes, body, contentType, contentEncoding, compression, async (route, payload, type, encoding, hint) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers['content-type'] = type;
        if (encoding !== undefined) headers['content-encoding'] = encoding;
        await sendChecked(hint === undefined ? route : `${route}?compression=${hint}`, { method: 'POST', headers, body: payload });
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('arbitrary events under a valid token: each is stored as sent or refused by index, and counts add up', async () => {
    const anyEvent = fc.oneof(
      { weight: 4, arbitrary: fc.record(
        {
          event: fc.oneof({ weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }) }, oddText, json),
          distinct_id: fc.oneof({ weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }) }, oddText, json),
          uuid: fc.oneof(fc.uuid(), oddText, fc.constant('')),
          properties: fc.oneof({ weight: 5, arbitrary: fc.dictionary(oddText, json, { maxKeys: 8 }) }, json),
          timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), oddText, fc.double(), fc.integer()),
          offset: fc.oneof(fc.integer(), fc.double()),
        },
        { requiredKeys: ['event', 'distinct_id'] },
      ) },
      { weight: 1, arbitrary: json },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(anyEvent, { minLength: 1, maxLength: 8 }), async (batch) => {
        const started = Date.now();
        const reply = await sendChecked('/batch/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: token, batch }) });
        expect([200, 400]).toContain(reply.status);
        const refused = (reply.body.errors ?? []) as { index: number; code: string }[];
        if (reply.status === 200) {
          expect(reply.body.accepted + reply.body.duplicates + refused.length).toBe(batch.length);
        } else if (refused.length > 0) {
          expect(refused).toHaveLength(batch.length);
        }
        const refusedAt = new Set(refused.map((r) => r.index));
        expect(refusedAt.size).toBe(refused.length);

        // Every event this request stored (its uuid unique in the batch, written now rather than by an
        // earlier run) reads back as it was sent.
        const sent = batch.map((raw, index) => ({ raw: JSON.parse(JSON.stringify(raw)) as Record<string, any>, index }));
        const uuidOf = (raw: Record<string, any>) => (typeof raw?.uuid === 'string' && /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(raw.uuid) ? raw.uuid.toLowerCase() : undefined);
        const uses = new Map<string, number>();
        for (const { raw } of sent) if (uuidOf(raw)) uses.set(uuidOf(raw)!, (uses.get(uuidOf(raw)!) ?? 0) + 1);
        const fresh = sent.filter(({ raw, index }) => !refusedAt.has(index) && uuidOf(raw) !== undefined && uses.get(uuidOf(raw)!) === 1);
        const stored = await storedByUuid(server, fresh.map(({ raw }) => uuidOf(raw)!));
        for (const { raw } of fresh) {
          const got = stored.get(uuidOf(raw)!);
          if (reply.status === 200) expect(got).toBeDefined();
          if (got === undefined || got.createdAt.getTime() < started) continue;
          if (typeof raw.event === 'string') expect(got.event).toBe(cutTo200(toWellFormed(raw.event)));
          if (typeof raw.distinct_id === 'string') expect(got.distinctId).toBe(cutTo200(toWellFormed(raw.distinct_id).replaceAll('\0', '\ufffd')));
          const expected = wellFormed(raw.properties ?? {}) as Record<string, unknown>;
          const { $ip, ...rest } = got.properties;
          if (Object.hasOwn(expected, '$ip')) expect($ip).toEqual(expected.$ip);
          const { $ip: _sentIp, ...expectedRest } = expected;
          expect(rest).toEqual(expectedRest);
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('after all of it, earlier events are exactly as they were and ordinary traffic is served', async () => {
    expect(await snapshot()).toEqual(sentinels);
    await expectHealthy();
  });
});
