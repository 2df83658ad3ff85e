import { Timestamp } from 'bson';
import { StoreError } from './errors.ts';
import type { Op } from './oplog.ts';
import type { Doc } from './types.ts';

/** One change in the history change streams read from. */
export interface ChangeEntry {
  seq: number;
  clusterTime: Timestamp;
  wallTime: Date;
  op: Op;
}

/** A change stream's scope: one collection, one database, or the whole deployment. */
export interface StreamScope {
  db?: string;
  coll?: string;
}

const DEFAULT_CAPACITY = 100_000;

/**
 * The recent history of changes, numbered in commit order. Change streams read only changes that are
 * durable (covered by a write-ahead-log fsync), like MongoDB's majority-committed change streams, so a
 * resume token never points at a change that a crash could take back.
 */
export class ChangeLog {
  private entries: ChangeEntry[] = [];
  private lastSeq = 0;
  private durable = 0;
  private lastTime = new Timestamp({ t: 0, i: 0 });
  private waiters = new Set<() => void>();
  private readonly capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.capacity = capacity;
  }

  /** The sequence number of the newest change. */
  get latestSeq(): number {
    return this.lastSeq;
  }

  get durableSeq(): number {
    return this.durable;
  }

  /** The cluster time of the newest change (a command's `operationTime`). */
  get operationTime(): Timestamp {
    return this.lastTime;
  }

  /** Continues numbering after a restart. */
  restore(seq: number, time: Timestamp): void {
    this.lastSeq = seq;
    this.durable = seq;
    this.lastTime = time;
  }

  record(op: Op): void {
    const seconds = Math.floor(Date.now() / 1000);
    const t = this.lastTime.high;
    this.lastTime = seconds > t ? new Timestamp({ t: seconds, i: 1 }) : new Timestamp({ t, i: this.lastTime.low + 1 });
    this.entries.push({ seq: ++this.lastSeq, clusterTime: this.lastTime, wallTime: new Date(), op });
    if (this.entries.length > this.capacity * 1.25) this.entries = this.entries.slice(-this.capacity);
  }

  /** Called after an fsync covering every change up to `seq`; wakes waiting change streams. */
  markDurable(seq: number): void {
    if (seq <= this.durable) return;
    this.durable = seq;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Durable changes after `seq`, at most `limit`. Throws ChangeStreamHistoryLost if they were dropped. */
  after(seq: number, limit: number): ChangeEntry[] {
    // The oldest change still held; everything before it was trimmed, or precedes a restart's snapshot.
    const oldest = this.entries[0]?.seq ?? this.lastSeq + 1;
    if (seq < this.durable && seq + 1 < oldest) {
      throw new StoreError('ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
    }
    const out: ChangeEntry[] = [];
    const start = Math.max(0, seq + 1 - oldest);
    for (let i = start; i < this.entries.length && out.length < limit; i++) {
      const entry = this.entries[i]!;
      if (entry.seq > this.durable) break;
      out.push(entry);
    }
    return out;
  }

  /** The sequence number just before the first durable change at or after `time` (for `startAtOperationTime`). */
  seqBefore(time: Timestamp): number {
    for (const entry of this.entries) if (entry.clusterTime.compare(time) >= 0) return entry.seq - 1;
    return this.durable;
  }

  /** Resolves when a newer durable change exists, or after `ms`. */
  waitForChange(afterSeq: number, ms: number): Promise<void> {
    if (this.durable > afterSeq || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  /** Wakes every waiting change stream (shutdown). */
  wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

/** Resume tokens are opaque to clients; ours carry the change's sequence number. */
export function resumeToken(seq: number): Doc {
  return { _data: seq.toString(16).padStart(16, '0').toUpperCase() };
}

export function parseResumeToken(token: unknown): number {
  const data = (token as Doc | null)?._data;
  if (typeof data !== 'string' || !/^[0-9A-Fa-f]{1,16}$/.test(data)) {
    throw new StoreError('BadValue', 'Invalid resume token');
  }
  return parseInt(data, 16);
}

/** Does this change belong to the stream's scope? */
export function inScope(op: Op, scope: StreamScope): boolean {
  if (scope.db !== undefined && op.db !== scope.db) return false;
  if (scope.coll !== undefined && 'coll' in op && op.coll !== scope.coll) return false;
  return true;
}

/**
 * The change event MongoDB would emit for an op, or none for ops change streams do not show
 * (index builds, collection creation). `lookup` fetches the current document for `updateLookup`.
 */
export function changeEvent(entry: ChangeEntry, fullDocument: string, lookup: (db: string, coll: string, id: unknown) => Doc | null): Doc[] {
  const { op } = entry;
  const base = { _id: resumeToken(entry.seq), clusterTime: entry.clusterTime, wallTime: entry.wallTime };
  switch (op.op) {
    case 'insert':
      return [{ ...base, operationType: 'insert', fullDocument: op.doc, ns: { db: op.db, coll: op.coll }, documentKey: { _id: op.doc._id } }];
    case 'replace':
      return [{ ...base, operationType: 'replace', fullDocument: op.doc, ns: { db: op.db, coll: op.coll }, documentKey: { _id: op.doc._id } }];
    case 'update': {
      const event: Doc = {
        ...base,
        operationType: 'update',
        ns: { db: op.db, coll: op.coll },
        documentKey: { _id: op.doc._id },
        updateDescription: { ...op.description, truncatedArrays: [] },
      };
      if (fullDocument === 'updateLookup' || fullDocument === 'whenAvailable' || fullDocument === 'required') {
        event.fullDocument = lookup(op.db, op.coll, op.doc._id);
      }
      return [event];
    }
    case 'delete':
      return [{ ...base, operationType: 'delete', ns: { db: op.db, coll: op.coll }, documentKey: { _id: op.id } }];
    case 'dropCollection':
      return [{ ...base, operationType: 'drop', ns: { db: op.db, coll: op.coll } }];
    case 'dropDatabase':
      return [{ ...base, operationType: 'dropDatabase', ns: { db: op.db } }];
    default:
      return [];
  }
}
