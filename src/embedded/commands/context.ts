import type { Catalog } from '../engine/catalog.ts';
import type { ChangeLog } from '../engine/changes.ts';
import type { CursorRegistry } from '../engine/cursors.ts';
import type { ScanStats, Doc } from '../engine/types.ts';

/** Counters reported by `serverStatus`. */
export interface ServerCounters {
  opcounters: { insert: number; query: number; update: number; delete: number; getmore: number; command: number };
  scanned: number;
  scannedObjects: number;
  connections: { current: number; totalCreated: number };
}

/** Durability figures the storage layer reports through `serverStatus`. */
export interface StorageStatus {
  wal: { records: number; syncs: number; bytes: number; segment: number };
  snapshots: { taken: number; lastBytes: number; lastMillis: number };
}

/** Everything a command handler may use; one per store, shared by all connections. */
export interface CommandContext {
  catalog: Catalog;
  cursors: CursorRegistry;
  changes: ChangeLog;
  counters: ServerCounters;
  startedAt: number;
  storageStatus(): StorageStatus;
}

/** A command handler: the command document and its database in, the reply fields out. */
export type CommandHandler = (ctx: CommandContext, db: string, cmd: Doc) => Doc | Promise<Doc>;

export function recordScan(ctx: CommandContext, stats: ScanStats): void {
  ctx.counters.scanned += stats.keysExamined;
  ctx.counters.scannedObjects += stats.docsExamined;
}

export function newCounters(): ServerCounters {
  return {
    opcounters: { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 },
    scanned: 0,
    scannedObjects: 0,
    connections: { current: 0, totalCreated: 0 },
  };
}
