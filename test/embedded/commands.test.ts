import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Long, MongoClient, MongoServerError, ReadConcern, UUID, type Db, type Document } from 'mongodb';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { pollUntil, rejection } from '../helpers/waiting.ts';

let ts: TestStore;
let admin: Db;
let counter = 0;

function uniqueName(prefix: string) {
  counter += 1;
  return `${prefix}_${counter}`;
}

beforeAll(async () => {
  ts = await startTestStore();
  admin = ts.client.db('admin');
});

afterAll(async () => {
  await ts?.dispose();
});

describe('handshake and server information', () => {
  it('answers ping with ok: 1', async () => {
    expect(await admin.command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await ts.client.db('any_db').command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('hello describes a writable standalone primary with MongoDB 7 limits', async () => {
    const hello = await admin.command({ hello: 1 });
    expect(hello.ok).toBe(1);
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(hello.maxMessageSizeBytes).toBe(48_000_000);
    expect(hello.maxWriteBatchSize).toBe(100_000);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
    expect(hello.minWireVersion).toBeLessThanOrEqual(hello.maxWireVersion);
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(Math.abs((hello.localTime as Date).getTime() - Date.now())).toBeLessThan(60_000);
    // Sessions are only usable by drivers when the server advertises a session timeout.
    expect(typeof hello.logicalSessionTimeoutMinutes).toBe('number');
    // A standalone reports no replica set name.
    expect(hello.setName).toBeUndefined();
    expect(hello.msg).toBeUndefined();
  });

  it('answers the legacy isMaster/ismaster command with ismaster: true', async () => {
    for (const cmd of [{ isMaster: 1 }, { ismaster: 1 }]) {
      const res = await admin.command(cmd);
      expect(res.ok).toBe(1);
      expect(res.ismaster).toBe(true);
      expect(res.maxBsonObjectSize).toBe(16 * 1024 * 1024);
      expect(res.maxWireVersion).toBeGreaterThanOrEqual(17);
    }
  });

  it('buildInfo reports a 7.x version', async () => {
    const info = await admin.command({ buildInfo: 1 });
    expect(info.ok).toBe(1);
    expect(typeof info.version).toBe('string');
    expect(info.version.startsWith('7.')).toBe(true);
    expect(Array.isArray(info.versionArray)).toBe(true);
    expect(info.versionArray[0]).toBe(7);
  });

  it('serverStatus reports version, uptime, connections, opcounters and query executor metrics', async () => {
    const status = await admin.command({ serverStatus: 1 });
    expect(status.ok).toBe(1);
    expect(String(status.version).startsWith('7.')).toBe(true);
    expect(typeof status.uptime).toBe('number');
    expect(status.localTime).toBeInstanceOf(Date);
    expect(Number(status.connections.current)).toBeGreaterThanOrEqual(1);
    expect(Number(status.metrics.queryExecutor.scannedObjects)).toBeGreaterThanOrEqual(0);
    expect(Number(status.metrics.queryExecutor.scanned)).toBeGreaterThanOrEqual(0);
    expect(Number(status.opcounters.query)).toBeGreaterThanOrEqual(0);
  });

  it('serverStatus names the process mongod, as a standalone MongoDB server does', async () => {
    const status = await admin.command({ serverStatus: 1 });
    expect(status.process).toBe('mongod');
  });

  it('serverStatus counters increase after inserts, queries and collection scans', async () => {
    const db = ts.client.db('cmd_counters');
    const c = db.collection(uniqueName('c'));
    const s0 = await admin.command({ serverStatus: 1 });
    await c.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    await c.find({ a: { $gt: 0 } }).toArray();
    const s1 = await admin.command({ serverStatus: 1 });
    expect(Number(s1.opcounters.insert) - Number(s0.opcounters.insert)).toBeGreaterThanOrEqual(1);
    expect(Number(s1.opcounters.query) - Number(s0.opcounters.query)).toBeGreaterThanOrEqual(1);
    expect(
      Number(s1.metrics.queryExecutor.scannedObjects) - Number(s0.metrics.queryExecutor.scannedObjects),
    ).toBeGreaterThanOrEqual(3);
    expect(Number(s1.uptime)).toBeGreaterThanOrEqual(Number(s0.uptime));
  });

  it('rejects an unknown command with CommandNotFound (code 59)', async () => {
    const err = await rejection(admin.command({ definitelyNotACommand: 1 }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(59);
    expect(err.codeName).toBe('CommandNotFound');
  });
});

describe('databases and collections', () => {
  it('listDatabases includes a database once it holds data, with size information', async () => {
    const name = uniqueName('cmd_listdb');
    await ts.client.db(name).collection('x').insertOne({ a: 1 });
    const res = await admin.admin().listDatabases();
    const entry = res.databases.find((d) => d.name === name);
    expect(entry).toBeDefined();
    expect(typeof entry!.sizeOnDisk).toBe('number');
    expect(entry!.empty).toBe(false);
    expect(typeof res.totalSize).toBe('number');
  });

  it('listDatabases supports nameOnly and a name filter', async () => {
    const name = uniqueName('cmd_listdb_filter');
    await ts.client.db(name).collection('x').insertOne({ a: 1 });
    const res = await admin.command({ listDatabases: 1, nameOnly: true, filter: { name } });
    expect(res.ok).toBe(1);
    expect(res.databases).toEqual([{ name }]);
  });

  it('listDatabases does not list a database that has never been written to', async () => {
    const res = await admin.admin().listDatabases();
    expect(res.databases.map((d) => d.name)).not.toContain('cmd_never_written');
  });

  it('keeps collections of the same name in different databases separate', async () => {
    const a = ts.client.db(uniqueName('cmd_iso_a')).collection('same');
    const b = ts.client.db(uniqueName('cmd_iso_b')).collection('same');
    await a.insertOne({ from: 'a' });
    expect(await b.countDocuments()).toBe(0);
    expect(await a.countDocuments()).toBe(1);
  });

  it('listCollections reports collections with type and options, and filters by name', async () => {
    const db = ts.client.db(uniqueName('cmd_listcoll'));
    await db.createCollection('alpha');
    await db.collection('beta').insertOne({ b: 1 });
    await db.createCollection('gamma');
    const all = await db.listCollections({}, { nameOnly: false }).toArray();
    expect(all.map((c) => c.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
    for (const c of all) {
      expect(c.type).toBe('collection');
      expect(c.options).toEqual({});
    }
    const only = await db.listCollections({ name: 'beta' }, { nameOnly: false }).toArray();
    expect(only).toHaveLength(1);
    expect(only[0]!.name).toBe('beta');
    expect(only[0]).toMatchObject({ type: 'collection', info: { readOnly: false } });
    expect(only[0]!.idIndex).toMatchObject({ key: { _id: 1 }, name: '_id_' });
    const some = await db.listCollections({ name: { $in: ['alpha', 'gamma', 'zeta'] } }).toArray();
    expect(some.map((c) => c.name).sort()).toEqual(['alpha', 'gamma']);
  });

  it('listCollections with nameOnly returns only name and type', async () => {
    const db = ts.client.db(uniqueName('cmd_nameonly'));
    await db.createCollection('one');
    await db.createCollection('two');
    const list = await db.listCollections({}, { nameOnly: true }).toArray();
    expect(list.map((c) => c.name).sort()).toEqual(['one', 'two']);
    for (const c of list) {
      expect(c.type).toBe('collection');
      expect(Object.keys(c).sort()).toEqual(['name', 'type']);
    }
  });

  it('listCollections on a database that does not exist returns nothing', async () => {
    expect(await ts.client.db('cmd_no_such_db').listCollections().toArray()).toEqual([]);
  });

  it('create makes an empty collection and a second create fails with NamespaceExists (code 48)', async () => {
    const db = ts.client.db(uniqueName('cmd_create'));
    const res = await db.command({ create: 'things' });
    expect(res.ok).toBe(1);
    expect((await db.listCollections({ name: 'things' }).toArray()).length).toBe(1);
    expect(await db.collection('things').countDocuments()).toBe(0);
    const err = await rejection(db.command({ create: 'things' }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(48);
    expect(err.codeName).toBe('NamespaceExists');
    const err2 = await rejection(db.createCollection('things'));
    expect(err2.code).toBe(48);
  });

  it('drop removes a collection with its documents and indexes; dropping a missing collection does not throw', async () => {
    const db = ts.client.db(uniqueName('cmd_drop'));
    const c = db.collection('gone');
    await c.insertMany([{ a: 1 }, { a: 2 }]);
    await c.createIndex({ a: 1 });
    expect(await c.drop()).toBe(true);
    expect(await db.listCollections({ name: 'gone' }).toArray()).toEqual([]);
    expect(await c.countDocuments()).toBe(0);
    await c.insertOne({ a: 3 });
    const names = (await c.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
    await db.collection('never_there').drop();
  });

  it('dropDatabase removes the database and all of its collections', async () => {
    const name = uniqueName('cmd_dropdb');
    const db = ts.client.db(name);
    await db.collection('a').insertOne({ x: 1 });
    await db.collection('b').insertOne({ x: 2 });
    expect(await db.dropDatabase()).toBe(true);
    expect(await db.listCollections().toArray()).toEqual([]);
    const dbs = await admin.admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).not.toContain(name);
    expect(await db.collection('a').countDocuments()).toBe(0);
  });
});

describe('index commands', () => {
  it('createIndexes names indexes by their keys, and listIndexes reports them with _id_', async () => {
    const db = ts.client.db('cmd_indexes');
    const c = db.collection(uniqueName('ix'));
    await c.insertOne({ a: 1, b: 2 });
    const names = await c.createIndexes([
      { key: { a: 1, b: -1 } },
      { key: { email: 1 }, name: 'by_email', unique: true },
    ]);
    expect(names).toEqual(['a_1_b_-1', 'by_email']);
    const list = await c.listIndexes().toArray();
    const byName = new Map(list.map((i) => [i.name as string, i]));
    expect([...byName.keys()].sort()).toEqual(['_id_', 'a_1_b_-1', 'by_email']);
    expect(byName.get('_id_')).toMatchObject({ v: 2, key: { _id: 1 } });
    expect(byName.get('a_1_b_-1')).toMatchObject({ v: 2, key: { a: 1, b: -1 } });
    expect(byName.get('a_1_b_-1')!.unique).toBeUndefined();
    expect(byName.get('by_email')).toMatchObject({ key: { email: 1 }, unique: true });
  });

  it('createIndexes reports index counts and is a no-op for an identical index', async () => {
    const db = ts.client.db('cmd_indexes');
    const name = uniqueName('ix');
    await db.collection(name).insertOne({ a: 1 });
    const r1 = await db.command({ createIndexes: name, indexes: [{ key: { a: 1 }, name: 'a_1' }] });
    expect(r1).toMatchObject({ ok: 1, numIndexesBefore: 1, numIndexesAfter: 2 });
    const r2 = await db.command({ createIndexes: name, indexes: [{ key: { a: 1 }, name: 'a_1' }] });
    expect(r2).toMatchObject({ ok: 1, numIndexesBefore: 2, numIndexesAfter: 2 });
    expect((await db.collection(name).listIndexes().toArray()).length).toBe(2);
  });

  it('createIndexes on a missing collection creates the collection', async () => {
    const db = ts.client.db('cmd_indexes');
    const name = uniqueName('ix_auto');
    const res = await db.command({ createIndexes: name, indexes: [{ key: { z: 1 }, name: 'z_1' }] });
    expect(res.ok).toBe(1);
    expect(res.createdCollectionAutomatically).toBe(true);
    expect((await db.listCollections({ name }).toArray()).length).toBe(1);
  });

  it('rejects an index whose name is taken by different keys (code 86) or whose keys exist under another name (code 85)', async () => {
    const db = ts.client.db('cmd_indexes');
    const c = db.collection(uniqueName('ix'));
    await c.createIndex({ a: 1 }, { name: 'my_index' });
    const e1 = await rejection(c.createIndex({ b: 1 }, { name: 'my_index' }));
    expect(e1).toBeInstanceOf(MongoServerError);
    expect(e1.code).toBe(86);
    const e2 = await rejection(c.createIndex({ a: 1 }, { name: 'other_name' }));
    expect(e2).toBeInstanceOf(MongoServerError);
    expect(e2.code).toBe(85);
  });

  it('dropIndexes drops by name, by key pattern, by a list of names, and with "*" keeps only _id_', async () => {
    const db = ts.client.db('cmd_indexes');
    const name = uniqueName('ix');
    const c = db.collection(name);
    await c.createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: 1 } }, { key: { d: 1 } }, { key: { e: 1 } }, { key: { f: 1 } }]);
    const names = async () => (await c.listIndexes().toArray()).map((i) => i.name as string).sort();

    await c.dropIndex('a_1');
    expect(await names()).toEqual(['_id_', 'b_1', 'c_1', 'd_1', 'e_1', 'f_1']);

    const byKey = await db.command({ dropIndexes: name, index: { b: 1 } });
    expect(byKey.ok).toBe(1);
    expect(await names()).toEqual(['_id_', 'c_1', 'd_1', 'e_1', 'f_1']);

    await db.command({ dropIndexes: name, index: ['c_1', 'd_1'] });
    expect(await names()).toEqual(['_id_', 'e_1', 'f_1']);

    await c.dropIndexes();
    expect(await names()).toEqual(['_id_']);
    expect(await c.countDocuments()).toBe(0);
  });

  it('refuses to drop the _id_ index and reports a missing index as IndexNotFound (code 27)', async () => {
    const db = ts.client.db('cmd_indexes');
    const c = db.collection(uniqueName('ix'));
    await c.insertOne({ a: 1 });
    const e1 = await rejection(c.dropIndex('_id_'));
    expect(e1).toBeInstanceOf(MongoServerError);
    expect(e1.code).toBe(72);
    const e2 = await rejection(c.dropIndex('no_such_index'));
    expect(e2).toBeInstanceOf(MongoServerError);
    expect(e2.code).toBe(27);
    expect(e2.codeName).toBe('IndexNotFound');
  });
});

describe('cursors and sessions', () => {
  it('killCursors kills an open cursor and a later getMore fails with CursorNotFound (code 43)', async () => {
    const db = ts.client.db('cmd_cursors');
    const name = uniqueName('k');
    await db.collection(name).insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const first = await db.command({ find: name, filter: {}, batchSize: 2 }, { promoteLongs: false });
    expect(first.cursor.firstBatch).toHaveLength(2);
    const id = first.cursor.id as Long;
    expect(Long.isLong(id)).toBe(true);
    expect(id.isZero()).toBe(false);

    const more = await db.command({ getMore: id, collection: name, batchSize: 2 }, { promoteLongs: false });
    expect(more.cursor.nextBatch).toHaveLength(2);
    expect((more.cursor.id as Long).equals(id)).toBe(true);

    const killed = await db.command({ killCursors: name, cursors: [id] }, { promoteLongs: false });
    expect(killed.ok).toBe(1);
    expect((killed.cursorsKilled as Long[]).map(String)).toEqual([id.toString()]);
    expect(killed.cursorsNotFound).toEqual([]);

    const err = await rejection(db.command({ getMore: id, collection: name }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(43);
    expect(err.codeName).toBe('CursorNotFound');
  });

  it('killCursors reports ids it does not know in cursorsNotFound', async () => {
    const db = ts.client.db('cmd_cursors');
    const bogus = Long.fromString('1234567890123');
    const res = await db.command({ killCursors: 'whatever', cursors: [bogus] }, { promoteLongs: false });
    expect(res.ok).toBe(1);
    expect((res.cursorsNotFound as Long[]).map(String)).toEqual([bogus.toString()]);
    expect(res.cursorsKilled).toEqual([]);
  });

  it('returns cursor id 0 when the first batch holds the whole result, and getMore on an exhausted cursor fails with code 43', async () => {
    const db = ts.client.db('cmd_cursors');
    const name = uniqueName('k');
    await db.collection(name).insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    const small = await db.command({ find: name, filter: {}, batchSize: 10 }, { promoteLongs: false });
    expect(small.cursor.firstBatch).toHaveLength(5);
    expect(String(small.cursor.id)).toBe('0');

    const res = await db.command({ find: name, filter: {}, batchSize: 3 }, { promoteLongs: false });
    const id = res.cursor.id as Long;
    const rest = await db.command({ getMore: id, collection: name, batchSize: 100 }, { promoteLongs: false });
    expect(rest.cursor.nextBatch).toHaveLength(2);
    expect(String(rest.cursor.id)).toBe('0');
    const err = await rejection(db.command({ getMore: id, collection: name }));
    expect(err.code).toBe(43);
  });

  it('closing a driver cursor early frees it on the server', async () => {
    const db = ts.client.db('cmd_cursors');
    const name = uniqueName('k');
    await db.collection(name).insertMany(Array.from({ length: 50 }, (_, i) => ({ i })));
    const cursor = db.collection(name).find({}).batchSize(5);
    await cursor.next();
    const id = cursor.id!;
    expect(String(id)).not.toBe('0');
    await cursor.close();
    const err = await rejection(db.command({ getMore: Long.fromValue(id as any), collection: name }));
    expect(err.code).toBe(43);
  });

  it('endSessions accepts session ids', async () => {
    const res = await admin.command({ endSessions: [{ id: new UUID() }, { id: new UUID() }] });
    expect(res.ok).toBe(1);
  });

  it('runs inserts and finds inside an explicit client session', async () => {
    const c = ts.client.db('cmd_sessions').collection(uniqueName('s'));
    const session = ts.client.startSession();
    try {
      await c.insertOne({ _id: 1, v: 'a' } as any, { session });
      await c.insertMany([{ _id: 2 }, { _id: 3 }] as any[], { session });
      await c.updateOne({ _id: 1 } as any, { $set: { v: 'b' } }, { session });
      const docs = await c.find({}, { session }).sort({ _id: 1 }).toArray();
      expect(docs).toEqual([{ _id: 1, v: 'b' }, { _id: 2 }, { _id: 3 }]);
      expect(await c.countDocuments({}, { session })).toBe(3);
      const agg = await c.aggregate([{ $count: 'n' }], { session }).toArray();
      expect(agg).toEqual([{ n: 3 }]);
    } finally {
      await session.endSession();
    }
  });

  it('runs a cursor across several getMores within a session', async () => {
    const c = ts.client.db('cmd_sessions').collection(uniqueName('s'));
    await c.insertMany(Array.from({ length: 40 }, (_, i) => ({ i })));
    await ts.client.withSession(async (session) => {
      const got = await c.find({}, { session, batchSize: 7 }).sort({ i: 1 }).toArray();
      expect(got.map((d) => d.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });
  });
});

describe('read and write concerns and generic command fields', () => {
  it('accepts writeConcern { w: "majority", j: true } on writes', async () => {
    const c = ts.client.db('cmd_concerns').collection(uniqueName('w'));
    const wc = { writeConcern: { w: 'majority' as const, j: true, wtimeoutMS: 5_000 } };
    const r1 = await c.insertOne({ _id: 1, a: 1 } as any, wc);
    expect(r1.acknowledged).toBe(true);
    const r2 = await c.updateOne({ _id: 1 } as any, { $set: { a: 2 } }, wc);
    expect(r2.modifiedCount).toBe(1);
    const r3 = await c.deleteMany({ a: 99 }, wc);
    expect(r3.deletedCount).toBe(0);
    const r4 = await c.bulkWrite([{ insertOne: { document: { _id: 2 } as any } }], wc);
    expect(r4.insertedCount).toBe(1);
    expect(await c.countDocuments()).toBe(2);
  });

  it('accepts readConcern { level: "majority" } and { level: "local" } on reads', async () => {
    const db = ts.client.db('cmd_concerns');
    const name = uniqueName('r');
    await db.collection(name).insertMany([{ a: 1 }, { a: 2 }]);
    const majority = ts.client.db('cmd_concerns', { readConcern: new ReadConcern('majority') }).collection(name);
    expect(await majority.countDocuments()).toBe(2);
    expect((await majority.find({ a: 2 }).toArray()).length).toBe(1);
    expect(await majority.aggregate([{ $match: { a: 1 } }]).toArray()).toHaveLength(1);
    const direct = await db.collection(name).find({}, { readConcern: { level: 'majority' } }).toArray();
    expect(direct).toHaveLength(2);
    const raw = await db.command({ find: name, filter: {}, readConcern: { level: 'local' } });
    expect(raw.cursor.firstBatch).toHaveLength(2);
  });

  it('database-level writeConcern and readConcern options are accepted together', async () => {
    const db = ts.client.db('cmd_concerns', {
      writeConcern: { w: 'majority', j: true },
      readConcern: new ReadConcern('majority'),
    });
    const c = db.collection(uniqueName('rw'));
    await c.insertOne({ v: 1 });
    expect(await c.findOne({}, { projection: { _id: 0 } })).toEqual({ v: 1 });
  });

  it('accepts comment and maxTimeMS fields on commands', async () => {
    const c = ts.client.db('cmd_concerns').collection(uniqueName('m'));
    await c.insertOne({ a: 1 }, { comment: 'hello' });
    const docs = await c.find({}, { comment: 'tagged query', maxTimeMS: 10_000 }).toArray();
    expect(docs).toHaveLength(1);
  });

  it('performs an unacknowledged (w: 0) insert without replying, and the connection keeps working', async () => {
    const client = new MongoClient(ts.store.url, { maxPoolSize: 1, serverSelectionTimeoutMS: 5_000 });
    await client.connect();
    try {
      const c = client.db('cmd_concerns').collection(uniqueName('w0'));
      const res = await c.insertOne({ _id: 'fire-and-forget' } as any, { writeConcern: { w: 0 } });
      expect(res.acknowledged).toBe(false);
      // The next command runs on the same (only) connection; its reply must be its own.
      const ping = await client.db('admin').command({ ping: 1 });
      expect(ping).toMatchObject({ ok: 1 });
      const found = await pollUntil(
        () => c.findOne({ _id: 'fire-and-forget' } as any),
        (d) => d !== null,
      );
      expect(found).toEqual({ _id: 'fire-and-forget' });
    } finally {
      await client.close();
    }
  });
});
