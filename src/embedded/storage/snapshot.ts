import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize, type Timestamp, type UUID } from 'bson';
import { frame, numberedFiles, readFrames, syncDirectory } from './frames.ts';
import type { IndexSpec } from '../engine/indexes.ts';
import type { Doc } from '../engine/types.ts';

/**
 * A snapshot is the whole catalog at a point in the log: a header frame (the first log segment it does
 * not cover, the change sequence number, collection metadata), one frame per document, and an end
 * frame. It is written to a temporary name, fsynced and renamed, so a snapshot file either is complete
 * or does not exist.
 */
const TAG = { header: 0x48, collection: 0x43, doc: 0x44, end: 0x45 } as const;
const WRITE_CHUNK = 4 * 1024 * 1024;
const DOCS_PER_YIELD = 2_000;

export interface SnapshotCollection {
  db: string;
  coll: string;
  options: Doc;
  uuid: UUID;
  indexes: IndexSpec[];
  docs: Doc[];
}

export interface SnapshotHeader {
  walSegment: number;
  seq: number;
  time: Timestamp;
}

function tagged(tag: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = tag;
  out.set(body, 1);
  return frame(out);
}

export function snapshotName(walSegment: number): string {
  return `${String(walSegment).padStart(16, '0')}.snap`;
}

/** Writes a snapshot of the given (immutable) documents, yielding to the event loop as it goes. */
export async function writeSnapshot(dir: string, header: SnapshotHeader, collections: SnapshotCollection[]): Promise<number> {
  const finalPath = join(dir, snapshotName(header.walSegment));
  const tmpPath = `${finalPath}.tmp`;
  const fh = await open(tmpPath, 'w');
  let bytes = 0;
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const push = async (buf: Buffer) => {
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= WRITE_CHUNK) await drain();
    };
    const drain = async () => {
      if (pending.length === 0) return;
      const data = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      for (let written = 0; written < data.length; ) written += (await fh.write(data, written)).bytesWritten;
      bytes += data.length;
    };
    await push(tagged(TAG.header, serialize({ walSegment: header.walSegment, seq: header.seq, time: header.time })));
    let count = 0;
    for (const c of collections) {
      await push(tagged(TAG.collection, serialize({ db: c.db, coll: c.coll, options: c.options, uuid: c.uuid, indexes: c.indexes })));
      for (const doc of c.docs) {
        await push(tagged(TAG.doc, serialize(doc)));
        if (++count % DOCS_PER_YIELD === 0) await new Promise((r) => setImmediate(r));
      }
    }
    await push(tagged(TAG.end, serialize({ count })));
    await drain();
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmpPath, finalPath);
  await syncDirectory(dir);
  return bytes;
}

export interface SnapshotReader {
  onHeader(header: SnapshotHeader): void;
  onCollection(c: Omit<SnapshotCollection, 'docs'>): void;
  onDocument(doc: Doc, size: number): void;
}

/** The newest snapshot's number (the first log segment it does not cover), if there is one. */
export async function newestSnapshot(dir: string): Promise<number | undefined> {
  return (await numberedFiles(dir, '.snap')).at(-1);
}

/** Loads a snapshot; throws if it is incomplete or damaged. */
export async function readSnapshot(dir: string, walSegment: number, reader: SnapshotReader): Promise<void> {
  let ended = false;
  let count = 0;
  const scan = await readFrames(join(dir, snapshotName(walSegment)), (payload) => {
    const body = payload.subarray(1);
    switch (payload[0]) {
      case TAG.header: {
        const h = deserialize(body);
        reader.onHeader({ walSegment: h.walSegment as number, seq: h.seq as number, time: h.time as Timestamp });
        return;
      }
      case TAG.collection: {
        const c = deserialize(body);
        reader.onCollection({ db: c.db, coll: c.coll, options: c.options, uuid: c.uuid, indexes: c.indexes });
        return;
      }
      case TAG.doc:
        count++;
        reader.onDocument(deserialize(body) as Doc, body.length);
        return;
      case TAG.end:
        ended = deserialize(body).count === count;
        return;
      default:
        throw new Error(`unknown snapshot frame tag ${payload[0]}`);
    }
  });
  if (!ended || scan.validBytes !== scan.fileBytes) throw new Error(`snapshot ${snapshotName(walSegment)} is incomplete or damaged`);
}

/** Removes snapshots other than `keep`, and leftovers of interrupted snapshot writes. */
export async function removeOtherSnapshots(dir: string, keep: number): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name !== snapshotName(keep)) await rm(join(dir, name), { force: true });
  }
}

