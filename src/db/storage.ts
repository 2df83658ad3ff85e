import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedStore } from '../embedded/start.ts';
import type { EmbeddedStore } from '../embedded/options.ts';
import type { Logger } from '../logger.ts';
import { ensureIndexes } from './indexes.ts';

/** Where Sightline keeps its data: an external MongoDB, or the embedded store it started itself. */
export interface Storage {
  client: MongoClient;
  db: Db;
  /** The connection string a user can give to mongosh or Compass. */
  url: string;
  embedded: boolean;
  /** Round-trips to the database; rejects when it is unreachable. */
  ping(): Promise<void>;
  /** Closes the driver, then stops the embedded store if there is one. */
  close(): Promise<void>;
}

/** Options for {@link openStorage}. */
export interface StorageOptions {
  /** External MongoDB; when unset the embedded store is started under `dataDir/store`. */
  url?: string;
  dataDir: string;
  /** Loopback port of the embedded store (0 = any free port). */
  embeddedPort: number;
  logger: Logger;
  /** Emit the driver's command monitoring events (`commandStarted`, …) on `client`; for tests that count queries. @default false */
  monitorCommands?: boolean;
}

const DATABASE_NAME = 'sightline';

/** Connects to the configured database (starting the embedded store when none is configured) and ensures indexes. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  let store: EmbeddedStore | undefined;
  let url = options.url;
  if (url === undefined) {
    store = await startEmbeddedStore({
      dataDir: join(options.dataDir, 'store'),
      port: options.embeddedPort,
      logger: options.logger.child({ component: 'store' }),
    });
    url = store.url;
  }
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    // Bounded so a stalled database turns into 503s for capture instead of requests piling up forever.
    socketTimeoutMS: 30_000,
    maxPoolSize: 50,
    appName: 'sightline',
    monitorCommands: options.monitorCommands ?? false,
  });
  try {
    await client.connect();
    // An explicit URL may name its own database; the embedded store and bare URLs use "sightline".
    const db = client.db(databaseNameIn(url) ?? DATABASE_NAME);
    await ensureIndexes(db);
    return {
      client,
      db,
      url,
      embedded: store !== undefined,
      async ping() {
        await db.command({ ping: 1 });
      },
      async close() {
        await client.close();
        await store?.stop();
      },
    };
  } catch (error) {
    await client.close().catch(() => undefined);
    await store?.stop();
    throw error;
  }
}

/** The database named in a connection string's path (`mongodb://h1,h2/analytics?...` → `analytics`), if any. */
function databaseNameIn(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url)?.[1];
  return name === undefined ? undefined : decodeURIComponent(name);
}
