import { connect, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import { Binary, calculateObjectSize, deserialize, serialize, setInternalBufferSize, type Document } from 'bson';
import { MongoClient, type ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from '../helpers/store.ts';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;
const MAX_MESSAGE_SIZE = 48_000_000;
const MiB = 1024 * 1024;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = { _id?: string | number | ObjectId; [key: string]: any };

let nextRequestId = 1000;

function header(messageLength: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(messageLength, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** A complete message: header (with the real length) + body. */
function message(opCode: number, body: Buffer, requestId = nextRequestId++): Buffer {
  return Buffer.concat([header(16 + body.length, requestId, opCode), body]);
}

/** Serializes any size of document: bson's shared serialization buffer holds 17 MiB unless it is enlarged. */
function toBson(doc: Document): Buffer {
  const size = calculateObjectSize(doc);
  if (size <= 16 * MiB) return Buffer.from(serialize(doc));
  setInternalBufferSize(size + 1024);
  try {
    return Buffer.from(serialize(doc));
  } finally {
    setInternalBufferSize(17 * MiB);
  }
}

function opMsgBody(doc: Document, flagBits = 0, sequence?: { identifier: string; docs: Document[] }): Buffer {
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(flagBits >>> 0, 0);
  const parts = [flags, Buffer.from([0]), Buffer.from(serialize(doc))];
  if (sequence) {
    const payload = Buffer.concat([
      Buffer.from(`${sequence.identifier}\0`, 'utf8'),
      ...sequence.docs.map(toBson),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  return Buffer.concat(parts);
}

function opQueryBody(fullCollectionName: string, query: Document): Buffer {
  const flags = Buffer.alloc(4);
  const ns = Buffer.from(`${fullCollectionName}\0`, 'utf8');
  const skipReturn = Buffer.alloc(8);
  skipReturn.writeInt32LE(0, 0);
  skipReturn.writeInt32LE(-1, 4);
  return Buffer.concat([flags, ns, skipReturn, Buffer.from(serialize(query))]);
}

/** A raw TCP connection that buffers everything it receives and remembers whether the peer closed it. */
class RawConnection {
  private buffered = Buffer.alloc(0);
  closed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.notify();
    });
    // A reset is also the server dropping the connection; errors must not crash the test worker.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          done();
          reject(error);
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(run);
      };
      this.listeners.add(run);
      run();
    });
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  /** The next complete message the server sent; fails if the connection closes first. */
  nextMessage(timeoutMs = 5_000): Promise<Buffer> {
    return this.waitFor(
      () => {
        if (this.buffered.length >= 4) {
          const length = this.buffered.readInt32LE(0);
          if (length >= 16 && this.buffered.length >= length) {
            const msg = this.buffered.subarray(0, length);
            this.buffered = this.buffered.subarray(length);
            return msg;
          }
        }
        if (this.closed) throw new Error('connection closed before a complete reply arrived');
        return undefined;
      },
      timeoutMs,
      'a reply',
    );
  }

  /** Resolves once the server closed the connection (anything it sent first stays readable). */
  closedByServer(timeoutMs = 5_000): Promise<true> {
    return this.waitFor(() => (this.closed ? true : undefined), timeoutMs, 'the server to close the connection');
  }

  /** Any complete replies received before the close, decoded as OP_MSG bodies. */
  receivedOpMsgDocs(): Document[] {
    const docs: Document[] = [];
    let buf = this.buffered;
    while (buf.length >= 21 && buf.readInt32LE(0) <= buf.length) {
      const length = buf.readInt32LE(0);
      if (buf.readInt32LE(12) === OP_MSG) docs.push(deserialize(buf.subarray(21, length)));
      buf = buf.subarray(length);
    }
    return docs;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function parseOpMsg(msg: Buffer): { flagBits: number; doc: Document; responseTo: number } {
  expect(msg.readInt32LE(12)).toBe(OP_MSG);
  const flagBits = msg.readUInt32LE(16);
  expect(msg[20]).toBe(0);
  const docLength = msg.readInt32LE(21);
  return { flagBits, doc: deserialize(msg.subarray(21, 21 + docLength)), responseTo: msg.readInt32LE(8) };
}

async function command(conn: RawConnection, doc: Document, sequence?: { identifier: string; docs: Document[] }) {
  const requestId = nextRequestId++;
  conn.write(message(OP_MSG, opMsgBody(doc, 0, sequence), requestId));
  const reply = parseOpMsg(await conn.nextMessage(15_000));
  expect(reply.responseTo).toBe(requestId);
  return reply.doc;
}

let ts: TestStore;
let earlyClient: MongoClient;
const seeded = Array.from({ length: 20 }, (_, i) => ({ _id: i, name: `seed-${i}`, tags: ['a', 'b'], n: i * 1.5 }));

beforeAll(async () => {
  ts = await startTestStore();
  earlyClient = new MongoClient(ts.store.url, { serverSelectionTimeoutMS: 5_000 });
  await earlyClient.connect();
  await earlyClient.db('wire').collection<AnyDoc>('seeded').insertMany(seeded);
});

afterAll(async () => {
  await earlyClient?.close();
  await ts?.dispose();
});

/** The client connected before the bad message still works, a new client works, and stored data is intact. */
async function expectStoreHealthy(): Promise<void> {
  expect(await earlyClient.db('wire').collection<AnyDoc>('seeded').find({}).sort({ _id: 1 }).toArray()).toEqual(seeded);
  const lateClient = new MongoClient(ts.store.url, { serverSelectionTimeoutMS: 5_000 });
  try {
    await lateClient.connect();
    expect(await lateClient.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await lateClient.db('wire').collection<AnyDoc>('seeded').countDocuments({})).toBe(seeded.length);
  } finally {
    await lateClient.close();
  }
}

describe('malformed wire messages', () => {
  const cases: Array<{ name: string; bytes: () => Buffer }> = [
    {
      name: 'a message whose declared length is smaller than the 16-byte header',
      bytes: () => Buffer.concat([header(8, nextRequestId++, OP_MSG), Buffer.alloc(16)]),
    },
    {
      name: 'a message whose declared length exceeds 48,000,000 bytes',
      bytes: () => Buffer.concat([header(MAX_MESSAGE_SIZE + 1, nextRequestId++, OP_MSG), opMsgBody({ ping: 1, $db: 'admin' })]),
    },
    {
      name: 'a message with an unknown opCode',
      bytes: () => message(4242, opMsgBody({ ping: 1, $db: 'admin' })),
    },
    {
      name: 'an OP_MSG whose body is not valid BSON',
      // A 12-byte "document" with element type 0x99, which does not exist.
      bytes: () =>
        message(OP_MSG, Buffer.concat([Buffer.alloc(4), Buffer.from([0, 12, 0, 0, 0, 0x99, 0x61, 0, 1, 2, 3, 4, 0])])),
    },
    {
      name: 'an OP_MSG with an unknown required flag bit',
      bytes: () => message(OP_MSG, opMsgBody({ ping: 1, $db: 'admin' }, 1 << 5)),
    },
    {
      name: 'an OP_COMPRESSED message although no compression was negotiated',
      bytes: () => {
        const inner = opMsgBody({ ping: 1, $db: 'admin' });
        const prefix = Buffer.alloc(9);
        prefix.writeInt32LE(OP_MSG, 0);
        prefix.writeInt32LE(inner.length, 4);
        prefix.writeUInt8(2, 8); // zlib
        return message(OP_COMPRESSED, Buffer.concat([prefix, deflateSync(inner)]));
      },
    },
  ];

  for (const { name, bytes } of cases) {
    it(`closes the connection that sent ${name} and keeps serving everyone else`, async () => {
      const conn = await RawConnection.open(ts.store.port);
      try {
        // The connection works before the bad message.
        expect(await command(conn, { ping: 1, $db: 'admin' })).toMatchObject({ ok: 1 });
        conn.write(bytes());
        await conn.closedByServer();
        // If the server explained itself before closing, it reported a failure.
        for (const doc of conn.receivedOpMsgDocs()) expect(doc.ok).toBe(0);
      } finally {
        conn.destroy();
      }
      await expectStoreHealthy();
    });
  }
});

describe('message framing', () => {
  it('answers messages split into many small writes and several messages sent in one write', async () => {
    const conn = await RawConnection.open(ts.store.port);
    const bytes = message(OP_MSG, opMsgBody({ find: 'seeded', filter: {}, sort: { _id: 1 }, $db: 'wire' }));
    // The length prefix itself arrives in pieces, then the body in uneven chunks.
    for (let at = 0; at < bytes.length; at += 3) {
      conn.write(bytes.subarray(at, at + 3));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(parseOpMsg(await conn.nextMessage()).doc.cursor.firstBatch).toEqual(seeded);
    const pings = [1, 2, 3].map((i) => message(OP_MSG, opMsgBody({ ping: 1, $db: 'admin' }), 9_000 + i));
    const joined = Buffer.concat(pings);
    conn.write(joined.subarray(0, pings[0]!.length + 5));
    conn.write(joined.subarray(pings[0]!.length + 5));
    for (const i of [1, 2, 3]) {
      const reply = parseOpMsg(await conn.nextMessage());
      expect(reply.responseTo).toBe(9_000 + i);
      expect(reply.doc.ok).toBe(1);
    }
    expect(conn.closed).toBe(false);
  });
});

describe('handshake', () => {
  it('answers a legacy OP_QUERY isMaster on admin.$cmd with an OP_REPLY that never advertises compression', async () => {
    const conn = await RawConnection.open(ts.store.port);
    try {
      const requestId = nextRequestId++;
      conn.write(
        message(OP_QUERY, opQueryBody('admin.$cmd', { isMaster: 1, compression: ['zlib', 'snappy', 'zstd'] }), requestId),
      );
      const reply = await conn.nextMessage();
      expect(reply.readInt32LE(12)).toBe(OP_REPLY);
      expect(reply.readInt32LE(8)).toBe(requestId);
      const numberReturned = reply.readInt32LE(16 + 4 + 8 + 4);
      expect(numberReturned).toBe(1);
      const doc = deserialize(reply.subarray(36));
      expect(doc).toMatchObject({ ismaster: true, ok: 1, maxBsonObjectSize: 16 * MiB, maxMessageSizeBytes: MAX_MESSAGE_SIZE });
      expect(doc).not.toHaveProperty('compression');

      // The connection stays usable for OP_MSG after the legacy handshake.
      expect(await command(conn, { ping: 1, $db: 'admin' })).toMatchObject({ ok: 1 });
    } finally {
      conn.destroy();
    }
  });

  it('does not advertise compression in hello even when the client offers it, and a driver asking for zlib still works', async () => {
    const conn = await RawConnection.open(ts.store.port);
    try {
      const hello = await command(conn, { hello: 1, helloOk: true, compression: ['zlib', 'snappy', 'zstd'], $db: 'admin' });
      expect(hello).toMatchObject({ isWritablePrimary: true, ok: 1 });
      expect(hello).not.toHaveProperty('compression');
    } finally {
      conn.destroy();
    }

    const zlibClient = new MongoClient(ts.store.url, { compressors: ['zlib'], serverSelectionTimeoutMS: 5_000 });
    try {
      await zlibClient.connect();
      const coll = zlibClient.db('wire').collection<AnyDoc>('compressed');
      await coll.insertOne({ _id: 'z', text: 'hello '.repeat(2_000) });
      expect(await coll.findOne({ _id: 'z' })).toEqual({ _id: 'z', text: 'hello '.repeat(2_000) });
    } finally {
      await zlibClient.close();
    }
  });
});

describe('document limits', () => {
  it('rejects a 17 MiB document with an error and accepts the next insert', async () => {
    const coll = ts.client.db('wire').collection<AnyDoc>('limits');
    const huge = { _id: 'huge', data: 'x'.repeat(17 * MiB) };
    await expect(coll.insertOne(huge)).rejects.toThrow();
    expect(await coll.countDocuments({ _id: 'huge' })).toBe(0);

    await coll.insertOne({ _id: 'after-huge', ok: true });
    expect(await coll.findOne({ _id: 'after-huge' })).toEqual({ _id: 'after-huge', ok: true });
    await expectStoreHealthy();
  });

  it('answers a raw insert of a 17 MiB document with a write error and keeps the connection open', async () => {
    const conn = await RawConnection.open(ts.store.port);
    try {
      const reply = await command(conn, { insert: 'limits', ordered: true, $db: 'wire' }, {
        identifier: 'documents',
        docs: [{ _id: 'raw-huge', data: new Binary(Buffer.alloc(17 * MiB, 7)) }],
      });
      // MongoDB reports this as ok: 0 or as a write error; either way nothing is inserted.
      const failed = reply.ok === 0 || (Array.isArray(reply.writeErrors) && reply.writeErrors.length > 0);
      expect(failed, `reply: ${JSON.stringify(reply)}`).toBe(true);
      expect(reply.n ?? 0).toBe(0);
      expect(await command(conn, { ping: 1, $db: 'admin' })).toMatchObject({ ok: 1 });
    } finally {
      conn.destroy();
    }
    expect(await ts.client.db('wire').collection<AnyDoc>('limits').countDocuments({ _id: 'raw-huge' })).toBe(0);
  });

  it('rejects a document nested 150 levels deep and accepts one nested 50 levels deep', async () => {
    const coll = ts.client.db('wire').collection<AnyDoc>('nesting');
    const nest = (levels: number): Document => {
      let doc: Document = { leaf: true };
      for (let i = 0; i < levels; i++) doc = { d: doc };
      return doc;
    };
    await expect(coll.insertOne({ _id: 'deep', ...nest(150) })).rejects.toThrow();
    expect(await coll.countDocuments({ _id: 'deep' })).toBe(0);

    const shallow = { _id: 'shallow', ...nest(50) };
    await coll.insertOne(shallow);
    expect(await coll.findOne({ _id: 'shallow' })).toEqual(shallow);
    await expectStoreHealthy();
  });

  it('stores a 15 MiB document and reads it back unchanged', async () => {
    const coll = ts.client.db('wire').collection<AnyDoc>('big');
    const bytes = Buffer.alloc(15 * MiB - 1024);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
    const doc = { _id: 'big', label: 'fifteen', bin: new Binary(bytes) };
    await coll.insertOne(doc);
    const back = await coll.findOne({ _id: 'big' });
    expect(back).not.toBeNull();
    expect(back!.label).toBe('fifteen');
    expect(Buffer.compare(Buffer.from((back!.bin as Binary).buffer), bytes)).toBe(0);
  });
});
