import fc from 'fast-check';
import { validate as isUuid, version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { normalizeCaptureRequest, type NormalizeOptions } from './normalize.ts';

const NOW = new Date('2023-06-01T12:00:00.000Z');
const UUID_A = '01890c5e-7f6a-7cde-8a1b-2c3d4e5f6a7b';
const opts = (extra: Partial<NormalizeOptions> = {}): NormalizeOptions => ({ now: NOW, query: new URLSearchParams(), ...extra });
const ev = (extra: Record<string, unknown> = {}) => ({ event: 'e', distinct_id: 'u1', ...extra });
const batchOf = (...events: unknown[]) => ({ api_key: 'phc_a', batch: events });

function refusedCodes(payload: unknown, extra: Partial<NormalizeOptions> = {}): string[] {
  return normalizeCaptureRequest(payload, opts(extra)).refused.map((r) => r.code);
}

describe('normalizeCaptureRequest: what SDKs send', () => {
  it('posthog-node batch: client uuid kept, clock skew corrected, properties as sent', () => {
    const out = normalizeCaptureRequest(
      {
        api_key: 'phc_a',
        sent_at: '2023-06-01T12:05:00.000Z', // client clock 5 minutes fast
        batch: [{ event: 'signed up', distinct_id: 'user-1', uuid: UUID_A, timestamp: '2023-06-01T12:04:00.000Z', properties: { $lib: 'posthog-node', $geoip_disable: true } }],
      },
      opts({ route: 'batch' }),
    );
    expect(out.token).toBe('phc_a');
    expect(out.refused).toEqual([]);
    expect(out.historicalMigration).toBe(false);
    expect(out.events).toEqual([
      { uuid: UUID_A, event: 'signed up', distinctId: 'user-1', timestamp: new Date('2023-06-01T11:59:00.000Z'), properties: { $lib: 'posthog-node', $geoip_disable: true } },
    ]);
  });

  it('posthog-js batch: distinct_id and session from properties, top-level $set merged', () => {
    const out = normalizeCaptureRequest(
      batchOf({ event: '$identify', uuid: UUID_A.toUpperCase(), properties: { token: 'phc_a', distinct_id: 'new-id', $anon_distinct_id: 'anon', $session_id: 'sess-1' }, $set: { email: 'a@x' }, timestamp: '2023-06-01T11:00:00Z' }),
      opts(),
    );
    const [event] = out.events;
    expect(event?.uuid).toBe(UUID_A);
    expect(event?.distinctId).toBe('new-id');
    expect(event?.sessionId).toBe('sess-1');
    expect(event?.properties).toEqual({ token: 'phc_a', distinct_id: 'new-id', $anon_distinct_id: 'anon', $session_id: 'sess-1', $set: { email: 'a@x' } });
    expect(event?.timestamp).toEqual(new Date('2023-06-01T11:00:00Z'));
  });

  it('posthog-js 1.200 bare array with sent_at in the query string', () => {
    const out = normalizeCaptureRequest(
      [ev({ properties: { token: 'phc_a' }, timestamp: '2023-06-01T12:09:00.000Z' })],
      opts({ query: new URLSearchParams(`ip=1&_=${Date.parse('2023-06-01T12:10:00.000Z')}&ver=1.200.0`) }),
    );
    expect(out.events[0]?.timestamp).toEqual(new Date('2023-06-01T11:59:00.000Z'));
  });

  it('a single event object, historical_migration passed through on batches', () => {
    expect(normalizeCaptureRequest(ev({ api_key: 'phc_a' }), opts()).events).toHaveLength(1);
    expect(normalizeCaptureRequest({ ...batchOf(ev()), historical_migration: true }, opts()).historicalMigration).toBe(true);
  });

  it('/engage requests become $identify events', () => {
    const out = normalizeCaptureRequest({ token: 'phc_a', distinct_id: 'u1', $set: { name: 'A' } }, opts({ route: 'engage' }));
    expect(out.events[0]?.event).toBe('$identify');
    expect(out.events[0]?.properties).toEqual({ $set: { name: 'A' } });
    expect(refusedCodes({ token: 'phc_a', distinct_id: 'u1' }, { route: 'event' })).toEqual(['missing_event_name']);
  });
});

describe('normalizeCaptureRequest: server-side defaults', () => {
  it('gives events without a uuid (or with an empty one) a fresh UUIDv7 each', () => {
    const out = normalizeCaptureRequest(batchOf(ev(), ev({ uuid: '' }), ev({ uuid: null })), opts());
    const uuids = out.events.map((e) => e.uuid);
    for (const uuid of uuids) {
      expect(isUuid(uuid)).toBe(true);
      expect(uuidVersion(uuid)).toBe(7);
    }
    expect(new Set(uuids).size).toBe(3);
  });

  it('keeps two events with the same uuid: deduplication is the store\'s job', () => {
    expect(normalizeCaptureRequest(batchOf(ev({ uuid: UUID_A }), ev({ uuid: UUID_A })), opts()).events).toHaveLength(2);
  });

  it('stamps events without a timestamp with now, and reports fixed-up timestamps', () => {
    const out = normalizeCaptureRequest(batchOf(ev(), ev({ timestamp: 'soon' }), ev({ timestamp: '2023-06-03T12:00:00Z' })), opts());
    expect(out.events.map((e) => e.timestamp)).toEqual([NOW, NOW, NOW]);
    expect(out.events.map((e) => e.warnings)).toEqual([undefined, ['ignored_invalid_timestamp'], ['event_timestamp_in_future']]);
  });

  it('honours $ignore_sent_at', () => {
    const payload = { ...batchOf(ev({ timestamp: '2023-06-01T10:00:00Z', properties: { $ignore_sent_at: true } })), sent_at: '2023-06-01T12:30:00Z' };
    expect(normalizeCaptureRequest(payload, opts()).events[0]?.timestamp).toEqual(new Date('2023-06-01T10:00:00Z'));
  });

  it.each<[string, unknown, string | undefined]>([
    ['a session id string', 'sess', 'sess'],
    ['an empty session id', '', undefined],
    ['a numeric session id', 5, undefined],
  ])('sets sessionId from %s', (_name, value, expected) => {
    expect(normalizeCaptureRequest(batchOf(ev({ properties: { $session_id: value } })), opts()).events[0]?.sessionId).toBe(expected);
  });
});

describe('normalizeCaptureRequest: one bad event refuses only itself', () => {
  it('keeps 99 good events around one bad one, reporting its index and uuid', () => {
    const events: unknown[] = Array.from({ length: 100 }, (_, i) => ev({ properties: { i } }));
    events[37] = ev({ uuid: UUID_A, distinct_id: '   ' });
    const out = normalizeCaptureRequest(batchOf(...events), opts());
    expect(out.events).toHaveLength(99);
    expect(out.events.map((e) => e.properties.i)).not.toContain(37);
    expect(out.refused).toEqual([{ index: 37, uuid: UUID_A, code: 'missing_distinct_id', message: expect.any(String) as string }]);
  });

  it.each<[string, unknown, string]>([
    ['an event that is a string', 'click', 'invalid_payload'],
    ['an event that is null', null, 'invalid_payload'],
    ['an event that is an array', [ev()], 'invalid_payload'],
    ['no event name', { distinct_id: 'u' }, 'missing_event_name'],
    ['a numeric event name', ev({ event: 42 }), 'invalid_payload'],
    ['no distinct_id', { event: 'e' }, 'missing_distinct_id'],
    ['an invalid uuid', ev({ uuid: 'not-a-uuid' }), 'invalid_uuid'],
    ['properties that are an array', ev({ properties: [1] }), 'invalid_payload'],
    ['a top-level $set that is a string', ev({ $set: 'x' }), 'invalid_payload'],
  ])('%s → %s', (_name, bad, code) => {
    const out = normalizeCaptureRequest(batchOf(ev(), bad, ev()), opts());
    expect(out.events).toHaveLength(2);
    expect(out.refused.map((r) => [r.index, r.code])).toEqual([[1, code]]);
    expect(out.refused[0]?.message.length).toBeGreaterThan(10);
  });

  it('refuses events over maxEventBytes with event_too_big; exactly at the limit passes', () => {
    const base = ev({ properties: { pad: '' } });
    const size = (padding: number) => Buffer.byteLength(JSON.stringify(ev({ properties: { pad: 'é'.repeat(padding) } })));
    const limit = size(100);
    const out = normalizeCaptureRequest(
      batchOf(ev({ properties: { pad: 'é'.repeat(100) } }), ev({ properties: { pad: 'é'.repeat(100) + 'a' } }), base),
      opts({ maxEventBytes: limit }),
    );
    expect(out.events).toHaveLength(2);
    expect(out.refused.map((r) => [r.index, r.code])).toEqual([[1, 'event_too_big']]);
  });

  it('refuses events over 1 MiB by default', () => {
    expect(refusedCodes(batchOf(ev({ properties: { big: 'x'.repeat(1024 * 1024) } }), ev()))).toEqual(['event_too_big']);
  });

  it('accepts nesting to depth 32 and refuses deeper, even absurdly deep, without crashing', () => {
    const deepProps = (levels: number): unknown => (levels === 0 ? 1 : { k: deepProps(levels - 1) });
    // The event object is level 1, so properties holding 31 nested objects reach level 32.
    const at32 = ev({ properties: deepProps(31) });
    const at33 = ev({ properties: deepProps(32) });
    const absurd = JSON.parse(`{"event":"e","distinct_id":"u","properties":{"k":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`) as unknown;
    const out = normalizeCaptureRequest(batchOf(at32, at33, absurd), opts());
    expect(out.events).toHaveLength(1);
    expect(out.refused.map((r) => [r.index, r.code])).toEqual([[1, 'invalid_payload'], [2, 'invalid_payload']]);
  });

  it('returns an empty event list, not an error, when every event is refused', () => {
    const out = normalizeCaptureRequest(batchOf({ event: 'e' }, { event: 'e' }), opts());
    expect(out.events).toEqual([]);
    expect(out.refused).toHaveLength(2);
  });
});

describe('normalizeCaptureRequest: request-level errors throw', () => {
  it.each<[string, unknown, string]>([
    ['empty batch', batchOf(), 'no_events'],
    ['mixed tokens', [ev({ token: 'phc_a' }), ev({ token: 'phc_b' })], 'multiple_tokens'],
    ['no token', [ev()], 'ingest_key_required'],
    ['personal key', { api_key: 'phx_1', batch: [ev()] }, 'personal_key_not_allowed'],
    ['not an object', 'hello', 'invalid_payload'],
  ])('%s → %s', (_name, payload, code) => {
    expect(() => normalizeCaptureRequest(payload, opts())).toThrow(CaptureError);
    try {
      normalizeCaptureRequest(payload, opts());
    } catch (error) {
      expect((error as CaptureError).code).toBe(code);
    }
  });
});

describe('normalizeCaptureRequest: prototype pollution', () => {
  it('round-trips __proto__ and constructor keys as ordinary own data and pollutes nothing', () => {
    const payload = JSON.parse(
      '{"api_key":"phc_a","batch":[{"event":"e","distinct_id":"u","__proto__":{"polluted":1},' +
        '"properties":{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}},"prototype":1},' +
        '"$set":{"__proto__":{"isAdmin":true}}}]}',
    ) as unknown;
    const [event] = normalizeCaptureRequest(payload, opts()).events;
    const properties = event!.properties;
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype);
    expect(Object.keys(properties)).toEqual(['__proto__', 'constructor', 'prototype', '$set']);
    expect(Object.getOwnPropertyDescriptor(properties, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(Object.getOwnPropertyDescriptor(properties.$set as object, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(JSON.stringify(properties)).toContain('"__proto__":{"isAdmin":true}');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normalizeCaptureRequest: every event is accounted for', () => {
  it('puts each event in exactly one of events or refused, in order', () => {
    const anyEvent = fc.oneof(
      fc.record({ event: fc.string({ maxLength: 5 }), distinct_id: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 20 }), (events) => {
        const out = normalizeCaptureRequest({ api_key: 'phc_a', batch: events }, opts());
        expect(out.events.length + out.refused.length).toBe(events.length);
        const indices = out.refused.map((r) => r.index);
        expect(indices).toEqual([...indices].sort((a, b) => a - b));
        for (const event of out.events) {
          expect(event.event.length).toBeGreaterThan(0);
          expect(event.distinctId.trim().length).toBeGreaterThan(0);
          expect(Number.isNaN(event.timestamp.getTime())).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
