import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from '../../../test/helpers/store.ts';
import { collectionsOf } from '../../db/collections.ts';
import type { SessionDocument } from '../../db/documents.ts';
import { ensureIndexes } from '../../db/indexes.ts';
import { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { channelType } from './channel-type.ts';
import { rollupSessions } from './rollup.ts';

/*
 * The rollup is proven against a naive oracle that sees every event of a session at once: sort them,
 * take the first and last, count. The rollup instead sees random batches in random order (some of
 * them concurrently) and must end with exactly the oracle's session. The channel type of the
 * oracle's entry comes from `channelType`, which has its own table test (channel-type.test.ts);
 * here it only proves that the rollup classifies the right entry.
 */

let store: TestStore;
let db: Db;

beforeAll(async () => {
  store = await startTestStore();
  db = store.client.db('sessions-rollup');
  await ensureIndexes(db);
});

afterAll(async () => {
  await store?.dispose();
});

function newScope(): ProjectScope {
  const project = { _id: randomUUID(), name: 'p', apiToken: `phc_${randomUUID()}`, timezone: 'UTC', createdAt: new Date() };
  return new ProjectScope(project, collectionsOf(db));
}

async function storedSessions(scope: ProjectScope): Promise<Record<string, unknown>[]> {
  const docs = await scope.data.sessions.find({}, { projection: { _id: 0, projectId: 0 } }).toArray();
  return docs.sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

const BASE = Date.UTC(2024, 2, 1, 9, 0, 0);

function byTimeThenUuid(a: NormalizedEvent, b: NormalizedEvent): number {
  return a.timestamp.getTime() - b.timestamp.getTime() || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function withoutUndefined<T extends Record<string, unknown>>(doc: T): T {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as T;
}

/** What the page of an event is, written from the rule "URL, else the mobile screen name". */
function pageFacts(e: NormalizedEvent): { currentUrl: string; pathname?: string } | undefined {
  const url = str(e.properties.$current_url);
  if (url) return withoutUndefined({ currentUrl: url, pathname: str(e.properties.$pathname) ?? new URL(url).pathname });
  const screen = str(e.properties.$screen_name);
  return screen ? { currentUrl: screen, pathname: screen } : undefined;
}

function oracle(events: NormalizedEvent[]): Record<string, unknown>[] {
  const sessions = new Map<string, NormalizedEvent[]>();
  for (const e of events) if (e.sessionId) sessions.set(e.sessionId, [...(sessions.get(e.sessionId) ?? []), e]);
  const out = [...sessions.entries()].map(([sessionId, list]) => {
    const sorted = [...list].sort(byTimeThenUuid);
    const first = sorted[0]!;
    const last = sorted.at(-1)!;
    const pageviews = list.filter((e) => e.event === '$pageview' || e.event === '$screen').length;
    const autocaptures = list.filter((e) => e.event === '$autocapture').length;
    const duration = (last.timestamp.getTime() - first.timestamp.getTime()) / 1000;
    const withPage = sorted.filter((e) => pageFacts(e) !== undefined);
    const entryEvent = withPage[0];
    const exitEvent = withPage.at(-1);
    const doc: Record<string, unknown> = {
      sessionId,
      distinctId: first.distinctId,
      startTimestamp: first.timestamp,
      startUuid: first.uuid,
      endTimestamp: last.timestamp,
      duration,
      eventCount: list.length,
      pageviewCount: pageviews,
      autocaptureCount: autocaptures,
      isBounce: pageviews <= 1 && autocaptures === 0 && duration < 10,
    };
    if (entryEvent) {
      const p = entryEvent.properties;
      const facts = withoutUndefined({
        ...pageFacts(entryEvent)!,
        referrer: str(p.$referrer),
        referringDomain: str(p.$referring_domain),
        utmSource: str(p.utm_source),
        utmMedium: str(p.utm_medium),
        utmCampaign: str(p.utm_campaign),
        utmTerm: str(p.utm_term),
        utmContent: str(p.utm_content),
        gclid: str(p.gclid),
        gadSource: str(p.gad_source),
        fbclid: str(p.fbclid),
      });
      doc.entry = { timestamp: entryEvent.timestamp, uuid: entryEvent.uuid, ...facts, channelType: channelType(facts) };
      doc.channelType = channelType(facts);
      doc.exit = { timestamp: exitEvent!.timestamp, uuid: exitEvent!.uuid, ...pageFacts(exitEvent!)! };
    } else {
      doc.channelType = channelType({});
    }
    return doc;
  });
  return out.sort((a, b) => ((a.sessionId as string) < (b.sessionId as string) ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const properties = fc.record(
  {
    $current_url: fc.constantFrom('https://shop.example/', 'https://shop.example/pricing?utm_source=x', 'https://shop.example/a/b', ''),
    $pathname: fc.constantFrom('/custom', ''),
    $screen_name: fc.constantFrom('Home', 'Settings'),
    $referrer: fc.constantFrom('$direct', 'https://www.google.com/', 'https://news.ycombinator.com/item'),
    $referring_domain: fc.constantFrom('$direct', 'www.google.com', 'news.ycombinator.com', 'partner.example', ''),
    utm_source: fc.constantFrom('google', 'facebook', 'newsletter', 'sms', 'direct', ''),
    utm_medium: fc.constantFrom('cpc', 'email', 'social', 'affiliate', 'paid_social', ''),
    utm_campaign: fc.constantFrom('spring', 'cross-network', 'video launch', 'shopping days'),
    utm_term: fc.constantFrom('shoes', 'hats'),
    utm_content: fc.constantFrom('banner', 'link'),
    gclid: fc.constantFrom('Cj0KCQ', ''),
    gad_source: fc.constantFrom('1', '2'),
    fbclid: fc.constantFrom('IwAR0', ''),
  },
  { requiredKeys: [] },
);

const rawEvent = fc.record({
  session: fc.integer({ min: 0, max: 2 }),
  event: fc.constantFrom('$pageview', '$screen', '$autocapture', '$pageleave', 'signed up'),
  distinctId: fc.constantFrom('anon-1', 'user@example.com', '$device:abc'),
  // A small range of whole seconds, so equal timestamps (ties) are common.
  second: fc.integer({ min: 0, max: 40 }),
  // Orders uuids independently of timestamps; the index suffix keeps them distinct.
  uuidRank: fc.integer({ min: 0, max: 0xffff }),
  properties,
});

const SESSION_IDS = ['0190a000-0000-7000-8000-00000000000a', '0190a000-0000-7000-8000-00000000000b', '0190a000-0000-7000-8000-00000000000c'];

function uuidOf(rank: number, index: number): string {
  return `${rank.toString(16).padStart(8, '0')}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

const scenario = fc
  .record({
    raw: fc.array(rawEvent, { minLength: 1, maxLength: 25 }),
    // Events without a session id belong to no session and must not create one.
    orphans: fc.integer({ min: 0, max: 2 }),
    order: fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
    cuts: fc.array(fc.nat(), { minLength: 0, maxLength: 6 }),
    concurrent: fc.boolean(),
  })
  .map(({ raw, orphans, order, cuts, concurrent }) => {
    const events: NormalizedEvent[] = raw.map((r, i) => {
      const sessionId = SESSION_IDS[r.session]!;
      return {
        uuid: uuidOf(r.uuidRank, i),
        event: r.event,
        distinctId: r.distinctId,
        timestamp: new Date(BASE + r.second * 1000),
        properties: { ...r.properties, $session_id: sessionId },
        sessionId,
      };
    });
    for (let i = 0; i < orphans; i++) events.push({ uuid: uuidOf(0, 1000 + i), event: '$pageview', distinctId: 'x', timestamp: new Date(BASE), properties: {} });
    // A random permutation, then random cut points: the batches of separate requests.
    const shuffled = events.map((e, i) => ({ e, k: order[i]! + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.e);
    const points = [...new Set(cuts.map((c) => c % (shuffled.length + 1)))].sort((a, b) => a - b);
    const batches: NormalizedEvent[][] = [];
    let from = 0;
    for (const point of [...points, shuffled.length]) {
      if (point > from) batches.push(shuffled.slice(from, point));
      from = Math.max(from, point);
    }
    return { events, batches, concurrent };
  });

// ---------------------------------------------------------------------------------------------

describe('rollupSessions', () => {
  it('ends with the oracle session whatever the batching, order and concurrency of the events', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, batches, concurrent }) => {
        const scope = newScope();
        if (concurrent) await Promise.all(batches.map((batch) => rollupSessions(scope, batch)));
        else for (const batch of batches) await rollupSessions(scope, batch);
        expect(await storedSessions(scope)).toEqual(oracle(events));
      }),
      { numRuns: 60 },
    );
  });

  it('counts every event exactly once when many requests touch one new session at the same time', async () => {
    const scope = newScope();
    const sessionId = randomUUID();
    const events: NormalizedEvent[] = Array.from({ length: 40 }, (_, i) => ({
      uuid: randomUUID(),
      event: i % 4 === 0 ? '$pageview' : 'clicked',
      distinctId: `user-${i}`,
      timestamp: new Date(BASE + ((i * 7) % 40) * 1000),
      properties: { $session_id: sessionId, $current_url: `https://app.example/page/${i}` },
      sessionId,
    }));
    await Promise.all(events.map((e) => rollupSessions(scope, [e])));
    expect(await storedSessions(scope)).toEqual(oracle(events));
  });

  it('leaves sessions alone for requests without session ids', async () => {
    const scope = newScope();
    await rollupSessions(scope, [{ uuid: randomUUID(), event: '$pageview', distinctId: 'u', timestamp: new Date(BASE), properties: { $current_url: 'https://a.example/' } }]);
    await rollupSessions(scope, []);
    expect(await storedSessions(scope)).toEqual([]);
  });

  it('takes the entry from a late event that happened earlier, and recomputes the channel and bounce with it', async () => {
    const scope = newScope();
    const sessionId = randomUUID();
    const event = (second: number, props: Record<string, unknown>, name = '$pageview'): NormalizedEvent => ({
      uuid: randomUUID(),
      event: name,
      distinctId: second === 0 ? 'first-user' : 'later-user',
      timestamp: new Date(BASE + second * 1000),
      properties: { $session_id: sessionId, ...props },
      sessionId,
    });
    await rollupSessions(scope, [event(5, { $current_url: 'https://app.example/docs', $referring_domain: '$direct' })]);
    let [session] = await storedSessions(scope);
    expect(session).toMatchObject({ channelType: 'Direct', isBounce: true, distinctId: 'later-user', duration: 0 });
    expect(session!.entry).toMatchObject({ currentUrl: 'https://app.example/docs', pathname: '/docs' });

    await rollupSessions(scope, [event(0, { $current_url: 'https://app.example/?utm_source=google', $referring_domain: 'www.google.com', utm_source: 'google', utm_medium: 'cpc' })]);
    [session] = await storedSessions(scope);
    expect(session).toMatchObject({ channelType: 'Paid Search', isBounce: false, distinctId: 'first-user', duration: 5, pageviewCount: 2 });
    expect(session!.entry).toMatchObject({ currentUrl: 'https://app.example/?utm_source=google', utmSource: 'google', utmMedium: 'cpc', referringDomain: 'www.google.com' });
    expect(session!.exit).toMatchObject({ currentUrl: 'https://app.example/docs', pathname: '/docs' });
  });
});
