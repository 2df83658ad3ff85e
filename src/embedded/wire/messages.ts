import { deserialize, serialize } from 'bson';
import { rememberWireSize } from '../engine/limits.ts';
import type { Doc } from '../engine/types.ts';

/** Wire protocol opcodes (MongoDB's "legacy" ones are only accepted for the handshake). */
export const OpCode = { REPLY: 1, QUERY: 2004, COMPRESSED: 2012, MSG: 2013 } as const;

export const HEADER_SIZE = 16;
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
// Bits 0-15 are "required": a receiver must reject a message with one it does not know.
const KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME;

/** A client message that makes the connection unusable; the connection is closed. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export function readHeader(buf: Buffer): Header {
  return { length: buf.readInt32LE(0), requestId: buf.readInt32LE(4), responseTo: buf.readInt32LE(8), opCode: buf.readInt32LE(12) };
}

/** Decodes BSON from a client, refusing anything malformed instead of guessing. */
function decodeDocument(buf: Buffer, at: number, end: number): { doc: Doc; size: number } {
  if (at + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(at);
  if (size < 5 || at + size > end) throw new ProtocolError(`invalid BSON document length ${size}`);
  try {
    const doc = deserialize(buf.subarray(at, at + size), { validation: { utf8: true } }) as Doc;
    return { doc, size };
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`);
  }
}

export interface CommandMessage {
  /** The command with document-sequence sections merged in as arrays (`documents`, `updates`, ...). */
  command: Doc;
  db: string;
  /** The client expects no reply (`moreToCome`, an unacknowledged write). */
  moreToCome: boolean;
}

/** Parses an OP_MSG body (everything after the header). */
export function parseOpMsg(buf: Buffer): CommandMessage {
  const flags = buf.readUInt32LE(HEADER_SIZE);
  if (flags & 0xffff & ~KNOWN_REQUIRED_BITS) throw new ProtocolError(`unknown required OP_MSG flag bits ${flags.toString(2)}`);
  let end = buf.length;
  if (flags & CHECKSUM_PRESENT) end -= 4;
  let at = HEADER_SIZE + 4;
  let body: Doc | undefined;
  const sequences: Array<[string, Doc[]]> = [];
  while (at < end) {
    const kind = buf[at++];
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      const { doc, size } = decodeDocument(buf, at, end);
      body = doc;
      at += size;
    } else if (kind === 1) {
      if (at + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = buf.readInt32LE(at);
      const sectionEnd = at + size;
      if (size < 5 || sectionEnd > end) throw new ProtocolError('invalid document sequence length');
      const nameEnd = buf.indexOf(0, at + 4);
      if (nameEnd < 0 || nameEnd >= sectionEnd) throw new ProtocolError('unterminated document sequence identifier');
      const identifier = buf.toString('utf8', at + 4, nameEnd);
      const docs: Doc[] = [];
      for (let p = nameEnd + 1; p < sectionEnd; ) {
        const { doc, size: docSize } = decodeDocument(buf, p, sectionEnd);
        rememberWireSize(doc, docSize);
        docs.push(doc);
        p += docSize;
      }
      sequences.push([identifier, docs]);
      at = sectionEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${String(kind)}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG has no body section');
  for (const [identifier, docs] of sequences) {
    if (identifier in body) throw new ProtocolError(`duplicate field ${identifier} in body and document sequence`);
    body[identifier] = docs;
  }
  const db = body.$db;
  if (typeof db !== 'string' || db.length === 0) throw new ProtocolError('OP_MSG command has no $db');
  return { command: body, db, moreToCome: (flags & MORE_TO_COME) !== 0 };
}

/** Parses a legacy OP_QUERY, used by drivers and shells for the first handshake only. */
export function parseOpQuery(buf: Buffer): { collection: string; query: Doc } {
  let at = HEADER_SIZE + 4;
  const nameEnd = buf.indexOf(0, at);
  if (nameEnd < 0) throw new ProtocolError('unterminated OP_QUERY collection name');
  const collection = buf.toString('utf8', at, nameEnd);
  at = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const { doc } = decodeDocument(buf, at, buf.length);
  // Old clients wrap the command with read preference: {$query: {...}, $readPreference: ...}.
  const query = doc.$query && typeof doc.$query === 'object' ? (doc.$query as Doc) : doc;
  return { collection, query };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

export function encodeOpMsg(requestId: number, responseTo: number, reply: Doc): Buffer {
  const body = serialize(reply);
  const prefix = Buffer.alloc(5); // flagBits = 0, section kind 0
  return Buffer.concat([header(HEADER_SIZE + 5 + body.length, requestId, responseTo, OpCode.MSG), prefix, body]);
}

export function encodeOpReply(requestId: number, responseTo: number, reply: Doc): Buffer {
  const body = serialize(reply);
  const fields = Buffer.alloc(20); // responseFlags, cursorID (8), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_SIZE + 20 + body.length, requestId, responseTo, OpCode.REPLY), fields, body]);
}

