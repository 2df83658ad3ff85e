import { CursorRegistry } from './engine/cursors.ts';
import { expireDocuments } from './engine/ttl.ts';
import { newCounters, type CommandContext } from './commands/context.ts';
import { DurableCatalog } from './storage/durable-catalog.ts';
import { WireServer } from './wire/server.ts';
import type { EmbeddedStore, EmbeddedStoreOptions, StoreLogger } from './options.ts';

const DEFAULT_SNAPSHOT_AFTER = 64 * 1024 * 1024;

/** Messages at warn level and above go to stderr unless the host application gives a logger. */
const stderrLogger: StoreLogger = {
  info: () => {},
  warn: (fields, message) => console.warn(`[sightline store] ${message}`, fields),
  error: (fields, message) => console.error(`[sightline store] ${message}`, fields),
};

/**
 * Starts the embedded MongoDB-compatible store: recovers the data directory, then serves the MongoDB
 * wire protocol on 127.0.0.1 so that the official driver, mongosh and Compass can connect.
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const logger = options.logger ?? stderrLogger;
  const durable = await DurableCatalog.open({
    dataDir: options.dataDir,
    snapshotAfterLogBytes: options.snapshotAfterLogBytes ?? DEFAULT_SNAPSHOT_AFTER,
    logger,
  });
  const ctx: CommandContext = {
    catalog: durable.catalog,
    changes: durable.changes,
    cursors: new CursorRegistry(),
    counters: newCounters(),
    startedAt: Date.now(),
    storageStatus: () => durable.status(),
  };
  const server = new WireServer({
    ctx,
    logger,
    appendedRecords: () => durable.appendedRecords,
    sync: () => durable.sync(),
  });
  let port: number;
  try {
    port = await server.listen(options.port ?? 0);
  } catch (error) {
    await durable.close();
    throw error;
  }

  const ttl = setInterval(() => {
    try {
      if (expireDocuments(ctx.catalog) > 0) durable.sync().catch((error: Error) => logger.error({ error: error.message }, 'TTL deletions not durable'));
    } catch (error) {
      logger.error({ error: (error as Error).message }, 'TTL monitor failed');
    }
  }, options.ttlMonitorIntervalMs ?? 60_000);
  ttl.unref();

  let stopping: Promise<void> | undefined;
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(ttl);
        ctx.cursors.closeAll();
        ctx.changes.wakeAll();
        await server.close();
        await durable.close();
      })()),
  };
}
