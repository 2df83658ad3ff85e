import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedStore } from '../../src/embedded/start.ts';
import type { EmbeddedStore, EmbeddedStoreOptions } from '../../src/embedded/options.ts';
import { collectionsOf, type Collections } from '../../src/db/collections.ts';
import { ensureIndexes } from '../../src/db/indexes.ts';
import { ProjectScope } from '../../src/db/project-scope.ts';

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

/** An embedded store with the application's collections and indexes, handing out fresh projects. */
export interface ProjectStore {
  store: TestStore;
  collections: Collections;
  /** A scope on a new, empty project (tests stay independent without a new store each). */
  newProject(): ProjectScope;
  dispose(): Promise<void>;
}

/** Starts an embedded store, creates the application's indexes in database `dbName`, and hands out project scopes. */
export async function startProjectStore(dbName = 'app'): Promise<ProjectStore> {
  const store = await startTestStore();
  const db = store.client.db(dbName);
  await ensureIndexes(db);
  const collections = collectionsOf(db);
  let projects = 0;
  return {
    store,
    collections,
    newProject() {
      projects += 1;
      return new ProjectScope({ _id: `p${projects}`, name: 'p', apiToken: `t${projects}`, timezone: 'UTC', createdAt: new Date() }, collections);
    },
    dispose: () => store.dispose(),
  };
}
