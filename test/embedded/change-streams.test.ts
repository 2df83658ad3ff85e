/**
 * Change streams through the official driver's `collection.watch()` against the embedded store.
 * Expected event shapes follow MongoDB 7.0's documented change events.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, Timestamp, type ChangeStream, type Collection, type Db, type Document } from 'mongodb';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import type { EmbeddedStore } from '../../src/embedded/options.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { waitFor } from '../helpers/waiting.ts';

const DB_NAME = 'sightline_cs';
/** Change events are asserted field by field, so they are typed loosely. */
type AnyEvent = Record<string, any>;
type AnyDoc = { _id: string | number; [key: string]: any };
type Stream = ChangeStream<AnyDoc, AnyEvent>;

let ts: TestStore;
const db = (): Db => ts.client.db(DB_NAME);
const coll = (name: string): Collection<AnyDoc> => db().collection<AnyDoc>(name);
const openStreams = new Set<Stream>();

function watch(c: Collection<AnyDoc>, pipeline: Document[] = [], options: Document = {}): Stream {
  const stream = c.watch<AnyDoc, AnyEvent>(pipeline, { maxAwaitTimeMS: 100, ...options });
  openStreams.add(stream);
  return stream;
}

async function closeStream(stream: Stream): Promise<void> {
  openStreams.delete(stream);
  await stream.close();
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads exactly `n` events, failing if any of them takes longer than `ms`. */
async function take(stream: Stream, n: number, ms = 5_000): Promise<AnyEvent[]> {
  const out: AnyEvent[] = [];
  for (let i = 0; i < n; i++) out.push(await within(stream.next(), ms, `change event ${i + 1} of ${n}`));
  return out;
}

/** Opens the server-side cursor now, so later writes are after the stream's start point. */
async function start(stream: Stream): Promise<void> {
  expect(await within(stream.tryNext(), 5_000, 'the change stream to open')).toBeNull();
}

const tsTuple = (t: Timestamp): [number, number] => [t.t, t.i];

beforeAll(async () => {
  ts = await startTestStore();
});

afterAll(async () => {
  for (const s of openStreams) await s.close().catch(() => undefined);
  await ts?.dispose();
});

describe('change events', () => {
  it('reports insert, update, replace and delete in order with resume token, operationType, ns and documentKey', async () => {
    const c = coll('cs_basic');
    const stream = watch(c);
    await start(stream);

    const inserted = { _id: 'e1', projectId: 'p1', event: 'pageview', count: 1, obsolete: true, properties: { plan: 'free', path: '/' } };
    await c.insertOne(structuredClone(inserted));
    await c.updateOne({ _id: 'e1' }, { $set: { 'properties.plan': 'pro', count: 2 }, $unset: { obsolete: '' } });
    await c.replaceOne({ _id: 'e1' }, { projectId: 'p1', event: 'signup' });
    await c.deleteOne({ _id: 'e1' });

    const events = await take(stream, 4);
    await closeStream(stream);

    expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete']);
    for (const e of events) {
      expect(e.ns).toEqual({ db: DB_NAME, coll: 'cs_basic' });
      expect(e.documentKey).toEqual({ _id: 'e1' });
      expect(e._id).toEqual({ _data: expect.any(String) });
      expect(e.clusterTime).toBeInstanceOf(Timestamp);
      expect(e.wallTime).toBeInstanceOf(Date);
    }
    // Every event has its own resume token and a strictly increasing cluster time.
    expect(new Set(events.map((e) => e._id._data)).size).toBe(4);
    for (let i = 1; i < events.length; i++) {
      const [pt, pi] = tsTuple(events[i - 1]!.clusterTime);
      const [ct, ci] = tsTuple(events[i]!.clusterTime);
      expect(ct > pt || (ct === pt && ci > pi)).toBe(true);
    }

    const [insert, update, replace, del] = events as [AnyEvent, AnyEvent, AnyEvent, AnyEvent];
    expect(insert.fullDocument).toEqual(inserted);

    expect(update.updateDescription.updatedFields).toEqual({ 'properties.plan': 'pro', count: 2 });
    expect(update.updateDescription.removedFields).toEqual(['obsolete']);
    expect(update.fullDocument).toBeUndefined();

    expect(replace.fullDocument).toEqual({ _id: 'e1', projectId: 'p1', event: 'signup' });
    expect(replace.updateDescription).toBeUndefined();

    expect(del.fullDocument).toBeUndefined();

    // MongoDB 7.0 always reports truncatedArrays (empty for modifier updates).
    expect(update.updateDescription.truncatedArrays).toEqual([]);
  });

  it("with fullDocument 'updateLookup' an update event carries the document as it is after the update", async () => {
    const c = coll('cs_lookup');
    const stream = watch(c, [], { fullDocument: 'updateLookup' });
    await start(stream);

    await c.insertOne({ _id: 'u1', projectId: 'p1', n: 1, tags: ['a'] });
    await c.updateOne({ _id: 'u1' }, { $inc: { n: 1 }, $push: { tags: 'b' } as Document });
    const [ins, upd] = await take(stream, 2);
    expect(ins!.operationType).toBe('insert');
    expect(upd!.operationType).toBe('update');
    expect(upd!.updateDescription.updatedFields).toMatchObject({ n: 2 });
    expect(upd!.fullDocument).toEqual({ _id: 'u1', projectId: 'p1', n: 2, tags: ['a', 'b'] });

    // If the document is gone by the time the event is read, the looked-up fullDocument is null.
    await c.insertOne({ _id: 'u2', n: 1 });
    await c.updateOne({ _id: 'u2' }, { $set: { n: 5 } });
    await c.deleteOne({ _id: 'u2' });
    const [ins2, upd2, del2] = await take(stream, 3);
    await closeStream(stream);
    expect([ins2!.operationType, upd2!.operationType, del2!.operationType]).toEqual(['insert', 'update', 'delete']);
    expect(upd2!.fullDocument).toBeNull();
  });

  it('a $match pipeline on the stream delivers only the matching events', async () => {
    const c = coll('cs_match');
    const stream = watch(c, [{ $match: { operationType: 'insert', 'fullDocument.projectId': 'p1' } }]);
    await start(stream);

    await c.insertOne({ _id: 'x1', projectId: 'p2' });
    await c.insertOne({ _id: 'a', projectId: 'p1' });
    await c.updateOne({ _id: 'a' }, { $set: { seen: true } });
    await c.insertOne({ _id: 'x2', projectId: 'p2' });
    await c.deleteOne({ _id: 'a' });
    await c.insertOne({ _id: 'b', projectId: 'p1' });

    const events = await take(stream, 2);
    expect(events.map((e) => [e.operationType, e.documentKey._id])).toEqual([
      ['insert', 'a'],
      ['insert', 'b'],
    ]);
    expect(await stream.tryNext()).toBeNull();
    await closeStream(stream);
  });

  it('a watch on one collection does not see writes to another collection', async () => {
    const watched = coll('cs_watched');
    const other = coll('cs_other');
    const stream = watch(watched);
    await start(stream);

    await other.insertOne({ _id: 'o1' });
    await other.updateOne({ _id: 'o1' }, { $set: { x: 1 } });
    await watched.insertOne({ _id: 'w1' });
    await other.deleteOne({ _id: 'o1' });

    const [first] = await take(stream, 1);
    expect(first!.ns).toEqual({ db: DB_NAME, coll: 'cs_watched' });
    expect(first!.documentKey).toEqual({ _id: 'w1' });
    expect(await stream.tryNext()).toBeNull();
    await closeStream(stream);
  });
});

describe('resuming', () => {
  it('resumeAfter and startAfter a token deliver exactly the events after it, none twice and none missed', async () => {
    const c = coll('cs_resume');
    const stream = watch(c);
    await start(stream);
    await c.insertOne({ _id: 1 });
    await c.insertOne({ _id: 2 });
    await c.insertOne({ _id: 3 });
    const firstThree = await take(stream, 3);
    expect(firstThree.map((e) => e.documentKey._id)).toEqual([1, 2, 3]);
    await closeStream(stream);

    await c.insertOne({ _id: 4 });
    await c.insertOne({ _id: 5 });

    const resumed = watch(c, [], { resumeAfter: firstThree[1]!._id });
    const afterSecond = await take(resumed, 3);
    expect(afterSecond.map((e) => e.documentKey._id)).toEqual([3, 4, 5]);
    // The replayed event is the same event: same resume token.
    expect(afterSecond[0]!._id).toEqual(firstThree[2]!._id);
    expect(await resumed.tryNext()).toBeNull();
    await closeStream(resumed);

    const started = watch(c, [], { startAfter: firstThree[2]!._id });
    const afterThird = await take(started, 2);
    expect(afterThird.map((e) => e.documentKey._id)).toEqual([4, 5]);
    expect(afterThird.map((e) => e._id)).toEqual(afterSecond.slice(1).map((e) => e._id));
    expect(await started.tryNext()).toBeNull();

    // A write after resuming arrives once, on the live stream.
    await c.insertOne({ _id: 6 });
    const [sixth] = await take(started, 1);
    expect(sixth!.documentKey).toEqual({ _id: 6 });
    expect(await started.tryNext()).toBeNull();
    await closeStream(started);
  });

  it('stream.resumeToken advances past writes that the stream filters out (postBatchResumeToken)', async () => {
    const c = coll('cs_pbrt');
    const other = coll('cs_pbrt_other');
    const stream = watch(c, [{ $match: { 'fullDocument.projectId': 'p1' } }]);
    await start(stream);
    const initial: unknown = stream.resumeToken;
    expect(initial).toBeTruthy();

    await c.insertOne({ _id: 'skipped', projectId: 'p2' });
    await other.insertOne({ _id: 'elsewhere' });

    let advanced: unknown = initial;
    const deadline = Date.now() + 5_000;
    while (JSON.stringify(advanced) === JSON.stringify(initial) && Date.now() < deadline) {
      expect(await stream.tryNext()).toBeNull();
      advanced = stream.resumeToken;
    }
    expect(advanced).not.toEqual(initial);
    await closeStream(stream);

    // The advanced token lies after the filtered-out insert: an unfiltered stream resumed from it
    // must not replay 'skipped'.
    await c.insertOne({ _id: 'after', projectId: 'p2' });
    const resumed = watch(c, [], { resumeAfter: advanced });
    const [next] = await take(resumed, 1);
    expect(next!.documentKey).toEqual({ _id: 'after' });
    expect(await resumed.tryNext()).toBeNull();
    await closeStream(resumed);
  });
});

describe('waiting for events', () => {
  it('tryNext returns null promptly when nothing new has happened, then the next event once it has', async () => {
    const c = coll('cs_trynext');
    const stream = watch(c, [], { maxAwaitTimeMS: 300 });
    await start(stream);

    const t0 = Date.now();
    expect(await stream.tryNext()).toBeNull();
    expect(Date.now() - t0).toBeLessThan(3_000);

    await c.insertOne({ _id: 't1' });
    let event: AnyEvent | null = null;
    const deadline = Date.now() + 5_000;
    while (event === null && Date.now() < deadline) event = await stream.tryNext();
    expect(event?.documentKey).toEqual({ _id: 't1' });
    expect(await stream.tryNext()).toBeNull();
    await closeStream(stream);
  });

  it('next() started before an insert waits on the server and resolves as soon as the insert happens', async () => {
    const watcher = new MongoClient(ts.store.url, { monitorCommands: true, serverSelectionTimeoutMS: 5_000 });
    let getMores = 0;
    watcher.on('commandStarted', (ev) => {
      if (ev.commandName === 'getMore') getMores++;
    });
    try {
      await watcher.connect();
      const stream = watch(watcher.db(DB_NAME).collection<AnyDoc>('cs_wait'), [], { maxAwaitTimeMS: 5_000 });
      let settled = false;
      const pending = stream.next().finally(() => {
        settled = true;
      });
      // The aggregate has opened the stream once the first getMore is sent.
      await waitFor(() => getMores >= 1, 5_000, 'the first getMore');
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      // The server holds the getMore instead of answering with empty batches in a loop.
      expect(getMores).toBe(1);

      const insertedAt = Date.now();
      await coll('cs_wait').insertOne({ _id: 'w1', projectId: 'p1' });
      const event = await within(pending, 4_000, 'the waiting next() to resolve');
      expect(Date.now() - insertedAt).toBeLessThan(2_000);
      expect(event.operationType).toBe('insert');
      expect(event.fullDocument).toEqual({ _id: 'w1', projectId: 'p1' });
      await closeStream(stream);
    } finally {
      await watcher.close();
    }
  });
});

describe('driver reconnect', () => {
  it('the driver resumes an open stream by itself after the store restarts on the same data directory and port', async () => {
    const first = await startTestStore();
    const port = first.store.port;
    const dataDir = first.dataDir;
    let second: EmbeddedStore | undefined;
    let firstStopped = false;
    const watcher = new MongoClient(first.store.url, { serverSelectionTimeoutMS: 15_000, heartbeatFrequencyMS: 500 });
    const writer2: MongoClient[] = [];
    try {
      await first.client.close();
      await watcher.connect();
      const c = watcher.db(DB_NAME).collection<AnyDoc>('cs_reconnect');
      const stream = watch(c, [], { maxAwaitTimeMS: 500 });
      await start(stream);
      await c.insertOne({ _id: 'before' });
      const [before] = await take(stream, 1);
      expect(before!.documentKey).toEqual({ _id: 'before' });

      // A getMore is in flight when the server goes away.
      const pending = stream.next();
      pending.catch(() => undefined); // inspected below
      await first.store.stop();
      firstStopped = true;
      const restarted = await startEmbeddedStore({ dataDir, port });
      second = restarted;
      expect(restarted.port).toBe(port);

      const fresh = new MongoClient(restarted.url, { serverSelectionTimeoutMS: 5_000 });
      writer2.push(fresh);
      await fresh.connect();
      const c2 = fresh.db(DB_NAME).collection<AnyDoc>('cs_reconnect');
      await c2.insertOne({ _id: 'after-1' });
      await c2.insertOne({ _id: 'after-2' });

      const a1 = await within(pending, 15_000, 'the driver to resume and deliver the first post-restart event');
      const [a2] = await take(stream, 1, 10_000);
      expect([a1.documentKey, a2!.documentKey]).toEqual([{ _id: 'after-1' }, { _id: 'after-2' }]);
      expect(await stream.tryNext()).toBeNull();
      await closeStream(stream);
    } finally {
      for (const s of [...openStreams]) await closeStream(s).catch(() => undefined);
      await watcher.close().catch(() => undefined);
      for (const w of writer2) await w.close().catch(() => undefined);
      if (second) await second.stop().catch(() => undefined);
      if (!firstStopped) await first.store.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 28_000);
});
