import { fork, type ChildProcess } from 'node:child_process';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedStore } from '../../../src/embedded/start.ts';

/**
 * The embedded store of a data directory in a child process of its own. In one process, generation,
 * capture and the store share one core; apart, they use both cores of the target machine. The layout
 * is the server's (`<dataDir>/store`), so `DATA_DIR=<dataDir> npm start` opens the result.
 */
export interface StoreProcess {
  url: string;
  /** Stops the store (it writes its final snapshot) and waits for the process to end. */
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);
/**
 * The store keeps every document as JavaScript objects: a seeded event (posthog-js properties plus the
 * `$set`/`$set_once` enrichment adds) takes about 8.6 KB of heap, so a million of them need ~9 GB,
 * twice Node's default limit. The child may use 60 % of the machine's memory.
 */
const HEAP_MB = Math.floor((totalmem() / 2 ** 20) * 0.6);
const HEAP_BYTES_PER_EVENT = 8_600;
/**
 * Each periodic snapshot rewrites the whole data set, so at the store's default (every 64 MiB of log)
 * loading a million events rewrites gigabytes dozens of times, and blocks writes for tens of seconds
 * near the end. Seeding takes none: stopping writes one final snapshot, which the server then loads.
 */
const SNAPSHOT_AFTER_LOG_BYTES = Number.MAX_SAFE_INTEGER;

/** Heap the embedded store needs for `events` seeded events, in MiB (what the server needs to open the result). */
export function storeHeapMbFor(events: number): number {
  return Math.ceil((events * HEAP_BYTES_PER_EVENT) / 2 ** 20 / 1024) * 1024 + 1024;
}

export async function startStoreProcess(dataDir: string, timeoutMs = 60_000): Promise<StoreProcess> {
  // A larger young generation: the store allocates heavily per insert, and ~10 % more events/s were measured with it.
  const execArgv = ['--import', 'tsx', `--max-old-space-size=${HEAP_MB}`, '--max-semi-space-size=64'];
  const child: ChildProcess = fork(SELF, [dataDir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the store did not start in ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (message: { url?: string; error?: string }) => {
      clearTimeout(timer);
      if (message.url !== undefined) resolve(message.url);
      else reject(new Error(`the store did not start: ${message.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the store process exited with ${code} before it was ready`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the store process exited with ${code}`))));
        child.send('stop');
      }),
  };
}

/** In the child: start the store, report its URL, stop on request or when the parent goes away. */
async function serve(dataDir: string): Promise<void> {
  const store = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), port: 0, snapshotAfterLogBytes: SNAPSHOT_AFTER_LOG_BYTES });
  const stop = async () => {
    await store.stop();
    process.exit(0);
  };
  process.on('message', (message) => void (message === 'stop' && stop()));
  process.on('disconnect', () => void stop());
  // Ctrl-C reaches the whole process group: stop cleanly (final snapshot) rather than die mid-write.
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send!({ url: store.url });
}

if (process.argv[1] === SELF && process.send !== undefined) {
  serve(process.argv[2]!).catch((error: unknown) => {
    process.send!({ error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
}
