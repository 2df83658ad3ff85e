/** Options for {@link startEmbeddedStore}. */
export interface EmbeddedStoreOptions {
  /** Directory holding the write-ahead log, snapshots and the lock file. Created if missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1. @default 0 (an ephemeral port; read it back from `port` or `url`) */
  port?: number;
  /** How often expired documents of TTL indexes are removed. @default 60_000 */
  ttlMonitorIntervalMs?: number;
  /** Size the write-ahead log may reach before a snapshot replaces it. @default 64 MiB */
  snapshotAfterLogBytes?: number;
  /** Where operational messages go. @default messages at warn level and above go to stderr */
  logger?: StoreLogger;
}

/** A minimal structured logger; pino and console-like loggers fit. */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A running embedded store. */
export interface EmbeddedStore {
  /** Connection string for the official driver, mongosh or Compass, e.g. `mongodb://127.0.0.1:27017/`. */
  url: string;
  /** The bound port (useful when `port: 0` was asked for). */
  port: number;
  /** Stops accepting connections, closes open ones, writes a final snapshot and releases the data directory. */
  stop(): Promise<void>;
}
