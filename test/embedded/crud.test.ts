import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Binary,
  Decimal128,
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  ObjectId,
  Timestamp,
  type CommandSucceededEvent,
  type Db,
  type Document,
  type UpdateFilter,
} from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { rejection } from '../helpers/waiting.ts';
import { prng } from '../../scripts/lib/prng.ts';

let ts: TestStore;
let db: Db;
let counter = 0;

/** Schema-less documents with any kind of _id. */
interface AnyDoc {
  _id?: string | number | ObjectId | Document;
  [key: string]: any;
}

/** A fresh collection name per test, so tests do not see each other's data. */
function coll(prefix = 'c') {
  counter += 1;
  return db.collection<AnyDoc>(`${prefix}_${counter}`);
}

/** Update documents whose shape the driver's static types cannot express for a schema-less collection. */
function upd(u: Document): UpdateFilter<AnyDoc> {
  return u as UpdateFilter<AnyDoc>;
}

beforeAll(async () => {
  ts = await startTestStore();
  db = ts.client.db('crud_tests');
});

afterAll(async () => {
  await ts?.dispose();
});

describe('inserts', () => {
  it('insertOne generates an ObjectId _id when the document has none and stores the document', async () => {
    const c = coll();
    const doc: Document = { name: 'alice', age: 31 };
    const res = await c.insertOne(doc);
    expect(res.acknowledged).toBe(true);
    expect(res.insertedId).toBeInstanceOf(ObjectId);
    const found = await c.findOne({ _id: res.insertedId });
    expect(found).toEqual({ _id: res.insertedId, name: 'alice', age: 31 });
  });

  it('generates an ObjectId _id on the server when a raw insert command sends a document without one', async () => {
    const c = coll();
    const res = await db.command({ insert: c.collectionName, documents: [{ a: 1 }, { a: 2 }] });
    expect(res).toMatchObject({ ok: 1, n: 2 });
    const docs = await c.find().sort({ a: 1 }).toArray();
    expect(docs.map((d) => d.a)).toEqual([1, 2]);
    expect(docs[0]!._id).toBeInstanceOf(ObjectId);
    expect(docs[1]!._id).toBeInstanceOf(ObjectId);
    expect((docs[0]!._id as ObjectId).equals(docs[1]!._id as ObjectId)).toBe(false);
    expect(Object.keys(docs[0]!)[0]).toBe('_id');
  });

  it('insertOne keeps client-supplied _id values of different BSON types', async () => {
    const c = coll();
    const ids: unknown[] = ['string-id', 42, { tenant: 'a', seq: 1 }, new ObjectId()];
    for (const _id of ids) await c.insertOne({ _id: _id as any, v: 1 });
    for (const _id of ids) {
      const found = await c.findOne({ _id: _id as any });
      expect(found?._id).toEqual(_id);
    }
    expect(await c.countDocuments()).toBe(ids.length);
  });

  it('moves _id to the first position of a stored document, as MongoDB does', async () => {
    const c = coll();
    await c.insertOne({ b: 1, a: 2, _id: 'x' });
    const found = await c.findOne({ _id: 'x' });
    expect(Object.keys(found!)).toEqual(['_id', 'b', 'a']);
  });

  it('round-trips BSON types (Date, ObjectId, Long, Decimal128, Binary, nested arrays, null, booleans)', async () => {
    const c = coll();
    const when = new Date('2024-02-29T12:34:56.789Z');
    const oid = new ObjectId();
    const big = Long.fromString('9007199254740993');
    const doc = {
      _id: 1,
      when,
      oid,
      big,
      dec: Decimal128.fromString('1234.5678901234567890'),
      bin: new Binary(Buffer.from([0, 1, 2, 250, 255])),
      nested: { a: [1, [2, 3], { b: null }], t: true, f: false },
      dbl: 1.5,
      neg: -7,
      str: 'héllo \u{1F600}',
    };
    await c.insertOne(doc);
    const found = await c.findOne({ _id: 1 });
    expect(found!.when).toBeInstanceOf(Date);
    expect((found!.when as Date).getTime()).toBe(when.getTime());
    expect((found!.oid as ObjectId).equals(oid)).toBe(true);
    expect(Long.isLong(found!.big)).toBe(true);
    expect((found!.big as Long).toString()).toBe('9007199254740993');
    expect(found!.dec).toBeInstanceOf(Decimal128);
    expect(found!.dec.toString()).toBe('1234.5678901234567890');
    expect(Buffer.from((found!.bin as Binary).buffer)).toEqual(Buffer.from([0, 1, 2, 250, 255]));
    expect(found!.nested).toEqual({ a: [1, [2, 3], { b: null }], t: true, f: false });
    expect(found!.dbl).toBe(1.5);
    expect(found!.neg).toBe(-7);
    expect(found!.str).toBe('héllo \u{1F600}');
  });

  it('insertMany (ordered) reports insertedCount and insertedIds keyed by position', async () => {
    const c = coll();
    const docs = Array.from({ length: 50 }, (_, i) => ({ i }));
    const res = await c.insertMany(docs);
    expect(res.insertedCount).toBe(50);
    expect(Object.keys(res.insertedIds).map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    const stored = await c.find({}, { projection: { _id: 0, i: 1 } }).sort({ i: 1 }).toArray();
    expect(stored).toEqual(docs.map((d) => ({ i: d.i })));
  });

  it('insertMany (unordered) stores all documents', async () => {
    const c = coll();
    const docs = Array.from({ length: 30 }, (_, i) => ({ _id: `k${i}`, i }));
    const res = await c.insertMany(docs, { ordered: false });
    expect(res.insertedCount).toBe(30);
    expect(await c.countDocuments()).toBe(30);
  });

  it('insertMany stops at a duplicate when ordered and continues past it when unordered', async () => {
    const ordered = coll();
    const e1 = await rejection(ordered.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }]));
    expect(e1).toBeInstanceOf(MongoBulkWriteError);
    expect(e1.code).toBe(11000);
    expect(e1.insertedCount).toBe(2);
    expect((await ordered.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);

    const unordered = coll();
    const e2 = await rejection(
      unordered.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: false }),
    );
    expect(e2).toBeInstanceOf(MongoBulkWriteError);
    expect(e2.insertedCount).toBe(3);
    expect((await unordered.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });

  it('stores and returns a 4 MB document intact', async () => {
    const c = coll();
    const big = 'x'.repeat(4 * 1024 * 1024);
    await c.insertOne({ _id: 'big', big });
    const found = await c.findOne({ _id: 'big' });
    expect(found!.big.length).toBe(big.length);
    expect(found!.big === big).toBe(true);
  });

  it('returns every document of a result larger than 16 MB in total (batches split by size)', async () => {
    const c = coll();
    const chunk = 'y'.repeat(3 * 1024 * 1024);
    for (let i = 0; i < 8; i++) await c.insertOne({ _id: i, chunk });
    const all = await c.find().sort({ _id: 1 }).toArray();
    expect(all.map((d) => d._id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(all.every((d) => d.chunk.length === chunk.length)).toBe(true);
  });
});

describe('find', () => {
  interface Item {
    sku: string;
    qty: number;
  }
  interface Row {
    _id: number;
    n: number;
    group: string;
    score?: number | null;
    tags: string[];
    nested: { x: number };
    name: string;
    items: Item[];
  }
  const rows: Row[] = [];
  const name = 'find_data';

  beforeAll(async () => {
    const rnd = prng(7);
    const colors = ['red', 'blue', 'green', 'black'];
    for (let i = 0; i < 300; i++) {
      const tags = colors.filter(() => rnd() < 0.4);
      const items = Array.from({ length: Math.floor(rnd() * 4) }, () => ({
        sku: rnd() < 0.5 ? 'x' : 'y',
        qty: Math.floor(rnd() * 10),
      }));
      const row: Row = {
        _id: i,
        n: i,
        group: ['a', 'b', 'c'][i % 3]!,
        tags,
        nested: { x: i % 7 },
        name: `user${i}`,
        items,
      };
      if (i % 10 === 5) row.score = null;
      else if (i % 10 !== 0) row.score = Math.floor(rnd() * 101);
      rows.push(row);
    }
    // Insert in a shuffled order so that natural order differs from _id order.
    const shuffled = [...rows].sort(() => rnd() - 0.5);
    await db.collection(name).insertMany(shuffled as Document[]);
  });

  const num = (v: unknown): v is number => typeof v === 'number';
  const cases: Array<[string, Document, (r: Row) => boolean]> = [
    ['equality and $gte', { group: 'b', score: { $gte: 50 } }, (r) => r.group === 'b' && num(r.score) && r.score >= 50],
    ['$or over a dotted path and an array element', { $or: [{ 'nested.x': 3 }, { tags: 'red' }] }, (r) => r.nested.x === 3 || r.tags.includes('red')],
    ['$exists: false', { score: { $exists: false } }, (r) => !('score' in r)],
    ['null equality matching null and missing', { score: null }, (r) => r.score === null || r.score === undefined],
    ['$regex', { name: { $regex: '^user1[0-9]$' } }, (r) => /^user1[0-9]$/.test(r.name)],
    ['$all', { tags: { $all: ['red', 'blue'] } }, (r) => r.tags.includes('red') && r.tags.includes('blue')],
    ['$size', { tags: { $size: 2 } }, (r) => r.tags.length === 2],
    ['$in with $ne', { n: { $in: [1, 5, 6, 500] }, group: { $ne: 'a' } }, (r) => [1, 5, 6, 500].includes(r.n) && r.group !== 'a'],
    ['$nin', { group: { $nin: ['a', 'b'] } }, (r) => !['a', 'b'].includes(r.group)],
    ['$not also matching documents without the field', { score: { $not: { $gt: 50 } } }, (r) => !(num(r.score) && r.score > 50)],
    ['$elemMatch on array of documents', { items: { $elemMatch: { sku: 'x', qty: { $gt: 5 } } } }, (r) => r.items.some((it) => it.sku === 'x' && it.qty > 5)],
    ['a condition on an array-of-documents path matching any element', { 'items.qty': { $gt: 8 } }, (r) => r.items.some((it) => it.qty > 8)],
    ['$mod', { n: { $mod: [7, 3] } }, (r) => r.n % 7 === 3],
    ['$lt combined with $gt on the same field', { n: { $gt: 10, $lt: 20 } }, (r) => r.n > 10 && r.n < 20],
    ['$expr comparing two fields (null and missing sort below numbers)', { $expr: { $gt: ['$n', '$score'] } }, (r) => (num(r.score) ? r.n > r.score : true)],
    ['$and of two ranges', { $and: [{ n: { $gte: 100 } }, { score: { $lte: 20 } }] }, (r) => r.n >= 100 && num(r.score) && r.score <= 20],
    ['$nor', { $nor: [{ group: 'a' }, { 'nested.x': { $lt: 3 } }] }, (r) => r.group !== 'a' && !(r.nested.x < 3)],
  ];

  for (const [label, filter, oracle] of cases) {
    it(`returns exactly the documents matching ${label}`, async () => {
      const got = (await db.collection<AnyDoc>(name).find(filter).toArray()).map((d) => d._id as number).sort((a, b) => a - b);
      const want = rows.filter(oracle).map((r) => r._id);
      expect(want.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    });
  }

  it('sorts on several keys with mixed directions, placing null and missing lowest', async () => {
    const got = await db
      .collection(name)
      .find({}, { projection: { _id: 1 } })
      .sort({ group: 1, score: -1, n: 1 })
      .toArray();
    const key = (r: Row) => (num(r.score) ? r.score : -Infinity);
    const want = [...rows].sort(
      (a, b) => a.group.localeCompare(b.group) || key(b) - key(a) || a.n - b.n,
    );
    expect(got.map((d) => d._id)).toEqual(want.map((r) => r._id));
  });

  it('applies skip and limit after sorting', async () => {
    const got = await db.collection(name).find({ group: 'c' }).sort({ n: -1 }).skip(5).limit(7).toArray();
    const want = rows.filter((r) => r.group === 'c').sort((a, b) => b.n - a.n).slice(5, 12);
    expect(got.map((d) => d._id)).toEqual(want.map((r) => r._id));
  });

  it('returns nothing when skip is beyond the end and everything left when limit exceeds it', async () => {
    expect(await db.collection(name).find().skip(1000).toArray()).toEqual([]);
    const tail = await db.collection(name).find().sort({ n: 1 }).skip(295).limit(50).toArray();
    expect(tail.map((d) => d._id)).toEqual([295, 296, 297, 298, 299]);
  });

  it('applies an inclusion projection with a dotted path', async () => {
    const got = await db.collection<AnyDoc>(name).findOne({ _id: 12 }, { projection: { name: 1, 'nested.x': 1 } });
    expect(got).toEqual({ _id: 12, name: 'user12', nested: { x: 12 % 7 } });
  });

  it('applies an exclusion projection and can exclude _id', async () => {
    const got = await db.collection<AnyDoc>(name).findOne({ _id: 12 }, { projection: { _id: 0, tags: 0, items: 0, nested: 0 } });
    const r = rows[12]!;
    const want: Document = { n: 12, group: r.group, name: 'user12' };
    if ('score' in r) want.score = r.score;
    expect(got).toEqual(want);
  });

  it('applies an inclusion projection that excludes _id', async () => {
    const got = await db.collection(name).find({ n: { $lt: 3 } }, { projection: { _id: 0, n: 1 } }).sort({ n: 1 }).toArray();
    expect(got).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('treats a $slice projection as an exclusion projection that keeps the other fields', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, arr: [1, 2, 3, 4, 5], other: 'kept', items: [{ k: 'a' }] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: 2 } } })).toEqual({
      _id: 1,
      arr: [1, 2],
      other: 'kept',
      items: [{ k: 'a' }],
    });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: -2 }, items: 0 } })).toEqual({
      _id: 1,
      arr: [4, 5],
      other: 'kept',
    });
  });

  // MongoDB's projection docs: `{ _id: 0, "details.colors": { $slice: 1 } }` returns all other fields,
  // because `$slice` with only `_id: 0` beside it is an exclusion projection.
  it('applies $slice with _id: 0 as an exclusion projection that keeps the other fields', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, arr: [1, 2, 3, 4, 5], other: 'kept' });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: [1, 2] }, _id: 0 } })).toEqual({ arr: [2, 3], other: 'kept' });
  });

  it('returns only the first matching element for an $elemMatch projection', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, other: 'x', items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }, { k: 'b', v: 3 }] });
    expect(await c.findOne({ _id: 1 }, { projection: { items: { $elemMatch: { k: 'b' } } } })).toEqual({
      _id: 1,
      items: [{ k: 'b', v: 2 }],
    });
  });

  it('sorts values of different BSON types in MongoDB type order (null/missing, numbers, strings, objects)', async () => {
    const c = coll();
    await c.insertMany([
      { _id: 1, v: 'b' },
      { _id: 2, v: 10 },
      { _id: 3 },
      { _id: 4, v: { a: 1 } },
      { _id: 5, v: 2.5 },
      { _id: 6, v: null },
      { _id: 7, v: 'a' },
    ]);
    const got = (await c.find().sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
    expect(got).toEqual([3, 6, 5, 2, 7, 1, 4]);
  });
});

describe('cursors', () => {
  let monitored: MongoClient;
  const replies: Array<{ name: string; batch: number }> = [];
  const N = 5000;
  const name = 'cursor_data';

  beforeAll(async () => {
    monitored = new MongoClient(ts.store.url, { monitorCommands: true, serverSelectionTimeoutMS: 5_000 });
    monitored.on('commandSucceeded', (e: CommandSucceededEvent) => {
      if (e.commandName === 'find' || e.commandName === 'getMore') {
        const cursor = (e.reply as Document).cursor as Document | undefined;
        const batch = (cursor?.firstBatch ?? cursor?.nextBatch ?? []) as unknown[];
        replies.push({ name: e.commandName, batch: batch.length });
      }
    });
    await monitored.connect();
    const rnd = prng(99);
    const ns = Array.from({ length: N }, (_, i) => i).sort(() => rnd() - 0.5);
    await db.collection(name).insertMany(ns.map((n) => ({ n, pad: `p${n}` })));
  });

  afterAll(async () => {
    await monitored?.close();
  });

  it('returns every document exactly once and in sort order across many getMore batches', async () => {
    replies.length = 0;
    const cursor = monitored.db('crud_tests').collection(name).find({}).sort({ n: 1 }).batchSize(100);
    const seen: number[] = [];
    for await (const doc of cursor) seen.push(doc.n as number);
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
    const getMores = replies.filter((r) => r.name === 'getMore');
    expect(getMores.length).toBeGreaterThanOrEqual(49);
    expect(replies.every((r) => r.batch <= 100)).toBe(true);
    expect(replies[0]).toEqual({ name: 'find', batch: 100 });
  });

  it('returns every document exactly once when iterating in natural order with small batches', async () => {
    const cursor = db.collection(name).find({}, { batchSize: 64 });
    const seen = new Set<number>();
    let count = 0;
    for await (const doc of cursor) {
      seen.add(doc.n as number);
      count += 1;
    }
    expect(count).toBe(N);
    expect(seen.size).toBe(N);
  });

  it('honours limit across batches', async () => {
    const got = await db.collection(name).find({ n: { $gte: 1000 } }).sort({ n: -1 }).limit(250).batchSize(100).toArray();
    expect(got.length).toBe(250);
    expect(got.map((d) => d.n)).toEqual(Array.from({ length: 250 }, (_, i) => N - 1 - i));
  });

  it('keeps two interleaved cursors on the same collection independent', async () => {
    const a = db.collection(name).find({ n: { $lt: 300 } }).sort({ n: 1 }).batchSize(10);
    const b = db.collection(name).find({ n: { $lt: 300 } }).sort({ n: -1 }).batchSize(10);
    const fromA: number[] = [];
    const fromB: number[] = [];
    for (let i = 0; i < 300; i++) {
      fromA.push((await a.next())!.n as number);
      fromB.push((await b.next())!.n as number);
    }
    expect(await a.next()).toBeNull();
    expect(await b.next()).toBeNull();
    expect(fromA).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(fromB).toEqual(Array.from({ length: 300 }, (_, i) => 299 - i));
  });
});

describe('updates', () => {
  it('updateOne $set creates embedded documents along a dotted path and reports counts', async () => {
    const c = coll();
    await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 1 }]);
    const res = await c.updateOne({ a: 1 }, { $set: { 'meta.source.kind': 'web', b: 2 } });
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(1);
    expect(res.upsertedCount).toBe(0);
    expect(res.upsertedId).toBeNull();
    const docs = await c.find().sort({ _id: 1 }).toArray();
    const changed = docs.filter((d) => d.b === 2);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.meta).toEqual({ source: { kind: 'web' } });
  });

  it('reports modifiedCount 0 when $set writes the value the document already has', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 5 });
    const res = await c.updateOne({ _id: 1 }, { $set: { a: 5 } });
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(0);
  });

  it('updateOne with a filter that matches nothing reports zero counts', async () => {
    const c = coll();
    await c.insertOne({ _id: 1 });
    const res = await c.updateOne({ _id: 2 }, { $set: { a: 1 } });
    expect(res.matchedCount).toBe(0);
    expect(res.modifiedCount).toBe(0);
    expect(await c.countDocuments()).toBe(1);
  });

  it('$unset removes fields and is a no-op for missing fields', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 1, b: { c: 2, d: 3 } });
    await c.updateOne({ _id: 1 }, { $unset: { a: '', 'b.c': '' } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, b: { d: 3 } });
    const res = await c.updateOne({ _id: 1 }, { $unset: { nope: '' } });
    expect(res.modifiedCount).toBe(0);
  });

  it('$inc adds to numbers, creates missing fields, and rejects non-numeric targets with code 14', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, n: 5, s: 'text' });
    await c.updateOne({ _id: 1 }, { $inc: { n: -2, m: 3, 'deep.k': 1.5 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, n: 3, s: 'text', m: 3, deep: { k: 1.5 } });
    const err = await rejection(c.updateOne({ _id: 1 }, { $inc: { s: 1 } }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(14);
    expect((await c.findOne({ _id: 1 }))!.s).toBe('text');
  });

  it('$push appends, and with $each/$sort/$slice keeps a sorted, bounded array', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, scores: [7, 3] });
    await c.updateOne({ _id: 1 }, upd({ $push: { scores: 5 } }));
    expect((await c.findOne({ _id: 1 }))!.scores).toEqual([7, 3, 5]);
    await c.updateOne({ _id: 1 }, upd({ $push: { scores: { $each: [9, 1, 4], $sort: 1, $slice: -3 } } }));
    // [7,3,5,9,1,4] sorted -> [1,3,4,5,7,9], last three -> [5,7,9]
    expect((await c.findOne({ _id: 1 }))!.scores).toEqual([5, 7, 9]);
    await c.updateOne({ _id: 1 }, upd({ $push: { fresh: 'a' } }));
    expect((await c.findOne({ _id: 1 }))!.fresh).toEqual(['a']);
  });

  it('$addToSet adds only values that are not already present', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, tags: ['a', 'b'] });
    const r1 = await c.updateOne({ _id: 1 }, { $addToSet: { tags: 'a' } });
    expect(r1.modifiedCount).toBe(0);
    await c.updateOne({ _id: 1 }, { $addToSet: { tags: { $each: ['b', 'c', 'd', 'c'] } } });
    expect((await c.findOne({ _id: 1 }))!.tags).toEqual(['a', 'b', 'c', 'd']);
  });

  it('$pull removes matching values and documents matching a condition', async () => {
    const c = coll();
    await c.insertOne({
      _id: 1,
      tags: ['a', 'b', 'a', 'c'],
      items: [{ sku: 'x', qty: 2 }, { sku: 'y', qty: 8 }, { sku: 'z', qty: 4 }],
    });
    await c.updateOne({ _id: 1 }, upd({ $pull: { tags: 'a', items: { qty: { $lt: 5 } } } }));
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, tags: ['b', 'c'], items: [{ sku: 'y', qty: 8 }] });
  });

  it('$rename moves a field, including into an embedded document', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, old: 'v', other: 1 });
    await c.updateOne({ _id: 1 }, { $rename: { old: 'meta.renamed', other: 'another' } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, meta: { renamed: 'v' }, another: 1 });
  });

  it('$min and $max only change the field when the new value is lower or higher', async () => {
    const c = coll();
    const d1 = new Date('2024-01-01T00:00:00Z');
    await c.insertOne({ _id: 1, lo: 10, hi: 10, first: d1 });
    await c.updateOne({ _id: 1 }, { $min: { lo: 12, first: new Date('2025-01-01T00:00:00Z') }, $max: { hi: 8 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, lo: 10, hi: 10, first: d1 });
    await c.updateOne({ _id: 1 }, { $min: { lo: 3 }, $max: { hi: 20, created: 1 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, lo: 3, hi: 20, first: d1, created: 1 });
  });

  it('$currentDate sets a Date by default and a Timestamp when asked', async () => {
    const c = coll();
    await c.insertOne({ _id: 1 });
    const before = Date.now();
    await c.updateOne({ _id: 1 }, upd({ $currentDate: { at: true, ts: { $type: 'timestamp' }, d: { $type: 'date' } } }));
    const after = Date.now();
    const doc = (await c.findOne({ _id: 1 }))!;
    expect(doc.at).toBeInstanceOf(Date);
    expect(doc.d).toBeInstanceOf(Date);
    expect((doc.at as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((doc.at as Date).getTime()).toBeLessThanOrEqual(after + 1000);
    expect(doc.ts).toBeInstanceOf(Timestamp);
    const secs = (doc.ts as Timestamp).t;
    expect(secs).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
    expect(secs).toBeLessThanOrEqual(Math.ceil(after / 1000) + 1);
  });

  it('updateMany modifies every matching document', async () => {
    const c = coll();
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, g: i % 4, v: 0 })));
    const res = await c.updateMany({ g: { $in: [1, 2] } }, { $inc: { v: 1 } });
    expect(res.matchedCount).toBe(10);
    expect(res.modifiedCount).toBe(10);
    const docs = await c.find().sort({ _id: 1 }).toArray();
    expect(docs.map((d) => d.v)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 4 === 1 || i % 4 === 2 ? 1 : 0)));
  });

  it('rejects an update that changes _id with code 66 and leaves the document alone', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 1 });
    const err = await rejection(c.updateOne({ _id: 1 }, { $set: { _id: 2, a: 2 } }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(66);
    expect(await c.findOne({})).toEqual({ _id: 1, a: 1 });
  });

  it('rejects an unknown update operator with code 9', async () => {
    const c = coll();
    await c.insertOne({ _id: 1 });
    const err = await rejection(c.updateOne({ _id: 1 }, { $frobnicate: { a: 1 } } as Document));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(9);
  });

  it('keeps existing fields in place and appends new fields in lexicographic order, as MongoDB 5+ does', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, m: 1, b: 1 });
    await c.updateOne({ _id: 1 }, { $set: { z: 1, a: 1, m: 2 } });
    expect(Object.keys((await c.findOne({ _id: 1 }))!)).toEqual(['_id', 'm', 'b', 'a', 'z']);
  });
});

describe('upserts', () => {
  it('inserts a document built from the equality fields of the query plus $set and $setOnInsert', async () => {
    const c = coll();
    const res = await c.updateOne(
      { name: 'x', tier: 2, 'meta.region': 'eu', n: { $gt: 5 } },
      { $set: { a: 1 }, $setOnInsert: { created: true } },
      { upsert: true },
    );
    expect(res.upsertedCount).toBe(1);
    expect(res.matchedCount).toBe(0);
    expect(res.upsertedId).toBeInstanceOf(ObjectId);
    const doc = await c.findOne({ _id: res.upsertedId! });
    expect(doc).toEqual({ _id: res.upsertedId, name: 'x', tier: 2, meta: { region: 'eu' }, a: 1, created: true });
  });

  it('does not apply $setOnInsert when the upsert matches an existing document', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, name: 'x' });
    const res = await c.updateOne({ name: 'x' }, { $set: { a: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(res.matchedCount).toBe(1);
    expect(res.upsertedCount).toBe(0);
    expect(res.upsertedId).toBeNull();
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, name: 'x', a: 1 });
    expect(await c.countDocuments()).toBe(1);
  });

  it('uses the _id from the query for the upserted document', async () => {
    const c = coll();
    const res = await c.updateOne({ _id: 'day-2024-05-01' }, { $inc: { hits: 1 } }, { upsert: true });
    expect(res.upsertedId).toBe('day-2024-05-01');
    await c.updateOne({ _id: 'day-2024-05-01' }, { $inc: { hits: 1 } }, { upsert: true });
    expect(await c.find().toArray()).toEqual([{ _id: 'day-2024-05-01', hits: 2 }]);
  });

  it('updateMany with upsert inserts one document when nothing matches', async () => {
    const c = coll();
    const res = await c.updateMany({ k: 'none' }, { $set: { v: 1 } }, { upsert: true });
    expect(res.upsertedCount).toBe(1);
    expect(await c.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ k: 'none', v: 1 }]);
  });

  it('replaceOne with upsert inserts the replacement, taking _id from the query', async () => {
    const c = coll();
    const res = await c.replaceOne({ _id: 7 }, { name: 'seven' }, { upsert: true });
    expect(res.upsertedId).toBe(7);
    expect(await c.findOne({ _id: 7 })).toEqual({ _id: 7, name: 'seven' });
  });
});

describe('array updates', () => {
  it('positional $ updates the first array element matched by the query', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'b', qty: 3 }] });
    await c.updateOne({ _id: 1, 'items.sku': 'b' }, { $set: { 'items.$.qty': 10 } });
    expect((await c.findOne({ _id: 1 }))!.items).toEqual([
      { sku: 'a', qty: 1 },
      { sku: 'b', qty: 10 },
      { sku: 'b', qty: 3 },
    ]);
  });

  it('positional $ on an array of scalars updates the matched value', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, grades: [80, 85, 90] });
    await c.updateOne({ _id: 1, grades: 85 }, { $set: { 'grades.$': 86 } });
    expect((await c.findOne({ _id: 1 }))!.grades).toEqual([80, 86, 90]);
  });

  it('$[] updates every element of an array', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, scores: [1, 2, 3], items: [{ q: 1 }, { q: 2 }] });
    await c.updateOne({ _id: 1 }, { $inc: { 'scores.$[]': 10, 'items.$[].q': 5 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, scores: [11, 12, 13], items: [{ q: 6 }, { q: 7 }] });
  });

  it('arrayFilters ($[elem]) update only the elements matching the filter', async () => {
    const c = coll();
    await c.insertMany([
      { _id: 1, grades: [{ score: 50 }, { score: 70 }, { score: 90 }] },
      { _id: 2, grades: [{ score: 10 }] },
    ]);
    const res = await c.updateMany(
      {},
      { $set: { 'grades.$[g].passed': true } },
      { arrayFilters: [{ 'g.score': { $gte: 60 } }] },
    );
    expect(res.matchedCount).toBe(2);
    expect(res.modifiedCount).toBe(1);
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, grades: [{ score: 50 }, { score: 70, passed: true }, { score: 90, passed: true }] },
      { _id: 2, grades: [{ score: 10 }] },
    ]);
  });

  it('arrayFilters work on arrays of scalars', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, v: [1, 5, 10, 15] });
    await c.updateOne({ _id: 1 }, { $set: { 'v.$[x]': 0 } }, { arrayFilters: [{ x: { $gt: 7 } }] });
    expect((await c.findOne({ _id: 1 }))!.v).toEqual([1, 5, 0, 0]);
  });
});

describe('pipeline updates and replacements', () => {
  it('applies a pipeline-style update computed from the document itself', async () => {
    const c = coll();
    await c.insertMany([{ _id: 1, a: 2, b: 3 }, { _id: 2, a: 10, b: 1 }]);
    await c.updateOne({ _id: 1 }, [{ $set: { total: { $add: ['$a', '$b'] } } }, { $unset: 'a' }]);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, b: 3, total: 5 });
    const res = await c.updateMany({}, [{ $set: { big: { $gt: ['$b', 2] } } }]);
    expect(res.matchedCount).toBe(2);
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d.big)).toEqual([true, false]);
  });

  it('replaceOne replaces the whole document and keeps its _id', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 1, b: 2 });
    const res = await c.replaceOne({ a: 1 }, { c: 3 });
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(1);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, c: 3 });
  });
});

describe('deletes', () => {
  it('deleteOne removes a single matching document', async () => {
    const c = coll();
    await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }]);
    const res = await c.deleteOne({ k: 1 });
    expect(res.deletedCount).toBe(1);
    expect(await c.countDocuments({ k: 1 })).toBe(1);
    expect(await c.countDocuments({ k: 2 })).toBe(1);
  });

  it('deleteMany removes every matching document and an empty filter removes all', async () => {
    const c = coll();
    await c.insertMany(Array.from({ length: 30 }, (_, i) => ({ i })));
    const r1 = await c.deleteMany({ i: { $lt: 10 } });
    expect(r1.deletedCount).toBe(10);
    expect(await c.countDocuments()).toBe(20);
    const r2 = await c.deleteMany({});
    expect(r2.deletedCount).toBe(20);
    expect(await c.countDocuments()).toBe(0);
  });

  it('deleteOne with no match deletes nothing', async () => {
    const c = coll();
    await c.insertOne({ a: 1 });
    expect((await c.deleteOne({ a: 2 })).deletedCount).toBe(0);
    expect(await c.countDocuments()).toBe(1);
  });
});

describe('findOneAnd*', () => {
  it('findOneAndUpdate returns the document before the update by default and after when asked', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, n: 1 });
    const before = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } });
    expect(before).toEqual({ _id: 1, n: 1 });
    const after = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    expect(after).toEqual({ _id: 1, n: 3 });
  });

  it('findOneAndUpdate picks the first document in sort order and applies a projection', async () => {
    const c = coll();
    await c.insertMany([{ _id: 1, p: 5, q: 'a' }, { _id: 2, p: 9, q: 'b' }, { _id: 3, p: 7, q: 'c' }]);
    const got = await c.findOneAndUpdate(
      {},
      { $set: { taken: true } },
      { sort: { p: -1 }, returnDocument: 'after', projection: { q: 1, taken: 1, _id: 0 } },
    );
    expect(got).toEqual({ q: 'b', taken: true });
    expect(await c.countDocuments({ taken: true })).toBe(1);
    expect((await c.findOne({ _id: 2 }))!.taken).toBe(true);
  });

  it('findOneAndUpdate with upsert returns null before and the new document after', async () => {
    const c = coll();
    const r1 = await c.findOneAndUpdate({ k: 'a' }, { $set: { v: 1 } }, { upsert: true });
    expect(r1).toBeNull();
    const r2 = await c.findOneAndUpdate({ k: 'b' }, { $set: { v: 2 } }, { upsert: true, returnDocument: 'after' });
    expect(r2).toMatchObject({ k: 'b', v: 2 });
    expect(r2!._id).toBeInstanceOf(ObjectId);
    expect(await c.countDocuments()).toBe(2);
  });

  it('findOneAndUpdate reports lastErrorObject metadata for an upsert', async () => {
    const c = coll();
    const res = await c.findOneAndUpdate(
      { _id: 'u1' },
      { $set: { v: 1 } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    );
    expect(res.ok).toBe(1);
    expect(res.value).toEqual({ _id: 'u1', v: 1 });
    expect(res.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false, upserted: 'u1' });
    const res2 = await c.findOneAndUpdate({ _id: 'u1' }, { $set: { v: 2 } }, { includeResultMetadata: true });
    expect(res2.lastErrorObject).toMatchObject({ n: 1, updatedExisting: true });
    expect(res2.value).toEqual({ _id: 'u1', v: 1 });
  });

  it('findOneAndUpdate returns null and changes nothing when no document matches', async () => {
    const c = coll();
    await c.insertOne({ _id: 1 });
    expect(await c.findOneAndUpdate({ _id: 2 }, { $set: { a: 1 } })).toBeNull();
    expect(await c.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('findOneAndReplace returns before or after and replaces the whole document', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 1 });
    const before = await c.findOneAndReplace({ _id: 1 }, { b: 2 });
    expect(before).toEqual({ _id: 1, a: 1 });
    const after = await c.findOneAndReplace({ _id: 1 }, { c: 3 }, { returnDocument: 'after' });
    expect(after).toEqual({ _id: 1, c: 3 });
    const upserted = await c.findOneAndReplace({ _id: 2 }, { d: 4 }, { upsert: true, returnDocument: 'after' });
    expect(upserted).toEqual({ _id: 2, d: 4 });
  });

  it('findOneAndDelete removes and returns the first document in sort order', async () => {
    const c = coll();
    await c.insertMany([{ _id: 1, p: 3 }, { _id: 2, p: 1 }, { _id: 3, p: 2 }]);
    const got = await c.findOneAndDelete({}, { sort: { p: 1 } });
    expect(got).toEqual({ _id: 2, p: 1 });
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 3]);
    expect(await c.findOneAndDelete({ p: 99 })).toBeNull();
  });
});

describe('counting and distinct', () => {
  it('countDocuments honours filter, skip and limit; estimatedDocumentCount counts the collection', async () => {
    const c = coll();
    await c.insertMany(Array.from({ length: 40 }, (_, i) => ({ i, even: i % 2 === 0 })));
    expect(await c.countDocuments()).toBe(40);
    expect(await c.countDocuments({ even: true })).toBe(20);
    expect(await c.countDocuments({ even: true }, { skip: 5, limit: 10 })).toBe(10);
    expect(await c.countDocuments({ even: true }, { skip: 15, limit: 10 })).toBe(5);
    expect(await c.estimatedDocumentCount()).toBe(40);
    expect(await c.countDocuments({ missing: 1 })).toBe(0);
  });

  it('estimatedDocumentCount of a collection that does not exist is 0', async () => {
    expect(await db.collection('never_created_here').estimatedDocumentCount()).toBe(0);
  });

  it('distinct unwinds arrays, follows dotted paths and honours a filter', async () => {
    const c = coll();
    await c.insertMany([
      { tags: ['a', 'b'], m: { k: 1 }, g: 1 },
      { tags: ['b', 'c'], m: { k: 2 }, g: 1 },
      { tags: 'd', m: { k: 1 }, g: 2 },
      { m: { k: 3 }, g: 2 },
    ]);
    expect((await c.distinct('tags')).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect((await c.distinct('m.k')).sort()).toEqual([1, 2, 3]);
    expect((await c.distinct('tags', { g: 1 })).sort()).toEqual(['a', 'b', 'c']);
    expect(await c.distinct('nothing')).toEqual([]);
  });
});

describe('bulkWrite', () => {
  it('executes mixed ordered operations and reports every count', async () => {
    const c = coll();
    await c.insertMany([{ _id: 1, v: 1 }, { _id: 2, v: 2 }, { _id: 3, v: 3 }]);
    const res = await c.bulkWrite([
      { insertOne: { document: { _id: 4, v: 4 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { v: 10 } } } },
      { updateMany: { filter: { v: { $gte: 2, $lte: 4 } }, update: { $inc: { v: 100 } } } },
      { replaceOne: { filter: { _id: 2 }, replacement: { v: 'replaced' } } },
      { updateOne: { filter: { _id: 9 }, update: { $set: { v: 9 } }, upsert: true } },
      { deleteOne: { filter: { _id: 3 } } },
      { deleteMany: { filter: { v: { $gt: 1000 } } } },
    ]);
    expect(res.insertedCount).toBe(1);
    expect(res.matchedCount).toBe(1 + 3 + 1);
    expect(res.modifiedCount).toBe(1 + 3 + 1);
    expect(res.upsertedCount).toBe(1);
    expect(res.upsertedIds).toEqual({ 4: 9 });
    expect(res.deletedCount).toBe(1);
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, v: 10 },
      { _id: 2, v: 'replaced' },
      { _id: 4, v: 104 },
      { _id: 9, v: 9 },
    ]);
  });

  it('ordered bulkWrite stops at the first error; unordered carries on', async () => {
    const ops = [
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 2 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { seen: true } } } },
    ];
    const ordered = coll();
    const e1 = await rejection(ordered.bulkWrite(ops, { ordered: true }));
    expect(e1).toBeInstanceOf(MongoBulkWriteError);
    expect(e1.writeErrors).toHaveLength(1);
    expect(e1.writeErrors[0].index).toBe(1);
    expect(e1.writeErrors[0].code).toBe(11000);
    expect(await ordered.find().toArray()).toEqual([{ _id: 1 }]);

    const unordered = coll();
    const e2 = await rejection(unordered.bulkWrite(ops, { ordered: false }));
    expect(e2).toBeInstanceOf(MongoBulkWriteError);
    expect(e2.writeErrors).toHaveLength(1);
    expect(e2.writeErrors[0].index).toBe(1);
    expect(e2.insertedCount).toBe(2);
    expect(await unordered.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, seen: true }, { _id: 2 }]);
  });
});
