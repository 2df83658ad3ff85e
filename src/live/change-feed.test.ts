import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { EventDocument } from '../db/documents.ts';
import { startEmbeddedStore } from '../embedded/start.ts';
import type { EmbeddedStore } from '../embedded/options.ts';
import { startTestStore, type TestStore } from '../../test/helpers/store.ts';
import { waitFor } from '../../test/helpers/waiting.ts';
import { ChangeFeed } from './change-feed.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

function event(uuid: string): EventDocument {
  const now = new Date();
  return { projectId: 'p1', uuid, event: 'e', distinctId: 'd', timestamp: now, properties: { '%24k': 1 }, createdAt: now };
}

function collectingLogger() {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      messages.push(String(JSON.parse(String(chunk)).msg));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), messages };
}

describe('ChangeFeed', () => {
  it('reports inserted documents only, in storage order, as stored', async () => {
    const ts: TestStore = await startTestStore();
    cleanup.push(() => ts.dispose());
    const events = ts.client.db('feed').collection<EventDocument>('events');
    const seen: EventDocument[] = [];
    const feed = new ChangeFeed({ events, logger: pino({ level: 'silent' }), onInsert: (doc) => seen.push(doc) });
    await feed.start();

    await events.insertOne(event('a'));
    await events.updateOne({ uuid: 'a' }, { $set: { event: 'changed' } });
    await events.insertMany([event('b'), event('c')]);
    await events.deleteOne({ uuid: 'b' });
    await events.insertOne(event('d'));
    await waitFor(() => seen.length >= 4, 5_000, 'four inserts');
    await feed.stop();

    expect(seen.map((d) => d.uuid)).toEqual(['a', 'b', 'c', 'd']);
    expect(seen[0]).toMatchObject({ projectId: 'p1', event: 'e', properties: { '%24k': 1 } });
  });

  it('after losing the database, reopens after its resume token: nothing repeated, nothing missed', async () => {
    const first = await startTestStore();
    const { port } = first.store;
    await first.client.close();
    // Short server selection, so the driver's own resume attempt gives up and the feed's takes over.
    const client = new MongoClient(first.store.url, { serverSelectionTimeoutMS: 200, heartbeatFrequencyMS: 500 });
    cleanup.push(() => client.close());
    const events = client.db('feed').collection<EventDocument>('events');
    const { logger, messages } = collectingLogger();
    const seen: string[] = [];
    const feed = new ChangeFeed({ events, logger, onInsert: (doc) => seen.push(doc.uuid), minBackoffMs: 500, maxBackoffMs: 1_000 });
    cleanup.push(() => feed.stop());
    await feed.start();
    await events.insertOne(event('before'));
    await waitFor(() => seen.length === 1, 5_000, 'the first event');

    await first.store.stop();
    await waitFor(() => messages.some((m) => m.includes('reopening')), 5_000, 'the feed to notice');
    const restarted: EmbeddedStore = await startEmbeddedStore({ dataDir: first.dataDir, port });
    cleanup.push(() => restarted.stop());
    // Written while the feed is (most likely) still backing off: only a resume after its token sees them.
    const writer = new MongoClient(restarted.url);
    cleanup.push(() => writer.close());
    await writer.db('feed').collection<EventDocument>('events').insertMany([event('after-1'), event('after-2')]);

    await waitFor(() => seen.length >= 3, 10_000, 'the events after the outage');
    expect(seen).toEqual(['before', 'after-1', 'after-2']);
  });
});
