import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One process per data directory. The lock file holds the owner's pid and host; a lock whose process
 * is gone (killed with `kill -9`, say) is taken over, so a crash never blocks the restart.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = join(dataDir, 'LOCK');
    const content = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(content);
        await fh.sync();
        await fh.close();
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await readOwner(path);
      if (owner && isAlive(owner)) {
        throw new Error(
          `data directory ${dataDir} is in use by another Sightline store (pid ${owner.pid} on ${owner.host}); ` +
            'stop that process or choose another data directory',
        );
      }
      // The previous owner is gone: remove its lock and try again.
      await rm(path, { force: true });
    }
    throw new Error(`could not lock data directory ${dataDir}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

interface Owner {
  pid: number;
  host: string;
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host };
  } catch {
    // Empty or half-written: the owner died while taking the lock.
  }
  return undefined;
}

function isAlive(owner: Owner): boolean {
  // A lock written on another host (a shared volume) cannot be checked from here, so it is respected.
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
