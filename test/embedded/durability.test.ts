import { appendFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Decimal128, Long, MongoServerError, ObjectId, type Document } from 'mongodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import type { EmbeddedStore } from '../../src/embedded/options.ts';
import { startTestStore, tempDataDir, type TestStore } from '../helpers/store.ts';
import { CRASH_DB, DOCS, docFor, killAllWriters, spawnWriter, type WrittenDoc } from './fixtures/crash-writer.ts';
import { waitFor } from '../helpers/waiting.ts';

const dirs: string[] = [];
const open: Array<{ stop(): Promise<void> }> = [];

async function freshDir(): Promise<string> {
  const dir = await tempDataDir('sightline-durability-');
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, extra: { snapshotAfterLogBytes?: number } = {}): Promise<TestStore> {
  const ts = await startTestStore({ dataDir, port: 0, ...extra });
  open.push(ts);
  return ts;
}

afterEach(async () => {
  await killAllWriters();
  // Stop whatever a failed test left running; stop() is idempotent for TestStore and tolerated otherwise.
  for (const s of open.splice(0)) await s.stop().catch(() => {});
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Write-ahead log files, oldest first (names sort by age). */
async function walFiles(dataDir: string): Promise<Array<{ path: string; size: number }>> {
  const walDir = join(dataDir, 'wal');
  const names = (await readdir(walDir)).sort();
  const files: Array<{ path: string; size: number }> = [];
  for (const name of names) {
    const path = join(walDir, name);
    // A running store deletes segments a finished snapshot made obsolete, possibly between readdir and stat.
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info?.isFile()) files.push({ path, size: info.size });
  }
  return files;
}

async function newestWalFile(dataDir: string): Promise<{ path: string; size: number }> {
  const files = await walFiles(dataDir);
  const newest = files.at(-1);
  if (!newest) throw new Error(`no write-ahead log file under ${join(dataDir, 'wal')}`);
  return newest;
}

async function walStats(ts: TestStore): Promise<{ records: number; syncs: number }> {
  const status = await ts.client.db('admin').command({ serverStatus: 1 });
  const wal = status.sightline?.wal;
  expect(wal, 'serverStatus reports sightline.wal').toBeDefined();
  return { records: Number(wal.records), syncs: Number(wal.syncs) };
}

/** Documents with caller-chosen _id values of any type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = { _id?: string | number | ObjectId; [key: string]: any };

const byId = (a: Document, b: Document) => (String(a._id) < String(b._id) ? -1 : String(a._id) > String(b._id) ? 1 : 0);

describe('restart on the same data directory', () => {
  it('keeps documents, collections, indexes, updates, deletes and drops across a restart', async () => {
    const dataDir = await freshDir();
    const first = await start(dataDir);
    const db = first.client.db('app');
    const users = db.collection<AnyDoc>('users');
    const oid = new ObjectId();

    await users.createIndex({ email: 1 }, { unique: true });
    await users.createIndex({ 'profile.city': 1, age: -1 }, { name: 'city_age' });
    await users.createIndex({ age: 1 }, { name: 'age_only' });
    await users.insertMany([
      {
        _id: 1,
        email: 'ada@example.com',
        age: 36,
        profile: { city: 'London', langs: ['en', 'fr'] },
        ref: oid,
        joined: new Date('2024-03-01T12:00:00Z'),
        big: Long.fromString('9007199254740993'),
        price: Decimal128.fromString('19.99'),
        active: true,
        note: null,
      },
      { _id: 2, email: 'bob@example.com', age: 25, profile: { city: 'Paris', langs: [] }, visits: 1 },
      { _id: 3, email: 'cy@example.com', age: 41, profile: { city: 'Berlin', langs: ['de'] }, visits: 1 },
      { _id: 4, email: 'dee@example.com', age: 19, profile: { city: 'Paris', langs: ['fr'] }, visits: 1 },
      { _id: 5, email: 'eve@example.com', age: 52, profile: { city: 'Rome', langs: ['it'] }, visits: 1 },
    ]);
    await users.updateOne({ _id: 2 }, { $set: { 'profile.city': 'Lyon' }, $push: { 'profile.langs': 'es' } } as Document);
    await users.updateMany({ visits: { $exists: true } }, { $inc: { visits: 10 } });
    await users.replaceOne({ _id: 3 }, { email: 'cy@example.com', replaced: true });
    await users.deleteOne({ _id: 4 });
    await users.deleteMany({ age: { $gt: 50 } });
    await users.dropIndex('age_only');

    await db.createCollection('empty_but_created');
    await db.collection<AnyDoc>('temp').insertOne({ gone: true });
    await db.collection<AnyDoc>('temp').drop();
    await db.collection<AnyDoc>('recreated').insertOne({ _id: 'old', v: 1 });
    await db.collection<AnyDoc>('recreated').drop();
    await db.collection<AnyDoc>('recreated').insertOne({ _id: 'new', v: 2 });
    await first.client.db('other').collection<AnyDoc>('things').insertMany([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }]);
    await first.client.db('dropped_db').collection<AnyDoc>('x').insertOne({ y: 1 });
    await first.client.db('dropped_db').dropDatabase();

    const expectedUsers = (await users.find({}).toArray()).sort(byId);
    expect(expectedUsers.map((u) => u._id)).toEqual([1, 2, 3]);
    await first.stop();

    const second = await start(dataDir);
    const db2 = second.client.db('app');
    const users2 = db2.collection<AnyDoc>('users');
    const restoredUsers = (await users2.find({}).toArray()).sort(byId);
    expect(restoredUsers).toEqual(expectedUsers);
    expect(restoredUsers[0]).toMatchObject({ ref: oid, big: Long.fromString('9007199254740993') });
    expect(String(restoredUsers[0]!.price)).toBe('19.99');
    expect(restoredUsers[1]).toMatchObject({ profile: { city: 'Lyon', langs: ['es'] }, visits: 11 });
    expect(restoredUsers[2]).toEqual({ _id: 3, email: 'cy@example.com', replaced: true });

    const names = (await db2.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['empty_but_created', 'recreated', 'users']);
    expect(await db2.collection<AnyDoc>('temp').find({}).toArray()).toEqual([]);
    expect(await db2.collection<AnyDoc>('recreated').find({}).toArray()).toEqual([{ _id: 'new', v: 2 }]);
    expect((await second.client.db('other').collection<AnyDoc>('things').find({}).toArray()).sort(byId)).toEqual([
      { _id: 'a', n: 1 },
      { _id: 'b', n: 2 },
    ]);
    expect(await second.client.db('dropped_db').collection<AnyDoc>('x').find({}).toArray()).toEqual([]);

    const indexes = await users2.listIndexes().toArray();
    const indexNames = indexes.map((i) => i.name).sort();
    expect(indexNames).toEqual(['_id_', 'city_age', 'email_1']);
    expect(indexes.find((i) => i.name === 'email_1')).toMatchObject({ key: { email: 1 }, unique: true });
    expect(indexes.find((i) => i.name === 'city_age')).toMatchObject({ key: { 'profile.city': 1, age: -1 } });

    // The unique index is enforced after the restart, for inserts and for updates.
    await expect(users2.insertOne({ email: 'ada@example.com' })).rejects.toMatchObject({ code: 11000 });
    await expect(users2.updateOne({ _id: 2 }, { $set: { email: 'ada@example.com' } })).rejects.toMatchObject({
      code: 11000,
    });
    // Removed values are free again: the deleted user's email can be reused.
    await users2.insertOne({ _id: 6, email: 'dee@example.com' });
    expect(await users2.countDocuments({})).toBe(4);
  });

  it('keeps all data across restarts after the log was replaced by several snapshots', async () => {
    const dataDir = await freshDir();
    const snapshotAfterLogBytes = 64 * 1024;
    const first = await start(dataDir, { snapshotAfterLogBytes });
    const events = first.client.db('app').collection<AnyDoc>('events');
    await events.createIndex({ key: 1 }, { unique: true });

    const expected = new Map<number, Document>();
    const filler = 'x'.repeat(500);
    // About 2 MB of writes against a 64 KiB threshold: many snapshots, with updates and deletes on both sides of them.
    for (let batch = 0; batch < 40; batch++) {
      const docs = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        return { _id: n, key: `k${n}`, n, filler, version: 0 };
      });
      await events.insertMany(docs);
      for (const d of docs) expected.set(d._id, { ...d });
      const target = batch * 100 + 7;
      await events.updateOne({ _id: target }, { $inc: { version: 1 }, $set: { touched: batch } });
      expected.set(target, { ...expected.get(target)!, version: 1, touched: batch });
      if (batch > 0) {
        const victim = (batch - 1) * 100 + 13;
        await events.deleteOne({ _id: victim });
        expected.delete(victim);
      }
    }
    await events.updateMany({ n: { $lt: 50 } }, { $set: { early: true } });
    for (let n = 0; n < 50; n++) if (expected.has(n)) expected.set(n, { ...expected.get(n)!, early: true });

    await waitFor(
      async () => (await readdir(join(dataDir, 'snapshots')).catch(() => [])).length > 0,
      10_000,
      'a snapshot file under snapshots/',
    );
    // Snapshots bound the log: far less than the ~2 MB written stays in wal/.
    await waitFor(
      async () => (await walFiles(dataDir)).reduce((sum, f) => sum + f.size, 0) <= 512 * 1024,
      10_000,
      'the write-ahead log to shrink below 512 KiB after snapshots',
    );
    await first.stop();

    const sorted = [...expected.values()].sort((a, b) => a._id - b._id);
    for (let round = 0; round < 2; round++) {
      const again = await start(dataDir, { snapshotAfterLogBytes });
      const coll = again.client.db('app').collection<AnyDoc>('events');
      expect(await coll.countDocuments({})).toBe(sorted.length);
      expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual(sorted);
      await expect(coll.insertOne({ key: 'k5' })).rejects.toMatchObject({ code: 11000 });
      await again.stop();
    }
  });
});

describe('torn write-ahead log tail', () => {
  it('starts and keeps every document when garbage bytes were appended to the newest log file after a clean stop', async () => {
    const dataDir = await freshDir();
    const first = await start(dataDir);
    const coll = first.client.db(CRASH_DB).collection<WrittenDoc>(DOCS);
    const written = Array.from({ length: 60 }, (_, i) => docFor('clean', i));
    for (const doc of written) await coll.insertOne(doc);
    await first.stop();

    const newest = await newestWalFile(dataDir);
    await appendFile(newest.path, Buffer.from([0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x42, 0x00, 0x07]));

    const second = await start(dataDir);
    const coll2 = second.client.db(CRASH_DB).collection<WrittenDoc>(DOCS);
    expect(await coll2.find({}).sort({ seq: 1 }).toArray()).toEqual(written);
    await coll2.insertOne(docFor('clean', 60));
    await second.stop();

    const third = await start(dataDir);
    expect(await third.client.db(CRASH_DB).collection(DOCS).countDocuments({})).toBe(61);
  });

  for (const damage of ['garbage appended', 'last bytes cut off'] as const) {
    it(`recovers every complete record after a crash when the newest log file has its ${damage}, and later writes survive the next crash`, async () => {
      const dataDir = await freshDir();
      const count = 120;
      const writer = spawnWriter(dataDir, ['--mode', 'fixed', '--prefix', 'torn', '--count', String(count)]);
      await writer.waitForLine((line) => line === 'done');
      await writer.kill();

      // Killed without a final snapshot, so the acknowledged writes live in the log.
      const newest = await newestWalFile(dataDir);
      expect(newest.size).toBeGreaterThan(0);
      if (damage === 'garbage appended') {
        await appendFile(newest.path, Buffer.from([0xff, 0x00, 0x00, 0x10, 0xab, 0xcd, 0xef, 0x01, 0x02, 0x03, 0x04]));
      } else {
        await truncate(newest.path, newest.size - 5);
      }

      // A second crashing writer recovers the damaged directory and appends after the damaged tail.
      const after = spawnWriter(dataDir, ['--mode', 'fixed', '--prefix', 'after', '--count', '25']);
      await after.waitForLine((line) => line === 'done');
      await after.kill();

      const recovered = await start(dataDir);
      const coll = recovered.client.db(CRASH_DB).collection<WrittenDoc>(DOCS);
      const torn = await coll.find({ prefix: 'torn' }).sort({ seq: 1 }).toArray();
      // Only the very last record can have been damaged by cutting bytes off; everything before it must be there.
      const mustHave = damage === 'garbage appended' ? count : count - 1;
      expect(torn.length).toBeGreaterThanOrEqual(mustHave);
      expect(torn.slice(0, mustHave)).toEqual(Array.from({ length: mustHave }, (_, i) => docFor('torn', i)));
      if (torn.length > mustHave) expect(torn[mustHave]).toEqual(docFor('torn', mustHave));
      expect(await coll.find({ prefix: 'after' }).sort({ seq: 1 }).toArray()).toEqual(
        Array.from({ length: 25 }, (_, i) => docFor('after', i)),
      );
    });
  }
});

describe('data directory lock', () => {
  it('refuses a second store on a directory that a running store holds, and allows it after stop', async () => {
    const dataDir = await freshDir();
    const first = await start(dataDir);
    await first.client.db('app').collection<AnyDoc>('c').insertOne({ _id: 'before' });

    let second: EmbeddedStore | undefined;
    const attempt = startEmbeddedStore({ dataDir, port: 0 }).then((s: EmbeddedStore) => {
      second = s;
      open.push(s);
      return s;
    });
    await expect(attempt).rejects.toThrow(/lock|in use|locked/i);
    expect(second).toBeUndefined();

    // The refused attempt did not disturb the running store or its files.
    await first.client.db('app').collection<AnyDoc>('c').insertOne({ _id: 'after' });
    await first.stop();

    const reopened = await start(dataDir);
    const ids = (await reopened.client.db('app').collection<AnyDoc>('c').find({}).toArray()).map((d) => String(d._id)).sort();
    expect(ids).toEqual(['after', 'before']);
  });

  it('refuses a directory held by another live process and opens it once that process was killed with kill -9', async () => {
    const dataDir = await freshDir();
    const holder = spawnWriter(dataDir, ['--mode', 'fixed', '--prefix', 'held', '--count', '5']);
    await holder.waitForLine((line) => line === 'done');

    await expect(startEmbeddedStore({ dataDir, port: 0 }).then((s: EmbeddedStore) => open.push(s))).rejects.toThrow(
      /lock|in use|locked/i,
    );
    expect(holder.alive).toBe(true);

    await holder.kill();
    const reopened = await start(dataDir);
    expect(await reopened.client.db(CRASH_DB).collection<WrittenDoc>(DOCS).find({}).sort({ seq: 1 }).toArray()).toEqual(
      Array.from({ length: 5 }, (_, i) => docFor('held', i)),
    );
  });
});

describe('group commit', () => {
  it('shares fsyncs between concurrent acknowledged writes', async () => {
    const ts = await start(await freshDir());
    const coll = ts.client.db('app').collection<AnyDoc>('concurrent');
    // Open the connections first so the measured writes really overlap.
    await Promise.all(Array.from({ length: 50 }, (_, i) => coll.insertOne({ warmup: i })));

    const before = await walStats(ts);
    await Promise.all(Array.from({ length: 50 }, (_, i) => coll.insertOne({ i, payload: 'p'.repeat(100) })));
    const after = await walStats(ts);

    const records = after.records - before.records;
    const syncs = after.syncs - before.syncs;
    expect(records).toBeGreaterThanOrEqual(50);
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(records);
    expect(await coll.countDocuments({ i: { $exists: true } })).toBe(50);
  });
});
