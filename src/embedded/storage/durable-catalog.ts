import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Binary, deserialize, serialize, UUID } from 'bson';
import { Catalog } from '../engine/catalog.ts';
import { ChangeLog } from '../engine/changes.ts';
import { rememberWireSize } from '../engine/limits.ts';
import { DataDirLock } from './lockfile.ts';
import { listSegments, replaySegment, WalWriter } from './wal.ts';
import { newestSnapshot, readSnapshot, removeOtherSnapshots, writeSnapshot, type SnapshotCollection } from './snapshot.ts';
import type { StoreLogger } from '../options.ts';
import type { StorageStatus } from '../commands/context.ts';
import type { Op } from '../engine/oplog.ts';
import type { Doc } from '../engine/types.ts';

/** Below this, replaying the log at the next start is as quick as loading a snapshot. */
const FINAL_SNAPSHOT_MIN_BYTES = 1024 * 1024;

export interface DurableCatalogOptions {
  dataDir: string;
  snapshotAfterLogBytes: number;
  logger: StoreLogger;
}

/**
 * The catalog made durable: recovery on open (the snapshot, then the log segments after it), every
 * change appended to the write-ahead log as it is applied, and snapshots taken in the background once
 * the log reaches `snapshotAfterLogBytes`.
 */
export class DurableCatalog {
  readonly catalog = new Catalog();
  readonly changes = new ChangeLog();
  private wal!: WalWriter;
  private lock!: DataDirLock;
  private snapshotting: Promise<void> | undefined;
  private readonly snapshotStats = { taken: 0, lastBytes: 0, lastMillis: 0 };
  private readonly walDir: string;
  private readonly snapshotDir: string;

  private constructor(private readonly opts: DurableCatalogOptions) {
    this.walDir = join(opts.dataDir, 'wal');
    this.snapshotDir = join(opts.dataDir, 'snapshots');
  }

  static async open(opts: DurableCatalogOptions): Promise<DurableCatalog> {
    const store = new DurableCatalog(opts);
    await mkdir(store.walDir, { recursive: true });
    await mkdir(store.snapshotDir, { recursive: true });
    store.lock = await DataDirLock.acquire(opts.dataDir);
    try {
      await store.recover();
    } catch (error) {
      await store.lock.release();
      throw error;
    }
    return store;
  }

  /** Number of log records appended so far; a command compares it before and after it runs. */
  get appendedRecords(): number {
    return this.wal.stats.records;
  }

  /** Resolves once every change applied so far is on disk; may start a snapshot afterwards. */
  async sync(): Promise<void> {
    await this.wal.sync();
    if (!this.snapshotting && this.wal.currentSegmentBytes >= this.opts.snapshotAfterLogBytes) {
      this.snapshotting = this.snapshot().finally(() => {
        this.snapshotting = undefined;
      });
    }
  }

  status(): StorageStatus {
    return {
      wal: { ...this.wal.stats, segment: this.wal.currentSegment },
      snapshots: { ...this.snapshotStats },
    };
  }

  /** Waits for a running snapshot, syncs the log and releases the data directory. */
  async close(): Promise<void> {
    await this.snapshotting?.catch(() => undefined);
    // A final snapshot makes the next start a snapshot load instead of a long replay.
    if (this.wal.currentSegmentBytes > FINAL_SNAPSHOT_MIN_BYTES) await this.snapshot();
    await this.wal.close();
    await this.lock.release();
  }

  private async recover(): Promise<void> {
    const started = Date.now();
    // Only the newest snapshot is kept, and the log segments it covers are gone: if it cannot be read,
    // starting without it would silently lose data, so recovery stops with the reason instead.
    const newest = await newestSnapshot(this.snapshotDir);
    const firstSegment = newest === undefined ? 1 : await this.loadSnapshot(newest);
    const segments = (await listSegments(this.walDir)).filter((n) => n >= firstSegment);
    let replayed = 0;
    let tail: { segment: number; validBytes: number } | undefined;
    for (const [i, segment] of segments.entries()) {
      const scan = await replaySegment(this.walDir, segment, (payload) => {
        this.replay(deserialize(payload) as Op);
        replayed++;
      });
      const last = i === segments.length - 1;
      if (scan.validBytes < scan.fileBytes) {
        if (!last) {
          throw new Error(`write-ahead log segment ${segment} is damaged at byte ${scan.validBytes} and later segments exist; refusing to start`);
        }
        this.opts.logger.warn({ segment, discardedBytes: scan.fileBytes - scan.validBytes }, 'discarding a torn record at the end of the write-ahead log');
      }
      if (last) tail = { segment, validBytes: scan.validBytes };
    }
    this.wal = await WalWriter.open(this.walDir, tail?.segment ?? firstSegment, tail?.validBytes);
    const base = this.changes.latestSeq;
    this.changes.markDurable(base);
    this.wal.onDurable = (records) => this.changes.markDurable(base + records);
    this.catalog.addSink((op) => this.wal.append(serialize(op)));
    this.catalog.addSink((op) => this.changes.record(op));
    this.opts.logger.info({ replayed, millis: Date.now() - started }, 'embedded store recovered');
  }

  private replay(op: Op): void {
    if (op.op === 'createCollection') op.uuid = asUUID(op.uuid);
    this.catalog.applyInMemory(op);
    this.changes.record(op);
  }

  private async loadSnapshot(walSegment: number): Promise<number> {
    let current: ReturnType<Catalog['get']>;
    await readSnapshot(this.snapshotDir, walSegment, {
      onHeader: (h) => this.changes.restore(h.seq, h.time),
      onCollection: (c) => {
        this.catalog.applyInMemory({ op: 'createCollection', db: c.db, coll: c.coll, options: c.options, uuid: asUUID(c.uuid) });
        current = this.catalog.get(c.db, c.coll)!;
        for (const spec of c.indexes.slice(1)) current.createIndex(spec);
      },
      onDocument: (doc: Doc, size: number) => {
        rememberWireSize(doc, size);
        current!.insert(doc);
      },
    });
    return walSegment;
  }

  private async snapshot(): Promise<void> {
    const started = Date.now();
    const walSegment = this.wal.rotate();
    // Documents are immutable once stored, so holding references captures this exact point in the log.
    const header = { walSegment, seq: this.changes.latestSeq, time: this.changes.operationTime };
    const collections: SnapshotCollection[] = this.catalog.allCollections().map((c) => ({
      db: c.db,
      coll: c.name,
      options: c.options,
      uuid: c.uuid,
      indexes: c.indexSpecs(),
      docs: [...c.records()].map((r) => r.doc),
    }));
    try {
      const bytes = await writeSnapshot(this.snapshotDir, header, collections);
      await removeOtherSnapshots(this.snapshotDir, walSegment);
      await this.wal.dropSegmentsBefore(walSegment);
      Object.assign(this.snapshotStats, { taken: this.snapshotStats.taken + 1, lastBytes: bytes, lastMillis: Date.now() - started });
      this.opts.logger.info({ walSegment, bytes, millis: Date.now() - started }, 'snapshot written');
    } catch (error) {
      // The log still holds everything; a failed snapshot only means a longer recovery.
      this.opts.logger.error({ error: (error as Error).message }, 'snapshot failed');
    }
  }
}

function asUUID(value: unknown): UUID {
  if (value instanceof UUID) return value;
  if (value instanceof Binary) return new UUID(value.buffer);
  return new UUID();
}

