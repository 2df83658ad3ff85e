import { createApp } from '../../../src/app.ts';
import { MongoClient } from 'mongodb';
import { collectionsOf, type Collections } from '../../../src/db/collections.ts';
import type { ProjectDocument } from '../../../src/db/documents.ts';
import { ProjectScope } from '../../../src/db/project-scope.ts';
import type { Storage } from '../../../src/db/storage.ts';
import type { Logger } from '../../../src/logger.ts';
import { FastTarget } from './fast/target.ts';
import { SeedGenerator, type GeneratedStats } from './generate.ts';
import type { SeedOptions } from './options.ts';
import { createProjectOverHttp, httpTarget, pipelineTarget, type SeedTarget } from './targets.ts';

/** What a run made and how long it took. */
export interface SeedResult {
  projectId: string;
  captureToken: string;
  stats: GeneratedStats;
  /** Wall time of planning the history and tuning its activity to the asked number of events. */
  prepareMs: number;
  /** Wall time of generating and storing the events. */
  ms: number;
  /** CPU time of this process over the same span. */
  cpuMs: number;
  /** Counted in the store afterwards (in-process runs only). */
  stored?: StoredCounts;
}

export interface StoredCounts {
  events: number;
  persons: number;
  identifiedPersons: number;
  distinctIds: number;
  sessions: number;
  groups: number;
}

/** Progress after each batch: events stored so far and the time since the start. */
export type Progress = (events: number, ms: number) => void;

/** Sends every batch of the generator to the target, one after another (person processing is order-dependent). */
export async function drive(generator: SeedGenerator, target: SeedTarget, progress?: Progress): Promise<{ ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let sent = 0;
  for (const batch of generator.batches()) {
    await target.send(batch);
    sent += batch.length;
    progress?.(sent, performance.now() - started);
  }
  await target.finish();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Seeds a new project in `storage` through the application's services: the real capture pipeline,
 * or with `mode: 'fast'` the in-memory equivalent and bulk inserts.
 */
export async function seedStorage(options: SeedOptions, storage: Storage, logger: Logger, progress?: Progress): Promise<SeedResult> {
  const app = createApp({ config: { http: { port: 0, host: '127.0.0.1' }, production: false }, storage, logger });
  const project = await app.services.projects.create({ name: options.projectName, timezone: options.timeZone, weekStart: options.weekStart === 'monday' ? 1 : 0 });
  const prepared = performance.now();
  const generator = new SeedGenerator(options);
  const prepareMs = performance.now() - prepared;
  // Bulk inserts of thousands of documents can stall a busy store for longer than the application's
  // 30 s socket timeout (a garbage collection of a big heap), so --fast writes on a client of its own.
  const bulk = options.mode === 'fast' ? new MongoClient(storage.url, { socketTimeoutMS: 0, serverSelectionTimeoutMS: 10_000, maxPoolSize: 4 }) : undefined;
  let timing: { ms: number; cpuMs: number };
  try {
    const target: SeedTarget =
      bulk === undefined
        ? pipelineTarget(app.services.capture, app.services.definitions, project.apiToken)
        : new FastTarget(new ProjectScope(project, collectionsOf((await bulk.connect()).db(storage.db.databaseName))), project.apiToken, logger);
    timing = await drive(generator, target, progress);
  } finally {
    await bulk?.close();
  }
  await app.services.capture.drained();
  const stored = await countStored(app.services.collections, project);
  return { projectId: project._id, captureToken: project.apiToken, stats: generator.stats, prepareMs, ...timing, stored };
}

/** Seeds a running server over HTTP, creating the project over GraphQL unless a capture token is given. */
export async function seedServer(options: SeedOptions & { url: string }, progress?: Progress): Promise<SeedResult> {
  const project =
    options.captureToken !== undefined
      ? { id: '(existing)', apiToken: options.captureToken }
      : await createProjectOverHttp(options.url, options.token!, { name: options.projectName, timezone: options.timeZone, weekStart: options.weekStart === 'monday' ? 'MONDAY' : 'SUNDAY' });
  const prepared = performance.now();
  const generator = new SeedGenerator(options);
  const prepareMs = performance.now() - prepared;
  const timing = await drive(generator, httpTarget(options.url, project.apiToken), progress);
  return { projectId: project.id, captureToken: project.apiToken, stats: generator.stats, prepareMs, ...timing };
}

async function countStored(collections: Collections, project: ProjectDocument): Promise<StoredCounts> {
  const scope = new ProjectScope(project, collections);
  const d = scope.data;
  const [events, persons, identifiedPersons, distinctIds, sessions, groups] = await Promise.all([
    d.events.countDocuments(),
    d.persons.countDocuments(),
    d.persons.countDocuments({ isIdentified: true }),
    d.personDistinctIds.countDocuments(),
    d.sessions.countDocuments(),
    d.groups.countDocuments(),
  ]);
  return { events, persons, identifiedPersons, distinctIds, sessions, groups };
}
