import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Double, Long, MongoBulkWriteError, MongoServerError, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { pollUntil, rejection } from '../helpers/waiting.ts';
import { prng } from '../../scripts/lib/prng.ts';

let ts: TestStore;
let db: Db;
let counter = 0;

/** Schema-less documents with any kind of _id. */
interface AnyDoc {
  _id?: string | number | Document;
  [key: string]: any;
}

function coll(prefix = 'u') {
  counter += 1;
  return db.collection<AnyDoc>(`${prefix}_${counter}`);
}

/** Every plan node of an explain plan tree (classic `inputStage(s)` and SBE `queryPlan` shapes). */
function planNodes(plan: Document | undefined): Document[] {
  if (!plan || typeof plan !== 'object') return [];
  const out: Document[] = [];
  if (typeof plan.stage === 'string') out.push(plan);
  if (plan.queryPlan) out.push(...planNodes(plan.queryPlan));
  if (plan.inputStage) out.push(...planNodes(plan.inputStage));
  if (Array.isArray(plan.inputStages)) for (const s of plan.inputStages) out.push(...planNodes(s));
  return out;
}

function usesIndex(plan: Document | undefined, indexName: string): boolean {
  const nodes = planNodes(plan);
  return nodes.some((n) => n.stage === 'IXSCAN') && nodes.some((n) => n.indexName === indexName);
}

function isCollScan(plan: Document | undefined): boolean {
  const stages = planNodes(plan).map((n) => n.stage);
  return stages.includes('COLLSCAN') && !stages.includes('IXSCAN');
}

/** The part of an aggregate explain describing the leading $match (either a `$cursor` stage or, when the whole pipeline was pushed down, the top level). */
function cursorPart(explain: Document): Document {
  return (explain.stages?.[0]?.$cursor as Document | undefined) ?? explain;
}

async function serverCounters() {
  const s = await ts.client.db('admin').command({ serverStatus: 1 });
  return {
    docs: Number(s.metrics.queryExecutor.scannedObjects),
    keys: Number(s.metrics.queryExecutor.scanned),
  };
}

beforeAll(async () => {
  ts = await startTestStore();
  db = ts.client.db('index_tests');
});

afterAll(async () => {
  await ts?.dispose();
});

describe('_id and unique index violations', () => {
  it('rejects a duplicate _id with code 11000 and reports keyPattern and keyValue', async () => {
    const c = coll();
    await c.insertOne({ _id: 5, v: 'first' });
    const err = await rejection(c.insertOne({ _id: 5, v: 'second' }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.keyPattern).toEqual({ _id: 1 });
    expect(err.keyValue).toEqual({ _id: 5 });
    expect(err.message).toMatch(/E11000 duplicate key error/);
    expect(await c.find().toArray()).toEqual([{ _id: 5, v: 'first' }]);
  });

  it('ordered insert stops at the first duplicate and reports it per document with keyPattern and keyValue', async () => {
    const c = coll();
    const res = await db.command({
      insert: c.collectionName,
      documents: [{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }, { _id: 2 }],
      ordered: true,
    });
    expect(res.ok).toBe(1);
    expect(res.n).toBe(2);
    expect(res.writeErrors).toHaveLength(1);
    expect(res.writeErrors[0]).toMatchObject({ index: 2, code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 1 } });
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
  });

  it('unordered insert stores every non-duplicate and lists each duplicate by index', async () => {
    const c = coll();
    const res = await db.command({
      insert: c.collectionName,
      documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }, { _id: 1 }],
      ordered: false,
    });
    expect(res.n).toBe(3);
    expect(res.writeErrors.map((e: Document) => e.index)).toEqual([1, 3, 5]);
    for (const e of res.writeErrors as Document[]) {
      expect(e.code).toBe(11000);
      expect(e.keyPattern).toEqual({ _id: 1 });
    }
    expect(res.writeErrors.map((e: Document) => e.keyValue)).toEqual([{ _id: 1 }, { _id: 2 }, { _id: 1 }]);
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });

  it('insertMany through the driver reports duplicates as a bulk write error (ordered and unordered)', async () => {
    const ordered = coll();
    await ordered.createIndex({ email: 1 }, { unique: true });
    const docs = [{ email: 'a' }, { email: 'b' }, { email: 'a' }, { email: 'c' }, { email: 'b' }];
    const e1 = await rejection(ordered.insertMany(docs.map((d) => ({ ...d }))));
    expect(e1).toBeInstanceOf(MongoBulkWriteError);
    expect(e1.code).toBe(11000);
    expect(e1.insertedCount).toBe(2);
    expect(e1.writeErrors.map((w: any) => w.index)).toEqual([2]);
    expect((await ordered.find().toArray()).map((d) => d.email).sort()).toEqual(['a', 'b']);

    const unordered = coll();
    await unordered.createIndex({ email: 1 }, { unique: true });
    const e2 = await rejection(unordered.insertMany(docs.map((d) => ({ ...d })), { ordered: false }));
    expect(e2).toBeInstanceOf(MongoBulkWriteError);
    expect(e2.insertedCount).toBe(3);
    expect(e2.writeErrors.map((w: any) => w.index)).toEqual([2, 4]);
    expect(e2.writeErrors.every((w: any) => w.code === 11000)).toBe(true);
    expect((await unordered.find().toArray()).map((d) => d.email).sort()).toEqual(['a', 'b', 'c']);
  });

  it('enforces a unique secondary index and names it in the error', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a@x.io', n: 1 });
    const err = await rejection(c.insertOne({ email: 'a@x.io', n: 2 }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.keyPattern).toEqual({ email: 1 });
    expect(err.keyValue).toEqual({ email: 'a@x.io' });
    expect(err.message).toMatch(/email_1/);
    expect(await c.countDocuments()).toBe(1);
  });

  it('enforces a compound unique index on the combination of keys only', async () => {
    const c = coll();
    await c.createIndex({ projectId: 1, distinctId: 1 }, { unique: true });
    await c.insertMany([
      { projectId: 'p1', distinctId: 'u1' },
      { projectId: 'p1', distinctId: 'u2' },
      { projectId: 'p2', distinctId: 'u1' },
    ]);
    const err = await rejection(c.insertOne({ projectId: 'p1', distinctId: 'u2' }));
    expect(err.code).toBe(11000);
    expect(err.keyPattern).toEqual({ projectId: 1, distinctId: 1 });
    expect(err.keyValue).toEqual({ projectId: 'p1', distinctId: 'u2' });
    expect(await c.countDocuments()).toBe(3);
  });

  it('treats a missing field as null in a unique index, so a second document without it is a duplicate', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ name: 'no email 1' });
    const err = await rejection(c.insertOne({ name: 'no email 2' }));
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: null });
    expect(await c.countDocuments()).toBe(1);
  });

  it('a partial unique index ignores documents outside its filter but enforces uniqueness inside it', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { email: { $exists: true } } });
    await c.insertMany([{ name: 'a' }, { name: 'b' }, { email: 'x@y.z' }]);
    const err = await rejection(c.insertOne({ email: 'x@y.z' }));
    expect(err.code).toBe(11000);
    expect(await c.countDocuments()).toBe(3);
  });

  it('compares numeric keys by value, so 1, 1.0 and Long(1) collide in a unique index', async () => {
    const c = coll();
    await c.createIndex({ n: 1 }, { unique: true });
    await c.insertOne({ n: 1 });
    expect((await rejection(c.insertOne({ n: new Double(1) }))).code).toBe(11000);
    expect((await rejection(c.insertOne({ n: Long.fromNumber(1) }))).code).toBe(11000);
    expect(await c.countDocuments()).toBe(1);
  });

  it('a unique index on an array field rejects another document sharing an element', async () => {
    const c = coll();
    await c.createIndex({ tags: 1 }, { unique: true });
    await c.insertOne({ _id: 1, tags: ['a', 'b'] });
    await c.insertOne({ _id: 2, tags: ['x', 'x'] }); // repeats within one document are fine
    const err = await rejection(c.insertOne({ _id: 3, tags: ['b', 'c'] }));
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ tags: 'b' });
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
  });

  it('a duplicate created by updateOne fails with 11000 and leaves the document unchanged', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ _id: 1, email: 'one' }, { _id: 2, email: 'two', other: 1 }]);
    const err = await rejection(c.updateOne({ _id: 2 }, { $set: { email: 'one', other: 2 } }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: 'one' });
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, email: 'two', other: 1 });
    // The unchanged document is still found through the index.
    expect(await c.find({ email: 'two' }).toArray()).toEqual([{ _id: 2, email: 'two', other: 1 }]);
  });

  it('a duplicate created by replaceOne or findOneAndUpdate fails with 11000 and changes nothing', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ _id: 1, email: 'one' }, { _id: 2, email: 'two' }]);
    expect((await rejection(c.replaceOne({ _id: 2 }, { email: 'one' }))).code).toBe(11000);
    expect((await rejection(c.findOneAndUpdate({ _id: 2 }, { $set: { email: 'one' } }))).code).toBe(11000);
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, email: 'one' }, { _id: 2, email: 'two' }]);
  });

  it('a duplicate created by an upsert fails with 11000 and inserts nothing', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ _id: 1, email: 'taken' });
    const err = await rejection(c.updateOne({ name: 'newcomer' }, { $set: { email: 'taken' } }, { upsert: true }));
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: 'taken' });
    expect(await c.find().toArray()).toEqual([{ _id: 1, email: 'taken' }]);
  });

  it('updateMany that would give several documents the same unique value fails with 11000 and never stores a duplicate', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ g: 1, email: 'a' }, { g: 1, email: 'b' }, { g: 1, email: 'c' }]);
    const err = await rejection(c.updateMany({ g: 1 }, { $set: { email: 'same' } }));
    expect(err.code).toBe(11000);
    expect(await c.countDocuments({ email: 'same' })).toBeLessThanOrEqual(1);
    expect(await c.countDocuments()).toBe(3);
  });

  it('frees a unique key when its document is deleted or changes value', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }]);
    await c.deleteOne({ _id: 1 });
    await c.insertOne({ _id: 3, email: 'a' });
    await c.updateOne({ _id: 2 }, { $set: { email: 'b2' } });
    await c.insertOne({ _id: 4, email: 'b' });
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 2, email: 'b2' },
      { _id: 3, email: 'a' },
      { _id: 4, email: 'b' },
    ]);
  });

  it('creating a unique index over existing duplicates fails with 11000 and creates no index', async () => {
    const c = coll();
    await c.insertMany([{ k: 1 }, { k: 2 }, { k: 1 }]);
    const err = await rejection(c.createIndex({ k: 1 }, { unique: true }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    const names = (await c.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
    // The collection keeps working, and duplicates are still allowed.
    await c.insertOne({ k: 2 });
    expect(await c.countDocuments({ k: 2 })).toBe(2);
  });
});

describe('query planning with a compound index over 10,000 events', () => {
  interface Ev {
    _id: number;
    projectId: string;
    event: string;
    timestamp: Date;
    distinctId: string;
    props: { plan: string };
  }
  const N = 10_000;
  const DAY = 86_400_000;
  const t0 = Date.UTC(2024, 0, 1);
  const projects = ['p0', 'p1', 'p2', 'p3', 'p4'];
  const events = ['pageview', 'signup', 'click', 'purchase', 'login', 'logout', 'search', 'share'];
  const plans = ['free', 'pro', 'team'];
  const INDEX = 'projectId_1_event_1_timestamp_1';
  const data: Ev[] = [];
  const indexed = 'events_indexed';
  const plain = 'events_plain';

  const ids = (docs: Document[]) => docs.map((d) => d._id as number).sort((a, b) => a - b);

  // The query under test and its independent oracle.
  const from = new Date(t0 + 10 * DAY);
  const to = new Date(t0 + 13 * DAY);
  const rangeFilter = { projectId: 'p2', event: 'pageview', timestamp: { $gte: from, $lt: to } };
  const rangeOracle = (e: Ev) =>
    e.projectId === 'p2' && e.event === 'pageview' && e.timestamp >= from && e.timestamp < to;

  beforeAll(async () => {
    const rnd = prng(2024);
    for (let i = 0; i < N; i++) {
      data.push({
        _id: i,
        projectId: projects[Math.floor(rnd() * projects.length)]!,
        event: events[Math.floor(rnd() * events.length)]!,
        timestamp: new Date(t0 + Math.floor(rnd() * 30 * DAY)),
        distinctId: `u${Math.floor(rnd() * 400)}`,
        props: { plan: plans[Math.floor(rnd() * plans.length)]! },
      });
    }
    const docs = () => data.map((d) => ({ ...d, props: { ...d.props } }));
    await db.collection<AnyDoc>(plain).insertMany(docs());
    // Half of the documents exist before the index is built, half are added through it.
    const all = docs();
    await db.collection<AnyDoc>(indexed).insertMany(all.slice(0, N / 2));
    const name = await db.collection<AnyDoc>(indexed).createIndex({ projectId: 1, event: 1, timestamp: 1 });
    expect(name).toBe(INDEX);
    await db.collection<AnyDoc>(indexed).insertMany(all.slice(N / 2));
  });

  it('uses the index (IXSCAN) for equality plus range and examines only the matching documents', async () => {
    const expected = data.filter(rangeOracle);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(500);
    const explain = await db.collection<AnyDoc>(indexed).find(rangeFilter).explain('executionStats');
    expect(usesIndex(explain.queryPlanner.winningPlan, INDEX)).toBe(true);
    expect(explain.executionStats.nReturned).toBe(expected.length);
    expect(explain.executionStats.totalDocsExamined).toBe(expected.length);
    expect(explain.executionStats.totalKeysExamined).toBeGreaterThanOrEqual(expected.length);
    expect(explain.executionStats.totalKeysExamined).toBeLessThanOrEqual(expected.length + 1);
  });

  it('falls back to a collection scan (COLLSCAN) examining all 10,000 documents without the index', async () => {
    const expected = data.filter(rangeOracle);
    const explain = await db.collection<AnyDoc>(plain).find(rangeFilter).explain('executionStats');
    expect(isCollScan(explain.queryPlanner.winningPlan)).toBe(true);
    expect(explain.executionStats.totalDocsExamined).toBe(N);
    expect(explain.executionStats.totalKeysExamined).toBe(0);
    expect(explain.executionStats.nReturned).toBe(expected.length);
  });

  it('returns the same documents with and without the index, matching a plain JavaScript filter', async () => {
    const expected = data.filter(rangeOracle).map((e) => e._id);
    const withIndex = await db.collection<AnyDoc>(indexed).find(rangeFilter).toArray();
    const without = await db.collection<AnyDoc>(plain).find(rangeFilter).toArray();
    expect(ids(withIndex)).toEqual(expected);
    expect(ids(without)).toEqual(expected);
    // Whole documents, not just ids, come back intact.
    const byId = new Map(data.map((d) => [d._id, d]));
    for (const d of withIndex) expect(d).toEqual(byId.get(d._id as number));
  });

  it('returns correctly sorted and limited results for an indexed equality query sorted by timestamp', async () => {
    const expected = data
      .filter((e) => e.projectId === 'p1' && e.event === 'click')
      .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || a._id - b._id)
      .slice(0, 15)
      .map((e) => e._id);
    for (const name of [indexed, plain]) {
      const got = await db
        .collection(name)
        .find({ projectId: 'p1', event: 'click' })
        .sort({ timestamp: -1, _id: 1 })
        .limit(15)
        .toArray();
      expect(got.map((d) => d._id)).toEqual(expected);
    }
  });

  it('uses the index for a leading $match in aggregate and examines only the matching documents', async () => {
    const expected = data.filter(rangeOracle);
    const pipeline = [{ $match: rangeFilter }, { $group: { _id: '$props.plan', n: { $sum: 1 } } }, { $sort: { _id: 1 } }];
    const explain = await db.collection<AnyDoc>(indexed).aggregate(pipeline).explain('executionStats');
    const part = cursorPart(explain);
    expect(usesIndex(part.queryPlanner.winningPlan, INDEX)).toBe(true);
    expect(part.executionStats.totalDocsExamined).toBe(expected.length);

    const plainExplain = await db.collection<AnyDoc>(plain).aggregate(pipeline).explain('executionStats');
    const plainPart = cursorPart(plainExplain);
    expect(isCollScan(plainPart.queryPlanner.winningPlan)).toBe(true);
    expect(plainPart.executionStats.totalDocsExamined).toBe(N);

    const counts = new Map<string, number>();
    for (const e of expected) counts.set(e.props.plan, (counts.get(e.props.plan) ?? 0) + 1);
    const want = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([_id, n]) => ({ _id, n }));
    expect(await db.collection<AnyDoc>(indexed).aggregate(pipeline).toArray()).toEqual(want);
    expect(await db.collection<AnyDoc>(plain).aggregate(pipeline).toArray()).toEqual(want);
  });

  it('uses the index for $in equality on the leading field and returns the right documents', async () => {
    const filter = { projectId: { $in: ['p1', 'p3'] }, event: 'signup' };
    const expected = data.filter((e) => (e.projectId === 'p1' || e.projectId === 'p3') && e.event === 'signup');
    expect(expected.length).toBeGreaterThan(0);
    const explain = await db.collection<AnyDoc>(indexed).find(filter).explain('executionStats');
    expect(usesIndex(explain.queryPlanner.winningPlan, INDEX)).toBe(true);
    expect(explain.executionStats.totalDocsExamined).toBe(expected.length);
    expect(explain.executionStats.totalKeysExamined).toBeLessThanOrEqual(expected.length + 2);
    expect(ids(await db.collection<AnyDoc>(indexed).find(filter).toArray())).toEqual(expected.map((e) => e._id));
  });

  it('an empty $in on an indexed field matches nothing, alone, after an equality, or sorted', async () => {
    const collection = db.collection<AnyDoc>(indexed);
    expect(await collection.find({ projectId: { $in: [] } }).toArray()).toEqual([]);
    expect(await collection.find({ projectId: 'p1', event: { $in: [] } }).sort({ timestamp: -1 }).toArray()).toEqual([]);
    expect(await collection.countDocuments({ $and: [{ projectId: 'p1' }, { event: { $in: [] } }] })).toBe(0);
    expect(await collection.countDocuments({ projectId: 'p1', event: { $nin: [] } })).toBe(data.filter((e) => e.projectId === 'p1').length);
  });

  it('uses the index for an equality on the index prefix only', async () => {
    const expected = data.filter((e) => e.projectId === 'p4');
    const explain = await db.collection<AnyDoc>(indexed).find({ projectId: 'p4' }).explain('executionStats');
    expect(usesIndex(explain.queryPlanner.winningPlan, INDEX)).toBe(true);
    expect(explain.executionStats.totalDocsExamined).toBe(expected.length);
    expect(ids(await db.collection<AnyDoc>(indexed).find({ projectId: 'p4' }).toArray())).toEqual(expected.map((e) => e._id));
  });

  it('returns correct results for queries on fields that are not indexed or not an index prefix', async () => {
    const cases: Array<[Document, (e: Ev) => boolean]> = [
      [{ 'props.plan': 'pro', distinctId: 'u7' }, (e) => e.props.plan === 'pro' && e.distinctId === 'u7'],
      [{ event: 'purchase', timestamp: { $lt: new Date(t0 + 2 * DAY) } }, (e) => e.event === 'purchase' && e.timestamp.getTime() < t0 + 2 * DAY],
      [{ projectId: 'p0', 'props.plan': { $ne: 'free' }, event: 'share' }, (e) => e.projectId === 'p0' && e.props.plan !== 'free' && e.event === 'share'],
    ];
    for (const [filter, oracle] of cases) {
      const expected = data.filter(oracle).map((e) => e._id);
      expect(expected.length).toBeGreaterThan(0);
      expect(ids(await db.collection<AnyDoc>(indexed).find(filter).toArray())).toEqual(expected);
      expect(ids(await db.collection<AnyDoc>(plain).find(filter).toArray())).toEqual(expected);
    }
  });

  it('counts documents examined in serverStatus: all of them for a scan, only the matches through the index', async () => {
    const expected = data.filter(rangeOracle).length;

    const s0 = await serverCounters();
    const scanned = await db.collection<AnyDoc>(plain).find(rangeFilter).toArray();
    const s1 = await serverCounters();
    expect(scanned).toHaveLength(expected);
    expect(s1.docs - s0.docs).toBe(N);
    expect(s1.keys - s0.keys).toBe(0);

    const viaIndex = await db.collection<AnyDoc>(indexed).find(rangeFilter).toArray();
    const s2 = await serverCounters();
    expect(viaIndex).toHaveLength(expected);
    expect(s2.docs - s1.docs).toBe(expected);
    expect(s2.keys - s1.keys).toBeGreaterThanOrEqual(expected);
    expect(s2.keys - s1.keys).toBeLessThanOrEqual(expected + 1);
  });
});

describe('index maintenance', () => {
  it('keeps index results exact after updates, deletes and inserts change indexed fields', async () => {
    const c = coll('maint');
    await c.createIndex({ projectId: 1, event: 1, timestamp: 1 });
    const rnd = prng(5);
    const t0 = Date.UTC(2024, 5, 1);
    const model = new Map<number, { _id: number; projectId: string; event: string; timestamp: Date }>();
    for (let i = 0; i < 2000; i++) {
      model.set(i, {
        _id: i,
        projectId: rnd() < 0.5 ? 'a' : 'b',
        event: rnd() < 0.5 ? 'x' : 'y',
        // Half-minute offsets keep documents off the range bounds used below (bounds are tested separately).
        timestamp: new Date(t0 + Math.floor(rnd() * 1000) * 60_000 + 30_000),
      });
    }
    await c.insertMany([...model.values()].map((d) => ({ ...d })));

    // Move some documents to a different event, delete others, add new ones.
    await c.updateMany({ _id: { $lt: 300 } }, { $set: { event: 'z' } });
    for (const [id, d] of model) if (id < 300) d.event = 'z';
    await c.deleteMany({ _id: { $gte: 300, $lt: 600 }, projectId: 'a' });
    for (const [id, d] of model) if (id >= 300 && id < 600 && d.projectId === 'a') model.delete(id);
    await c.updateMany({ _id: { $gte: 1500 } }, { $inc: { _unused: 1 }, $set: { timestamp: new Date(t0) } });
    for (const [id, d] of model) if (id >= 1500) d.timestamp = new Date(t0);
    const extra = Array.from({ length: 100 }, (_, k) => ({ _id: 5000 + k, projectId: 'a', event: 'x', timestamp: new Date(t0 + k * 60_000) }));
    await c.insertMany(extra.map((d) => ({ ...d })));
    for (const d of extra) model.set(d._id, d);
    // A string that would sort inside the range if types were ignored must not match a Date range.
    await c.insertOne({ _id: 9999, projectId: 'a', event: 'x', timestamp: new Date(t0 + 5 * 60_000).toISOString() });

    const lo = new Date(t0);
    const hi = new Date(t0 + 200 * 60_000);
    for (const [p, e] of [['a', 'x'], ['b', 'y'], ['a', 'z'], ['b', 'z']] as const) {
      const filter = { projectId: p, event: e, timestamp: { $gte: lo, $lt: hi } };
      const expected = [...model.values()]
        .filter((d) => d.projectId === p && d.event === e && d.timestamp >= lo && d.timestamp < hi)
        .map((d) => d._id)
        .sort((x, y) => x - y);
      expect(expected.length).toBeGreaterThan(0);
      const got = (await c.find(filter).toArray()).map((d) => d._id as number).sort((x, y) => x - y);
      expect(got).toEqual(expected);
      const explain = await c.find(filter).explain('executionStats');
      expect(usesIndex(explain.queryPlanner.winningPlan, 'projectId_1_event_1_timestamp_1')).toBe(true);
      expect(explain.executionStats.totalDocsExamined).toBe(expected.length);
    }
  });

  it('does not fetch documents lying on an exclusive range bound ($gt/$lt)', async () => {
    const c = coll('bounds');
    await c.createIndex({ p: 1, t: 1 });
    await c.insertMany([1, 2, 3, 4, 5].map((t) => ({ p: 'a', t })));
    const cases: Array<[Document, number[]]> = [
      [{ p: 'a', t: { $gte: 2, $lt: 4 } }, [2, 3]],
      [{ p: 'a', t: { $gt: 2, $lte: 4 } }, [3, 4]],
      [{ p: 'a', t: { $gt: 1, $lt: 5 } }, [2, 3, 4]],
    ];
    for (const [filter, want] of cases) {
      expect((await c.find(filter).sort({ t: 1 }).toArray()).map((d) => d.t)).toEqual(want);
      const explain = await c.find(filter).explain('executionStats');
      expect(usesIndex(explain.queryPlanner.winningPlan, 'p_1_t_1')).toBe(true);
      expect(explain.executionStats.nReturned).toBe(want.length);
      expect(explain.executionStats.totalDocsExamined).toBe(want.length);
    }
  });

  it('returns each document once from a multikey index even when several of its elements match', async () => {
    const c = coll('multikey');
    await c.createIndex({ tags: 1 });
    await c.insertMany([
      { _id: 1, tags: ['a', 'b'] },
      { _id: 2, tags: ['b', 'c'] },
      { _id: 3, tags: ['c'] },
      { _id: 4, tags: 'a' },
      { _id: 5, tags: ['a', 'a', 'b'] },
    ]);
    const got = await c.find({ tags: { $in: ['a', 'b'] } }).toArray();
    expect(got.map((d) => d._id).sort()).toEqual([1, 2, 4, 5]);
    const explain = await c.find({ tags: { $in: ['a', 'b'] } }).explain('executionStats');
    expect(usesIndex(explain.queryPlanner.winningPlan, 'tags_1')).toBe(true);
    expect(explain.executionStats.nReturned).toBe(4);
  });

  it('matches integers and doubles of equal value through a numeric index range', async () => {
    const c = coll('numeric');
    await c.createIndex({ v: 1 });
    await c.insertMany([
      { _id: 1, v: 5 },
      { _id: 2, v: new Double(5) },
      { _id: 3, v: Long.fromNumber(5) },
      { _id: 4, v: 5.5 },
      { _id: 5, v: 6 },
      { _id: 6, v: '5' },
    ]);
    expect((await c.find({ v: 5 }).toArray()).map((d) => d._id).sort()).toEqual([1, 2, 3]);
    expect((await c.find({ v: { $gte: 4.5, $lt: 6 } }).toArray()).map((d) => d._id).sort()).toEqual([1, 2, 3, 4]);
  });
});

describe('TTL indexes', () => {
  let ttl: TestStore;

  beforeAll(async () => {
    ttl = await startTestStore({ ttlMonitorIntervalMs: 200 });
  });

  afterAll(async () => {
    await ttl?.dispose();
  });

  it('removes expired documents and keeps fresh ones, non-dates and documents without the field', async () => {
    const c = ttl.client.db('ttl_tests').collection<AnyDoc>('sessions');
    await c.createIndex({ createdAt: 1 }, { expireAfterSeconds: 60 });
    const idx = (await c.listIndexes().toArray()).find((i) => i.name === 'createdAt_1');
    expect(idx?.expireAfterSeconds).toBe(60);

    const now = Date.now();
    await c.insertMany([
      { _id: 'old1', createdAt: new Date(now - 3_600_000) },
      { _id: 'old2', createdAt: new Date(now - 120_000) },
      { _id: 'oldArray', createdAt: [new Date(now + 3_600_000), new Date(now - 3_600_000)] },
      { _id: 'fresh', createdAt: new Date(now) },
      { _id: 'future', createdAt: new Date(now + 3_600_000) },
      { _id: 'string', createdAt: new Date(now - 3_600_000).toISOString() },
      { _id: 'number', createdAt: now - 3_600_000 },
      { _id: 'missing' },
    ]);
    const expired = ['old1', 'old2', 'oldArray'];
    const remaining = await pollUntil(
      async () => (await c.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as string),
      (left) => expired.every((id) => !left.includes(id)),
      10_000,
    );
    expect(remaining.sort()).toEqual(['fresh', 'future', 'missing', 'number', 'string']);
  });

  it('expires a document at its own expireAt time with expireAfterSeconds: 0', async () => {
    const c = ttl.client.db('ttl_tests').collection<AnyDoc>('scheduled');
    await c.createIndex({ expireAt: 1 }, { expireAfterSeconds: 0 });
    const now = Date.now();
    await c.insertMany([
      { _id: 'soon', expireAt: new Date(now + 1_500) },
      { _id: 'later', expireAt: new Date(now + 3_600_000) },
    ]);
    expect(await c.countDocuments({ _id: 'soon' })).toBe(1);
    const left = await pollUntil(
      async () => (await c.find().toArray()).map((d) => d._id),
      (ids) => !ids.includes('soon'),
      10_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(now + 1_500);
    expect(left).toEqual(['later']);
  });
});
