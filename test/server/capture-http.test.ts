import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';
import type { ProjectDocument } from '../../src/db/documents.ts';
import {
  countEvents,
  event,
  expectError,
  expectOk,
  postJson,
  send,
  storedByUuid,
  storedEvents,
  type CaptureReply,
} from '../fixtures/capture/harness.ts';

/*
 * PostHog-compatible capture over real HTTP: routes, methods, CORS, the three body shapes, token
 * rules, deduplication by uuid, per-event refusals and timestamp resolution. Every assertion is on
 * what a client sees (status, JSON body, headers) or on what ends up stored.
 */

const ROUTES = ['/batch', '/e', '/i/v0/e', '/capture', '/track', '/engage'];
const PATHS = ROUTES.flatMap((route) => [route, `${route}/`]);
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = server.project.apiToken;
});

afterAll(async () => {
  await server?.dispose();
});

/** An event carrying its token in `properties.token`, as posthog-js writes it. */
function jsEvent(name: string, distinctId: string, properties: Record<string, unknown> = {}): Record<string, any> {
  return { event: name, uuid: randomUUID(), properties: { token, distinct_id: distinctId, ...properties } };
}

function batchBody(batch: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { api_key: token, batch, ...extra };
}

async function storedOne(uuid: string) {
  const found = await storedByUuid(server, [uuid]);
  return found.get(uuid);
}

describe('routes and methods', () => {
  it.each(PATHS)('POST %s stores a single event', async (path) => {
    const sent = jsEvent(`route ${path}`, 'route-user');
    const reply = await postJson(server, path, sent);
    expectOk(reply, 1);
    const stored = await storedOne(sent.uuid);
    expect(stored).toMatchObject({ event: `route ${path}`, distinctId: 'route-user', projectId: server.project._id });
  });

  it.each(PATHS)('GET %s?data=<base64 JSON> stores the event', async (path) => {
    const sent = jsEvent(`get64 ${path}`, 'get-user');
    const data = Buffer.from(JSON.stringify(sent)).toString('base64');
    const reply = await send(server, `${path}?data=${encodeURIComponent(data)}`);
    expectOk(reply, 1);
    expect((await storedOne(sent.uuid))?.event).toBe(`get64 ${path}`);
  });

  it.each(PATHS)('GET %s?data=<urlencoded JSON> stores the event', async (path) => {
    const sent = jsEvent(`getjson ${path}`, 'get-user', { note: 'a + b & c = d?' });
    const reply = await send(server, `${path}?data=${encodeURIComponent(JSON.stringify(sent))}`);
    expectOk(reply, 1);
    const stored = await storedOne(sent.uuid);
    expect(stored?.event).toBe(`getjson ${path}`);
    expect(stored?.properties.note).toBe('a + b & c = d?');
  });

  it('GET without data is refused as an invalid payload', async () => {
    expectError(await send(server, '/e/'), 400, 'invalid_payload');
    expectError(await send(server, '/e/?data='), 400, 'invalid_payload');
  });

  it('methods other than GET, POST and OPTIONS get 405 with a JSON error', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const reply = await send(server, '/e/', { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsEvent('m', 'u')) });
      expectError(reply, 405, 'method_not_allowed');
      expect(reply.headers.get('allow')).toBe('GET, POST, OPTIONS');
    }
  });

  it('a POST with an empty body is a 400, not a hang', async () => {
    expectError(await send(server, '/batch/', { method: 'POST', body: '' }), 400, 'invalid_payload');
  });
});

describe('CORS', () => {
  it.each(PATHS)('OPTIONS %s answers 200 mirroring Origin and the requested headers, with credentials', async (path) => {
    const origin = 'https://shop.example.com';
    const requested = 'content-type,x-custom-header';
    const reply = await send(server, path, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requested },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('access-control-allow-origin')).toBe(origin);
    expect(reply.headers.get('access-control-allow-headers')).toBe(requested);
    expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
    expect(reply.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(reply.headers.get('access-control-allow-methods')).toMatch(/GET/);
  });

  it('mirrors a different Origin per request and never answers with a wildcard', async () => {
    for (const origin of ['http://localhost:3000', 'https://a.example', 'null']) {
      const reply = await send(server, '/e/', { method: 'OPTIONS', headers: { origin } });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('successful and refused captures both carry the CORS headers, so the browser can read them', async () => {
    const origin = 'https://app.example.org';
    const ok = await postJson(server, '/e/', jsEvent('cors ok', 'u'), { origin });
    expectOk(ok, 1);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');

    const refused = await postJson(server, '/e/', { event: 'cors refused', distinct_id: 'u' }, { origin });
    expectError(refused, 401, 'ingest_key_required');
    expect(refused.headers.get('access-control-allow-origin')).toBe(origin);
  });
});

describe('beacon', () => {
  it('?beacon=1 answers 204 with no body and stores the event', async () => {
    const sent = jsEvent('$pageleave', 'beacon-user');
    const reply = await postJson(server, '/e/?beacon=1', sent);
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect((await storedOne(sent.uuid))?.event).toBe('$pageleave');
  });

  it('a beacon that fails still reports the failure instead of a 204', async () => {
    const reply = await postJson(server, '/e/?beacon=1', { event: 'x', distinct_id: 'u', token: 'phc_not_a_real_project' });
    expectError(reply, 403, 'ingest_key_unknown');
  });
});

describe('payload shapes', () => {
  it.each<[string, (e: Record<string, any>) => Record<string, any>]>([
    ['token', (e) => ({ ...e, token })],
    ['$token', (e) => ({ ...e, $token: token })],
    ['api_key', (e) => ({ ...e, api_key: token })],
    ['properties.token', (e) => ({ ...e, properties: { token } })],
  ])('a single event object with its token in %s', async (_where, withToken) => {
    const sent = withToken(event('single', 'single-user'));
    expectOk(await postJson(server, '/i/v0/e/', sent), 1);
    expect(await storedOne(sent.uuid)).toMatchObject({ event: 'single', distinctId: 'single-user' });
  });

  it('a bare array of events, each with properties.token (posthog-js queue format)', async () => {
    const sent = [jsEvent('arr1', 'arr-user'), jsEvent('arr2', 'arr-user'), jsEvent('arr3', 'arr-user')];
    expectOk(await postJson(server, '/e/', sent), 3);
    const stored = await storedByUuid(server, sent.map((e) => e.uuid));
    expect([...stored.values()].map((e) => e.event).sort()).toEqual(['arr1', 'arr2', 'arr3']);
  });

  it('{api_key, batch, sent_at} and {token, batch} envelopes', async () => {
    const a = [event('env1', 'env-user'), event('env2', 'env-user')];
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: a, sent_at: new Date().toISOString() }), 2);
    const b = [event('env3', 'env-user')];
    expectOk(await postJson(server, '/batch/', { token, batch: b }), 1);
    expect((await storedByUuid(server, [...a, ...b].map((e) => e.uuid))).size).toBe(3);
  });

  it('distinct_id is read from the top level, $distinct_id, or properties.distinct_id', async () => {
    const sent = [
      { event: 'did', uuid: randomUUID(), distinct_id: 'top' },
      { event: 'did', uuid: randomUUID(), $distinct_id: 'dollar' },
      { event: 'did', uuid: randomUUID(), properties: { distinct_id: 'inside' } },
      { event: 'did', uuid: randomUUID(), distinct_id: 'wins', properties: { distinct_id: 'loses' } },
      { event: 'did', uuid: randomUUID(), distinct_id: 42 },
    ];
    expectOk(await postJson(server, '/batch/', batchBody(sent)), 5);
    const stored = await storedByUuid(server, sent.map((e) => e.uuid));
    expect(sent.map((e) => stored.get(e.uuid)?.distinctId)).toEqual(['top', 'dollar', 'inside', 'wins', '42']);
  });

  it('top-level $set and $set_once are merged into the stored properties, top level winning', async () => {
    const sent: Record<string, any> = {
      ...jsEvent('$identify', 'person-1', { $set: { plan: 'free', seats: 1 }, $anon_distinct_id: 'anon-1' }),
      $set: { plan: 'pro' },
      $set_once: { first_seen: 'today' },
    };
    expectOk(await postJson(server, '/e/', sent), 1);
    const stored = await storedOne(sent.uuid);
    expect(stored?.properties.$set).toEqual({ plan: 'pro', seats: 1 });
    expect(stored?.properties.$set_once).toEqual({ first_seen: 'today' });
    expect(stored?.properties.$anon_distinct_id).toBe('anon-1');
  });

  it('/engage without an event name stores $identify (legacy people updates)', async () => {
    const uuid = randomUUID();
    const reply = await postJson(server, '/engage/', { $token: token, $distinct_id: 'engage-user', uuid, $set: { name: 'Ada' } });
    expectOk(reply, 1);
    const stored = await storedOne(uuid);
    expect(stored).toMatchObject({ event: '$identify', distinctId: 'engage-user' });
    expect(stored?.properties.$set).toEqual({ name: 'Ada' });
  });

  it('an event route without an event name refuses it', async () => {
    const reply = await postJson(server, '/e/', { token, distinct_id: 'u', uuid: randomUUID() });
    expectError(reply, 400, 'missing_event_name');
  });

  it('an empty batch or empty array is refused with no_events', async () => {
    expectError(await postJson(server, '/batch/', { api_key: token, batch: [] }), 400, 'no_events');
    expectError(await postJson(server, '/e/', []), 400, 'no_events');
  });

  it('payloads that are not an object or array are refused', async () => {
    for (const payload of [42, 'text', true, null]) {
      expectError(await postJson(server, '/e/', payload), 400, 'invalid_payload');
    }
    expectError(await postJson(server, '/batch/', { api_key: token, batch: { event: 'x' } }), 400, 'invalid_payload');
  });

  it('envelope fields in the payload cannot redirect the event to another project or identity', async () => {
    const other = await createProject(server, 'Envelope target');
    const sent: Record<string, any> = { ...event('envelope', 'env-owner'), projectId: other._id, _id: 'forced', properties: { projectId: other._id, _id: 'p', uuid: 'not-mine' } };
    expectOk(await postJson(server, '/batch/', batchBody([sent])), 1);
    const stored = await storedOne(sent.uuid);
    expect(stored?.projectId).toBe(server.project._id);
    expect(stored?.properties).toMatchObject({ projectId: other._id, _id: 'p', uuid: 'not-mine' });
    expect(await countEvents(server, { projectId: other._id })).toBe(0);
  });
});

describe('tokens', () => {
  it('no token anywhere → 401 ingest_key_required', async () => {
    expectError(await postJson(server, '/e/', event('x', 'u')), 401, 'ingest_key_required');
    expectError(await postJson(server, '/batch/', { batch: [event('x', 'u')] }), 401, 'ingest_key_required');
    expectError(await postJson(server, '/batch/', { api_key: '', batch: [event('x', 'u')] }), 401, 'ingest_key_required');
    expectError(await postJson(server, '/e/', [{ ...event('x', 'u'), properties: { token: '   ' } }]), 401, 'ingest_key_required');
  });

  it('an unknown token → 403 ingest_key_unknown, including a near miss', async () => {
    for (const bad of ['phc_unknown_project_token', `${token} `, token.toUpperCase(), token.slice(0, -1)]) {
      if (bad === token) continue;
      const sent = event('x', 'u');
      expectError(await postJson(server, '/batch/', { api_key: bad, batch: [sent] }), 403, 'ingest_key_unknown');
      expect(await storedOne(sent.uuid)).toBeUndefined();
    }
  });

  it('a personal API key is never accepted for capture → 403 personal_key_not_allowed', async () => {
    const { key } = await createKey(server, [server.project._id]);
    expect(key.startsWith('phx_')).toBe(true);
    expectError(await postJson(server, '/batch/', { api_key: key, batch: [event('x', 'u')] }), 403, 'personal_key_not_allowed');
    expectError(await postJson(server, '/e/', { ...event('x', 'u'), properties: { token: key } }), 403, 'personal_key_not_allowed');
    expectError(await postJson(server, '/e/', { ...event('x', 'u'), token: 'phx_made_up' }), 403, 'personal_key_not_allowed');
  });

  it('two different tokens in one request → 400 multiple_tokens and nothing is stored', async () => {
    const other = await createProject(server, 'Second token');
    const a = event('mixed', 'u');
    const b = { ...event('mixed', 'u'), token: other.apiToken };
    expectError(await postJson(server, '/batch/', { api_key: token, batch: [a, b] }), 400, 'multiple_tokens');

    const c = jsEvent('mixed', 'u');
    const d = { ...jsEvent('mixed', 'u'), properties: { token: other.apiToken, distinct_id: 'u' } };
    expectError(await postJson(server, '/e/', [c, d]), 400, 'multiple_tokens');

    expectError(await postJson(server, '/batch/', { api_key: token, token: other.apiToken, batch: [event('mixed', 'u')] }), 400, 'multiple_tokens');
    expect(await countEvents(server, { event: 'mixed' })).toBe(0);
  });

  it('the same token repeated on the batch and on each event is fine; blank per-event tokens are ignored', async () => {
    const sent = [{ ...event('same', 'u'), token }, { ...event('same', 'u'), properties: { token } }, { ...event('same', 'u'), token: '' }];
    expectOk(await postJson(server, '/batch/', batchBody(sent)), 3);
  });

  it("a project's token writes only into that project", async () => {
    const projectB: ProjectDocument = await createProject(server, 'Project B');
    const forA = event('isolation', 'shared-user');
    const forB = event('isolation', 'shared-user');
    expectOk(await postJson(server, '/batch/', { api_key: token, batch: [forA] }), 1);
    expectOk(await postJson(server, '/batch/', { api_key: projectB.apiToken, batch: [forB] }), 1);

    const stored = await storedByUuid(server, [forA.uuid, forB.uuid]);
    expect(stored.get(forA.uuid)?.projectId).toBe(server.project._id);
    expect(stored.get(forB.uuid)?.projectId).toBe(projectB._id);
    expect(await countEvents(server, { projectId: projectB._id })).toBe(1);

    // And the API shows each project only its own events.
    const query = `query($id: ID!) { project(id: $id) { events(first: 1000, filter: { events: ["isolation"] }) { edges { node { uuid } } } } }`;
    const seenA = await gql(server, query, { id: server.project._id }, server.adminKey);
    const seenB = await gql(server, query, { id: projectB._id }, server.adminKey);
    expect(seenA.errors).toBeUndefined();
    expect(seenA.data.project.events.edges.map((e: any) => e.node.uuid)).toEqual([forA.uuid]);
    expect(seenB.data.project.events.edges.map((e: any) => e.node.uuid)).toEqual([forB.uuid]);
  });
});

describe('deduplication by uuid', () => {
  it('the same uuid twice in one batch is stored once and counted as a duplicate', async () => {
    const first = event('dup-in-batch', 'u');
    const again = { ...first };
    const reply = await postJson(server, '/batch/', batchBody([first, again]));
    expectOk(reply, 1, 1);
    expect(await countEvents(server, { uuid: first.uuid })).toBe(1);
  });

  it('a resend in a second request is a duplicate, and the first stored version is kept', async () => {
    const original = event('dup-across', 'u', { properties: { version: 1 } });
    expectOk(await postJson(server, '/batch/', batchBody([original])), 1);
    const resent = { ...original, event: 'dup-across-changed', properties: { version: 2 } };
    expectOk(await postJson(server, '/batch/', batchBody([resent])), 0, 1);
    const stored = await storedEvents(server, { uuid: original.uuid });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ event: 'dup-across', properties: { version: 1 } });
  });

  it('uuid spellings (upper case, braces, urn:, bare hex) of one uuid are the same event', async () => {
    const uuid = randomUUID();
    const hex = uuid.replaceAll('-', '');
    const spellings = [uuid.toUpperCase(), `{${uuid}}`, `urn:uuid:${uuid}`, hex];
    expectOk(await postJson(server, '/batch/', batchBody([event('spelling', 'u', { uuid })])), 1);
    for (const spelling of spellings) {
      expectOk(await postJson(server, '/batch/', batchBody([event('spelling', 'u', { uuid: spelling })])), 0, 1);
    }
    const stored = await storedEvents(server, { event: 'spelling' });
    expect(stored.map((e) => e.uuid)).toEqual([uuid]);
  });

  it('ten concurrent requests with the same event store it exactly once', async () => {
    const sent = event('dup-concurrent', 'u');
    const replies = await Promise.all(Array.from({ length: 10 }, () => postJson(server, '/batch/', batchBody([sent]))));
    for (const reply of replies) expect(reply.status, reply.text).toBe(200);
    expect(replies.reduce((sum, r) => sum + r.body.accepted, 0)).toBe(1);
    expect(replies.reduce((sum, r) => sum + r.body.duplicates, 0)).toBe(9);
    expect(await countEvents(server, { uuid: sent.uuid })).toBe(1);
  });

  it('overlapping concurrent batches: every event stored once, counts add up', async () => {
    const shared = Array.from({ length: 10 }, () => event('dup-overlap', 'u'));
    const batches = Array.from({ length: 5 }, () => [...shared, ...Array.from({ length: 10 }, () => event('dup-overlap', 'u'))]);
    const replies = await Promise.all(batches.map((batch) => postJson(server, '/batch/', batchBody(batch))));
    for (const reply of replies) expect(reply.status, reply.text).toBe(200);
    expect(replies.reduce((sum, r) => sum + r.body.accepted, 0)).toBe(60);
    expect(replies.reduce((sum, r) => sum + r.body.duplicates, 0)).toBe(40);
    expect(await countEvents(server, { event: 'dup-overlap' })).toBe(60);
  });

  it('a retry whose events are all duplicates is still a success', async () => {
    const batch = [event('retry', 'u'), event('retry', 'u')];
    expectOk(await postJson(server, '/batch/', batchBody(batch)), 2);
    const retry = await postJson(server, '/batch/', batchBody([...batch, { event: 'retry', uuid: randomUUID() }]));
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'Ok', accepted: 0, duplicates: 2 });
    expect(retry.body.errors).toEqual([expect.objectContaining({ index: 2, code: 'missing_distinct_id' })]);
  });
});

describe('when the write cannot be confirmed', () => {
  it('answers 503 with Retry-After and a JSON error, never a success', async () => {
    const doomed = await startTestServer();
    try {
      const doomedToken = doomed.project.apiToken;
      expectOk(await postJson(doomed, '/batch/', { api_key: doomedToken, batch: [event('before outage', 'u')] }), 1);
      await doomed.storage.close();
      for (const apiKey of [doomedToken, 'phc_token_never_seen_before']) {
        const reply = await postJson(doomed, '/batch/', { api_key: apiKey, batch: [event('during outage', 'u')] });
        expectError(reply, 503, 'service_unavailable');
        expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    } finally {
      await doomed.dispose();
    }
  });
});

describe('one bad event among good ones', () => {
  let deep: unknown = 'leaf';
  for (let i = 0; i < 40; i++) deep = { next: deep };

  const BAD: [string, () => Record<string, unknown> | unknown, string][] = [
    ['missing distinct_id', () => ({ event: 'bad', uuid: randomUUID(), properties: { k: 1 } }), 'missing_distinct_id'],
    ['empty distinct_id', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: '  ' }), 'missing_distinct_id'],
    ['properties that are not an object', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: 'u', properties: 'text' }), 'invalid_payload'],
    ['properties that are an array', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: 'u', properties: [1, 2] }), 'invalid_payload'],
    ['an invalid uuid', () => ({ event: 'bad', uuid: 'not-a-uuid', distinct_id: 'u' }), 'invalid_uuid'],
    ['a non-string uuid', () => ({ event: 'bad', uuid: 12345, distinct_id: 'u' }), 'invalid_uuid'],
    ['nesting too deep', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: 'u', properties: { deep } }), 'invalid_payload'],
    ['an oversized event', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: 'u', properties: { blob: 'x'.repeat(1_100_000) } }), 'event_too_big'],
    ['no event name', () => ({ uuid: randomUUID(), distinct_id: 'u' }), 'missing_event_name'],
    ['an event name that is not a string', () => ({ event: { name: 'x' }, uuid: randomUUID(), distinct_id: 'u' }), 'invalid_payload'],
    ['an event that is not an object', () => 'just a string', 'invalid_payload'],
    ['a $set that is not an object', () => ({ event: 'bad', uuid: randomUUID(), distinct_id: 'u', $set: 'x' }), 'invalid_payload'],
  ];

  it.each(BAD)('%s: 200, the 99 good ones stored, the bad one named by index', async (_name, makeBad, code) => {
    const run = randomUUID();
    const batch: unknown[] = Array.from({ length: 100 }, (_, i) => event('good', `user-${i}`, { properties: { run, i } }));
    const badIndex = 57;
    const bad = makeBad();
    batch[badIndex] = bad;
    const reply = await postJson(server, '/batch/', batchBody(batch));
    expectOk(reply, 99);
    expect(reply.body.errors).toHaveLength(1);
    expect(reply.body.errors[0]).toMatchObject({ index: badIndex, code });
    expect(typeof reply.body.errors[0].message).toBe('string');
    const badUuid = typeof bad === 'object' && bad !== null ? (bad as Record<string, unknown>).uuid : undefined;
    if (typeof badUuid === 'string' && /^[0-9a-f-]{36}$/.test(badUuid)) expect(reply.body.errors[0].uuid).toBe(badUuid);

    const stored = await storedEvents(server, { 'properties.run': run });
    expect(stored).toHaveLength(99);
    expect(stored.map((e) => e.properties.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== badIndex));
  });

  it('several bad events are each reported, in index order', async () => {
    const run = randomUUID();
    const batch: unknown[] = Array.from({ length: 20 }, (_, i) => event('good', 'u', { properties: { run, i } }));
    batch[2] = { event: 'bad', uuid: randomUUID() };
    batch[9] = { event: 'bad', distinct_id: 'u', uuid: 'zzz' };
    batch[15] = 7;
    const reply = await postJson(server, '/batch/', batchBody(batch));
    expectOk(reply, 17);
    expect(reply.body.errors.map((e: CaptureReply['body']) => [e.index, e.code])).toEqual([
      [2, 'missing_distinct_id'],
      [9, 'invalid_uuid'],
      [15, 'invalid_payload'],
    ]);
    expect(await countEvents(server, { 'properties.run': run })).toBe(17);
  });

  it('when every event is bad the request is a 400 naming the first problem, and nothing is stored', async () => {
    const batch = [
      { event: 'allbad', uuid: randomUUID() },
      { event: 'allbad', uuid: 'nope', distinct_id: 'u' },
      { event: 'allbad', distinct_id: 'u', properties: 5 },
    ];
    const reply = await postJson(server, '/batch/', batchBody(batch));
    expectError(reply, 400, 'missing_distinct_id');
    expect(reply.body.errors.map((e: CaptureReply['body']) => [e.index, e.code])).toEqual([
      [0, 'missing_distinct_id'],
      [1, 'invalid_uuid'],
      [2, 'invalid_payload'],
    ]);
    expect(await countEvents(server, { event: 'allbad' })).toBe(0);
  });

  it('a single bad event on an event route is a 400', async () => {
    expectError(await postJson(server, '/e/', { token, event: 'lonely', uuid: 'bad-uuid', distinct_id: 'u' }), 400, 'invalid_uuid');
  });
});

describe('timestamps', () => {
  /** Sends one batch and returns the stored events plus the window in which the server received it. */
  async function timed(payload: unknown, path = '/batch/') {
    const before = Date.now();
    const reply = await postJson(server, path, payload);
    const after = Date.now();
    expect(reply.status, reply.text).toBe(200);
    return { before, after, reply };
  }

  it('corrects a client clock that is a day behind, keeping the offset between event and send', async () => {
    const clientNow = Date.now() - DAY;
    const sent = event('skew-behind', 'u', { timestamp: new Date(clientNow - 60_000).toISOString() });
    const { before, after } = await timed({ api_key: token, sent_at: new Date(clientNow).toISOString(), batch: [sent] });
    const stored = (await storedOne(sent.uuid))!;
    expect(stored.timestamp.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    expect(stored.timestamp.getTime()).toBeLessThanOrEqual(after - 60_000);
  });

  it('corrects a client clock that is a day ahead instead of clamping or trusting it', async () => {
    const clientNow = Date.now() + DAY;
    const sent = event('skew-ahead', 'u', { timestamp: new Date(clientNow - 30_000).toISOString() });
    const { before, after } = await timed({ api_key: token, sent_at: new Date(clientNow).toISOString(), batch: [sent] });
    const stored = (await storedOne(sent.uuid))!;
    expect(stored.timestamp.getTime()).toBeGreaterThanOrEqual(before - 30_000);
    expect(stored.timestamp.getTime()).toBeLessThanOrEqual(after - 30_000);
  });

  it('keeps the exact spacing between events of one batch', async () => {
    const clientNow = Date.UTC(2020, 0, 1, 12);
    const offsets = [0, 1_500, 42_000, 3_600_000];
    const batch = offsets.map((o) => event('skew-spacing', 'u', { timestamp: new Date(clientNow - o).toISOString() }));
    await timed({ api_key: token, sent_at: new Date(clientNow).toISOString(), batch });
    const stored = await storedByUuid(server, batch.map((e) => e.uuid));
    const times = batch.map((e) => stored.get(e.uuid)!.timestamp.getTime());
    expect(times.map((t) => times[0]! - t)).toEqual(offsets);
  });

  it('$ignore_sent_at keeps the client timestamp as sent', async () => {
    const ts = '2023-03-04T05:06:07.089Z';
    const sent = event('ignore-sent-at', 'u', { timestamp: ts, properties: { $ignore_sent_at: true } });
    await timed({ api_key: token, sent_at: new Date(Date.now() - DAY).toISOString(), batch: [sent] });
    expect((await storedOne(sent.uuid))!.timestamp.toISOString()).toBe(ts);
  });

  it('without sent_at the timestamp is stored as sent', async () => {
    const ts = '2024-02-29T23:59:59.999Z';
    const sent = event('plain-ts', 'u', { timestamp: ts });
    await timed(batchBody([sent]));
    expect((await storedOne(sent.uuid))!.timestamp.toISOString()).toBe(ts);
  });

  it('offset (ms before now) places the event relative to the server clock and wins over timestamp', async () => {
    const a = event('offset', 'u', { offset: 5_000 });
    const b = event('offset', 'u', { offset: 90_000, timestamp: '2001-01-01T00:00:00Z' });
    const { before, after } = await timed({ api_key: token, sent_at: new Date().toISOString(), batch: [a, b] });
    const stored = await storedByUuid(server, [a.uuid, b.uuid]);
    const ta = stored.get(a.uuid)!.timestamp.getTime();
    const tb = stored.get(b.uuid)!.timestamp.getTime();
    expect(ta).toBeGreaterThanOrEqual(before - 5_000);
    expect(ta).toBeLessThanOrEqual(after - 5_000);
    expect(tb).toBeGreaterThanOrEqual(before - 90_000);
    expect(tb).toBeLessThanOrEqual(after - 90_000);
  });

  it('more than 23 h in the future is clamped to now; 22 h ahead is kept', async () => {
    const far = event('future', 'u', { timestamp: new Date(Date.now() + 30 * HOUR).toISOString() });
    const nearTs = new Date(Date.now() + 22 * HOUR).toISOString();
    const near = event('future', 'u', { timestamp: nearTs });
    const { before, after } = await timed(batchBody([far, near]));
    const stored = await storedByUuid(server, [far.uuid, near.uuid]);
    const tFar = stored.get(far.uuid)!.timestamp.getTime();
    expect(tFar).toBeGreaterThanOrEqual(before);
    expect(tFar).toBeLessThanOrEqual(after);
    expect(stored.get(near.uuid)!.timestamp.toISOString()).toBe(nearTs);
  });

  it('no timestamp, or one that cannot be read, means the time the server received it', async () => {
    const none = event('no-ts', 'u');
    const junk = event('no-ts', 'u', { timestamp: 'the day before yesterday' });
    const { before, after } = await timed(batchBody([none, junk]));
    const stored = await storedByUuid(server, [none.uuid, junk.uuid]);
    for (const e of stored.values()) {
      expect(e.timestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(e.timestamp.getTime()).toBeLessThanOrEqual(after);
    }
    expect(stored.size).toBe(2);
  });

  it('the query parameter _ (epoch ms, old posthog-js) serves as sent_at', async () => {
    const clientNow = Date.now() - 3 * DAY;
    const sent = jsEvent('query-sent-at', 'u');
    sent.timestamp = new Date(clientNow - 10_000).toISOString();
    const { before, after } = await timed([sent], `/e/?ip=1&_=${clientNow}&ver=1.200.0`);
    const t = (await storedOne(sent.uuid))!.timestamp.getTime();
    expect(t).toBeGreaterThanOrEqual(before - 10_000);
    expect(t).toBeLessThanOrEqual(after - 10_000);
  });

  it('a body sent_at wins over the query string one', async () => {
    const bodyNow = Date.now() - DAY;
    const sent = event('both-sent-at', 'u', { timestamp: new Date(bodyNow - 20_000).toISOString() });
    const { before, after } = await timed({ api_key: token, sent_at: new Date(bodyNow).toISOString(), batch: [sent] }, `/batch/?_=${Date.now() - 7 * DAY}`);
    const t = (await storedOne(sent.uuid))!.timestamp.getTime();
    expect(t).toBeGreaterThanOrEqual(before - 20_000);
    expect(t).toBeLessThanOrEqual(after - 20_000);
  });
});
