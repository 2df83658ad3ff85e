import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Collections } from './db/collections.ts';
import type { ProjectDocument } from './db/documents.ts';
import { DURABLE } from './db/write-concern.ts';
import type { ProjectService } from './modules/projects/service.ts';
import { newAdminKey } from './modules/auth/secrets.ts';

const ADMIN_KEY_FILE = 'admin-key';
const DEFAULT_PROJECT_SETTING = 'bootstrap.defaultProject';

/**
 * The admin key for embedded development mode: generated on first start and kept in the data
 * directory (mode 0600) so a restart keeps it. `created` tells the caller to print it once.
 */
export async function embeddedAdminKey(dataDir: string): Promise<{ key: string; created: boolean; path: string }> {
  const path = join(dataDir, ADMIN_KEY_FILE);
  try {
    const key = (await readFile(path, 'utf8')).trim();
    if (key !== '') return { key, created: false, path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = newAdminKey();
  await mkdir(dataDir, { recursive: true });
  // 'wx': two processes starting at once must not each write (and print) a different key.
  try {
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, created: true, path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: (await readFile(path, 'utf8')).trim(), created: false, path };
  }
}

/**
 * The default project, created on the first start of an empty embedded database. A settings
 * document records that it was made, so deleting it later does not make it reappear.
 */
export async function defaultProject(collections: Collections, projects: ProjectService): Promise<{ project: ProjectDocument; created: boolean } | undefined> {
  const marker = await collections.settings.findOne({ _id: DEFAULT_PROJECT_SETTING });
  if (marker !== null) {
    const project = await collections.projects.findOne({ _id: String(marker.value) });
    return project === null ? undefined : { project, created: false };
  }
  if ((await collections.projects.countDocuments({}, { limit: 1 })) > 0) return undefined;
  const project = await projects.create({ name: 'Default project', timezone: 'UTC' });
  await collections.settings.insertOne({ _id: DEFAULT_PROJECT_SETTING, value: project._id }, { writeConcern: DURABLE });
  return { project, created: true };
}
