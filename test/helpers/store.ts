import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import type { EmbeddedStore, EmbeddedStoreOptions } from '../../src/embedded/options.ts';

/** A fresh temporary data directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export async function tempDataDir(prefix = 'sightline-store-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface TestStore {
  store: EmbeddedStore;
  client: MongoClient;
  dataDir: string;
  /** Stops client and store; keeps the data directory (for restart tests). */
  stop(): Promise<void>;
  /** Stops everything and deletes the data directory. */
  dispose(): Promise<void>;
}

/** Starts an embedded store on a new (or given) data directory and connects the official driver to it. */
export async function startTestStore(options: Partial<EmbeddedStoreOptions> = {}): Promise<TestStore> {
  const dataDir = options.dataDir ?? (await tempDataDir());
  const store = await startEmbeddedStore({ ...options, dataDir });
  const client = new MongoClient(store.url, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await client.close();
    await store.stop();
  };
  return {
    store,
    client,
    dataDir,
    stop,
    dispose: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
