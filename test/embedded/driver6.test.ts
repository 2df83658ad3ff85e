import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoClient, MongoServerError, type Db, type Document } from 'mongodb6';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { rejection } from '../helpers/waiting.ts';

let ts: TestStore;
let client6: MongoClient;
let db: Db;

interface Row {
  _id?: number | string;
  [key: string]: any;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

beforeAll(async () => {
  ts = await startTestStore();
  client6 = new MongoClient(ts.store.url, { serverSelectionTimeoutMS: 5_000 });
  await client6.connect();
  db = client6.db('driver6_tests');
});

afterAll(async () => {
  await client6?.close();
  await ts?.dispose();
});

describe('the store through the 6.x driver', () => {
  it('connects and answers ping and hello', async () => {
    expect(await client6.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    const hello = await client6.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
  });

  it('inserts many documents and reads them back across several batches in sort order', async () => {
    const c = db.collection<Row>('batches');
    const n = 1_000;
    const order = Array.from({ length: n }, (_, i) => (i * 7919) % n); // a permutation of 0..n-1
    const res = await c.insertMany(order.map((i) => ({ _id: i, sq: i * i })));
    expect(res.insertedCount).toBe(n);
    const seen: number[] = [];
    for await (const doc of c.find({}).sort({ _id: 1 }).batchSize(64)) {
      expect(doc.sq).toBe((doc._id as number) ** 2);
      seen.push(doc._id as number);
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(await c.countDocuments({ _id: { $gte: 900 } })).toBe(100);
  });

  it('updates documents with operators and reports counts', async () => {
    const c = db.collection<Row>('updates');
    await c.insertMany([
      { _id: 1, g: 'a', n: 1, tags: ['x'] },
      { _id: 2, g: 'a', n: 2, tags: [] },
      { _id: 3, g: 'b', n: 3, tags: ['y'] },
    ]);
    const res = await c.updateMany({ g: 'a' }, { $inc: { n: 10 }, $addToSet: { tags: 'x' } });
    expect(res.matchedCount).toBe(2);
    expect(res.modifiedCount).toBe(2);
    const after = await c.findOneAndUpdate({ _id: 3 }, { $set: { g: 'c' } }, { returnDocument: 'after' });
    expect(after).toEqual({ _id: 3, g: 'c', n: 3, tags: ['y'] });
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, g: 'a', n: 11, tags: ['x'] },
      { _id: 2, g: 'a', n: 12, tags: ['x'] },
      { _id: 3, g: 'c', n: 3, tags: ['y'] },
    ]);
  });

  it('runs an aggregation pipeline', async () => {
    const c = db.collection<Row>('aggregate');
    const docs = Array.from({ length: 60 }, (_, i) => ({ _id: i, k: ['a', 'b', 'c'][i % 3]!, v: i }));
    await c.insertMany(docs);
    const got = await c
      .aggregate([{ $match: { v: { $gte: 10 } } }, { $group: { _id: '$k', total: { $sum: '$v' }, n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    const want = ['a', 'b', 'c'].map((k) => {
      const sel = docs.filter((d) => d.k === k && d.v >= 10);
      return { _id: k, total: sel.reduce((s, d) => s + d.v, 0), n: sel.length };
    });
    expect(got).toEqual(want);
  });

  it('reports a unique-index violation with code 11000', async () => {
    const c = db.collection<Row>('unique');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a@b.c' });
    const err = await rejection(c.insertOne({ email: 'a@b.c' }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: 'a@b.c' });
    const bulk = await rejection(c.insertMany([{ email: 'new' }, { email: 'a@b.c' }], { ordered: false }));
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect(bulk.code).toBe(11000);
    expect(await c.countDocuments()).toBe(2);
  });

  it('delivers an insert to a change stream opened with collection.watch()', async () => {
    const c = db.collection<Row>('watched');
    await c.insertOne({ _id: 'before' });
    const stream = c.watch([], { maxAwaitTimeMS: 200 });
    try {
      // Establish the change stream cursor before writing, so the insert happens after it opened.
      expect(await withTimeout(stream.tryNext(), 10_000, 'the change stream to open')).toBeNull();
      await c.insertOne({ _id: 'after', v: 42 });
      const change: Document = await withTimeout(stream.next(), 10_000, 'the insert event');
      expect(change.operationType).toBe('insert');
      expect(change.ns).toEqual({ db: 'driver6_tests', coll: 'watched' });
      expect(change.documentKey).toEqual({ _id: 'after' });
      expect(change.fullDocument).toEqual({ _id: 'after', v: 42 });
      expect(change._id).toBeDefined();
    } finally {
      await stream.close();
    }
  });
});
