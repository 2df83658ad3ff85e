import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { frame, numberedFiles, readFrames, syncDirectory } from './frames.ts';

/** Segment files are numbered; names sort in log order. */
export function segmentName(n: number): string {
  return `${String(n).padStart(16, '0')}.wal`;
}

export function listSegments(walDir: string): Promise<number[]> {
  return numberedFiles(walDir, '.wal');
}

type Waiter = { upTo: number; resolve: () => void; reject: (error: Error) => void };

/**
 * Appends framed records to the current segment. Records are acknowledged only after an fsync covering
 * them; while one fsync runs, new records queue up and share the next one (group commit). A failed
 * write or fsync poisons the log: pending and later writes are rejected, never acknowledged, because
 * after a failed fsync the kernel may have dropped the data while reporting success later.
 */
export class WalWriter {
  private fh: FileHandle;
  private queue: Array<Buffer | { rotateTo: number }> = [];
  private appended = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private flushing = false;
  /** Settles when the running flush ends; `close` waits for it. */
  private idle: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private segmentBytes: number;
  /** Statistics for serverStatus. */
  readonly stats = { records: 0, syncs: 0, bytes: 0 };
  /** Called after each fsync with the number of records now durable. */
  onDurable: (records: number) => void = () => {};

  private constructor(
    private readonly walDir: string,
    private segment: number,
    fh: FileHandle,
    size: number,
  ) {
    this.fh = fh;
    this.segmentBytes = size;
  }

  /** Opens `segment` for appending (creating it), after truncating any torn tail the caller found. */
  static async open(walDir: string, segment: number, validBytes?: number): Promise<WalWriter> {
    const path = join(walDir, segmentName(segment));
    if (validBytes !== undefined) await truncate(path, validBytes);
    const fh = await open(path, 'a');
    const size = (await fh.stat()).size;
    await fh.sync();
    await syncDirectory(walDir);
    return new WalWriter(walDir, segment, fh, size);
  }

  get currentSegment(): number {
    return this.segment;
  }

  /** Bytes in the segment being written (what a snapshot would make obsolete). */
  get currentSegmentBytes(): number {
    return this.segmentBytes;
  }

  /** Queues a record; it is durable once `sync()` resolves. Returns its position in the log. */
  append(payload: Uint8Array): number {
    if (this.failure) throw this.failure;
    const framed = frame(payload);
    this.queue.push(framed);
    this.segmentBytes += framed.length;
    this.stats.records++;
    this.stats.bytes += framed.length;
    return ++this.appended;
  }

  /** Resolves when every record appended so far is on disk. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.durable >= this.appended) return Promise.resolve();
    const upTo = this.appended;
    const promise = new Promise<void>((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
    this.flush();
    return promise;
  }

  /** Starts a new segment for records appended from now on; returns its number. */
  rotate(): number {
    const next = this.segment + 1;
    this.queue.push({ rotateTo: next });
    this.segment = next;
    this.segmentBytes = 0;
    this.flush();
    return next;
  }

  async close(): Promise<void> {
    await this.sync().catch(() => undefined);
    await this.idle;
    await this.fh.close().catch(() => undefined);
  }

  /** Deletes segments older than `keepFrom` (made obsolete by a snapshot). */
  async dropSegmentsBefore(keepFrom: number): Promise<void> {
    for (const n of await listSegments(this.walDir)) if (n < keepFrom) await rm(join(this.walDir, segmentName(n)), { force: true });
  }

  /** One flush at a time; it keeps going while records arrive, so later callers join the running one. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const upTo = this.appended;
        const items = this.queue;
        this.queue = [];
        let batch: Buffer[] = [];
        for (const item of items) {
          if (Buffer.isBuffer(item)) {
            batch.push(item);
            continue;
          }
          await this.writeAndSync(batch);
          batch = [];
          await this.fh.close();
          this.fh = await open(join(this.walDir, segmentName(item.rotateTo)), 'a');
          await syncDirectory(this.walDir);
        }
        await this.writeAndSync(batch);
        this.durable = upTo;
        this.onDurable(upTo);
        const ready = this.waiters.filter((w) => w.upTo <= upTo);
        this.waiters = this.waiters.filter((w) => w.upTo > upTo);
        for (const w of ready) w.resolve();
      }
    } catch (error) {
      this.failure = new Error(`write-ahead log failed; the store accepts no more writes: ${(error as Error).message}`);
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
    } finally {
      // Cleared in the same turn as the last empty-queue check, so no appended record can be missed.
      this.flushing = false;
    }
  }

  private async writeAndSync(batch: Buffer[]): Promise<void> {
    if (batch.length === 0) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    for (let written = 0; written < data.length; ) {
      written += (await this.fh.write(data, written, data.length - written)).bytesWritten;
    }
    await this.fh.datasync();
    this.stats.syncs++;
  }
}

/** Replays one segment's records; returns where valid data ends so a torn tail can be cut off. */
export function replaySegment(walDir: string, segment: number, onRecord: (payload: Buffer) => void) {
  return readFrames(join(walDir, segmentName(segment)), onRecord);
}
