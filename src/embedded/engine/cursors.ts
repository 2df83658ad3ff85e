import { Long, calculateObjectSize } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { StoreError, toStoreError } from './errors.ts';
import { MAX_BSON_OBJECT_SIZE } from './limits.ts';
import { mingoOptions } from './mingo-options.ts';
import { changeEvent, inScope, resumeToken, type ChangeLog, type StreamScope } from './changes.ts';
import type { Doc } from './types.ts';

/** Replies stay below the BSON limit with room for the envelope, as MongoDB's do. */
const BATCH_BYTES = MAX_BSON_OBJECT_SIZE - 64 * 1024;
const IDLE_TIMEOUT_MS = 10 * 60_000;

export interface Batch {
  docs: Doc[];
  exhausted: boolean;
  postBatchResumeToken?: Doc;
}

/** A server-side cursor that getMore reads from. */
export interface Cursor {
  readonly ns: string;
  next(batchSize: number, maxTimeMS: number): Promise<Batch> | Batch;
  close(): void;
}

/** Takes documents from `source` until the count or the byte budget is reached. */
function takeBatch(source: Doc[], from: number, batchSize: number): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  const limit = batchSize > 0 ? batchSize : Number.MAX_SAFE_INTEGER;
  for (let i = from; i < source.length && out.length < limit; i++) {
    const size = calculateObjectSize(source[i]!);
    if (out.length > 0 && bytes + size > BATCH_BYTES) break;
    bytes += size;
    out.push(source[i]!);
  }
  return out;
}

/** A cursor over a result computed in full when the query ran (find, aggregate, list commands). */
export class ArrayCursor implements Cursor {
  readonly ns: string;
  private position = 0;
  private readonly docs: Doc[];

  constructor(ns: string, docs: Doc[]) {
    this.ns = ns;
    this.docs = docs;
  }

  next(batchSize: number): Batch {
    const docs = takeBatch(this.docs, this.position, batchSize);
    this.position += docs.length;
    return { docs, exhausted: this.position >= this.docs.length };
  }

  close(): void {
    this.docs.length = 0;
  }
}

export interface ChangeStreamOptions {
  scope: StreamScope;
  fullDocument: string;
  /** Sequence number of the last change already seen. */
  afterSeq: number;
  /** Stages after `$changeStream` in the client's pipeline. */
  pipeline: Doc[];
  lookup: (db: string, coll: string, id: unknown) => Doc | null;
}

/** A tailable cursor over the change history; getMore waits up to maxTimeMS for new changes. */
export class ChangeStreamCursor implements Cursor {
  readonly ns: string;
  private seq: number;
  private closed = false;
  private invalidated = false;
  private readonly filter: Aggregator | undefined;

  constructor(ns: string, private readonly log: ChangeLog, private readonly opts: ChangeStreamOptions) {
    this.ns = ns;
    this.seq = opts.afterSeq;
    try {
      this.filter = opts.pipeline.length ? new Aggregator(opts.pipeline, mingoOptions({ cloneInput: true })) : undefined;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** The first batch is returned at once, as MongoDB does, without waiting for changes. */
  first(batchSize: number): Batch {
    return this.collect(batchSize);
  }

  async next(batchSize: number, maxTimeMS: number): Promise<Batch> {
    const deadline = Date.now() + (maxTimeMS > 0 ? maxTimeMS : 1000);
    for (;;) {
      const batch = this.collect(batchSize);
      if (batch.docs.length > 0 || batch.exhausted || this.closed) return batch;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return batch;
      await this.log.waitForChange(this.seq, remaining);
    }
  }

  close(): void {
    this.closed = true;
  }

  private collect(batchSize: number): Batch {
    const limit = batchSize > 0 ? batchSize : 1000;
    const docs: Doc[] = [];
    if (this.invalidated || this.closed) return { docs, exhausted: true, postBatchResumeToken: resumeToken(this.seq) };
    while (docs.length < limit) {
      const entries = this.log.after(this.seq, limit);
      if (entries.length === 0) break;
      for (const entry of entries) {
        this.seq = entry.seq;
        if (!inScope(entry.op, this.opts.scope)) continue;
        let events = changeEvent(entry, this.opts.fullDocument, this.opts.lookup);
        if (this.invalidates(entry.op.op)) {
          events = [...events, { _id: resumeToken(entry.seq), operationType: 'invalidate', clusterTime: entry.clusterTime, wallTime: entry.wallTime }];
          this.invalidated = true;
        }
        if (this.filter && events.length) {
          try {
            events = this.filter.run(events) as Doc[];
          } catch (error) {
            throw toStoreError(error);
          }
        }
        docs.push(...events);
        if (this.invalidated || docs.length >= limit) break;
      }
      if (this.invalidated) break;
    }
    return { docs, exhausted: this.invalidated, postBatchResumeToken: resumeToken(this.seq) };
  }

  private invalidates(kind: string): boolean {
    if (this.opts.scope.coll !== undefined) return kind === 'dropCollection' || kind === 'dropDatabase';
    if (this.opts.scope.db !== undefined) return kind === 'dropDatabase';
    return false;
  }
}

/** Open cursors by id; idle ones are closed after ten minutes like MongoDB's. */
export class CursorRegistry {
  private readonly cursors = new Map<string, { cursor: Cursor; lastUsed: number }>();
  private nextId = BigInt(Date.now()) * 1000n;
  private readonly reaper: NodeJS.Timeout;

  constructor() {
    this.reaper = setInterval(() => this.reapIdle(), 60_000);
    this.reaper.unref();
  }

  open(cursor: Cursor): Long {
    const id = ++this.nextId;
    this.cursors.set(id.toString(), { cursor, lastUsed: Date.now() });
    return Long.fromBigInt(id);
  }

  get(id: Long | number | bigint, ns: string): Cursor {
    const entry = this.cursors.get(BigInt(id.toString()).toString());
    if (!entry) throw new StoreError('CursorNotFound', `cursor id ${id.toString()} not found`);
    if (entry.cursor.ns !== ns) throw new StoreError('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${entry.cursor.ns}`);
    entry.lastUsed = Date.now();
    return entry.cursor;
  }

  kill(id: Long | number | bigint): boolean {
    const key = BigInt(id.toString()).toString();
    const entry = this.cursors.get(key);
    if (!entry) return false;
    entry.cursor.close();
    this.cursors.delete(key);
    return true;
  }

  get size(): number {
    return this.cursors.size;
  }

  closeAll(): void {
    for (const { cursor } of this.cursors.values()) cursor.close();
    this.cursors.clear();
    clearInterval(this.reaper);
  }

  private reapIdle(): void {
    const cutoff = Date.now() - IDLE_TIMEOUT_MS;
    for (const [id, entry] of this.cursors) {
      if (entry.lastUsed < cutoff) {
        entry.cursor.close();
        this.cursors.delete(id);
      }
    }
  }
}
