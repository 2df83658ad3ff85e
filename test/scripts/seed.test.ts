import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsOf, type Collections } from '../../src/db/collections.ts';
import { openStorage, type Storage } from '../../src/db/storage.ts';
import { SeedGenerator } from '../../scripts/lib/seed/generate.ts';
import { parseSeedOptions, type SeedOptions } from '../../scripts/lib/seed/options.ts';
import { seedStorage, type SeedResult } from '../../scripts/lib/seed/run.ts';
import { tempDataDir } from '../helpers/store.ts';

/**
 * Small enough for seconds through the real pipeline; this seed has every identity path in it: a
 * newsletter subscriber (an anonymous person) who later signs up (a merge of two persons), signups of
 * personless visitors, logins on second devices, billing aliases and renewals from the backend.
 */
const SMALL = ['--users', '60', '--days', '30', '--events', '2500', '--seed', '5', '--end', '2025-03-31', '--batch-size', '150'];
const options = (...extra: string[]): SeedOptions => parseSeedOptions([...SMALL, ...extra], {});

const sortBy = <T>(items: T[], key: (item: T) => string) => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/**
 * A project's stored data with everything that legitimately differs between two projects removed:
 * ids, storage times, the project token. Persons are keyed by their distinct ids, since person ids
 * derive from the project id.
 */
async function storedData(collections: Collections, projectId: string) {
  const find = <T>(c: { find(f: object, o?: object): { toArray(): Promise<T[]> } }) => c.find({ projectId }, { projection: { _id: 0, projectId: 0 } }).toArray();
  const events = (await find<Record<string, any>>(collections.events)).map(({ createdAt: _c, properties: { token: _t, ...properties }, ...e }): Record<string, any> => ({ ...e, properties }));
  const mappings = await find<{ distinctId: string; personId: string; createdAt: Date }>(collections.personDistinctIds);
  const persons = await collections.persons.find({ projectId }).toArray();
  const idsOf = (personId: string) => mappings.filter((m) => m.personId === personId).map((m) => m.distinctId).sort().join(' ');
  return {
    events: sortBy(events, (e) => e.uuid),
    persons: sortBy(persons.map((p) => ({ distinctIds: idsOf(p._id), properties: p.properties, isIdentified: p.isIdentified, createdAt: p.createdAt, version: p.version, merging: p.mergingInto })), (p) => p.distinctIds),
    mappings: sortBy(mappings.map(({ personId: _p, ...m }) => m), (m) => m.distinctId),
    merges: await collections.personMerges.countDocuments({ projectId }),
    sessions: sortBy(await find<Record<string, any>>(collections.sessions), (s) => s.sessionId),
    groups: sortBy((await find<Record<string, any>>(collections.groups)).map(({ updatedAt: _u, ...g }) => g), (g) => g.key),
    groupTypes: (await find<Record<string, any>>(collections.groupTypes)).map(({ index, name }) => ({ index, name })),
    eventDefinitions: sortBy(await find<Record<string, any>>(collections.eventDefinitions), (d) => d.name),
    propertyDefinitions: sortBy(await find<Record<string, any>>(collections.propertyDefinitions), (d) => `${d.kind} ${d.groupTypeIndex} ${d.key}`),
    warnings: (await find<{ type: string }>(collections.ingestionWarnings)).map((w) => w.type).sort(),
  };
}

describe('seed generator', () => {
  it('gives the same events for the same seed and options, and other events for another seed', () => {
    const digest = (o: SeedOptions) => {
      const generator = new SeedGenerator(o);
      for (const _batch of generator.batches());
      return generator.stats.digest;
    };
    const tiny = ['--users', '30', '--days', '10', '--events', '800'];
    const first = digest(options(...tiny));
    expect(digest(options(...tiny))).toBe(first);
    expect(digest(options(...tiny, '--seed', '6'))).not.toBe(first);
  });

  it('keeps every event inside the period, in time order, with uuidv7 ids of their own timestamps', () => {
    const generator = new SeedGenerator(options());
    let last = -Infinity;
    for (const batch of generator.batches()) {
      for (const event of batch) {
        expect(event.ms).toBeGreaterThanOrEqual(last);
        last = event.ms;
        expect(parseInt(event.uuid.replace(/-/g, '').slice(0, 12), 16)).toBe(event.ms);
        expect(event.ms).toBeGreaterThanOrEqual(generator.calendar.start);
        expect(event.ms).toBeLessThan(generator.calendar.end);
      }
    }
    const { stats } = generator;
    expect(stats.events).toBeGreaterThan(2500 * 0.9);
    expect(stats.events).toBeLessThan(2500 * 1.1);
    for (const name of ['$pageview', '$autocapture', '$pageleave', '$identify', '$groupidentify', '$set', '$create_alias', 'signed_up', 'activated', 'purchase', 'subscription_renewed']) {
      expect(stats.byName.get(name) ?? 0, name).toBeGreaterThan(0);
    }
    expect(stats.personlessEvents).toBeGreaterThan(0);
  });
});

describe('seeding through the pipeline and with --fast', () => {
  let dataDir: string;
  let storage: Storage;
  let pipeline: SeedResult;
  let fast: SeedResult;

  beforeAll(async () => {
    dataDir = await tempDataDir('sightline-seed-');
    const logger = pino({ level: 'silent' });
    storage = await openStorage({ dataDir, embeddedPort: 0, logger });
    pipeline = await seedStorage(options(), storage, logger);
    fast = await seedStorage(options('--fast'), storage, logger);
  }, 60_000);

  afterAll(async () => {
    await storage?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the same events, persons, distinct ids, sessions, groups and definitions', async () => {
    const collections = collectionsOf(storage.db);
    const viaPipeline = await storedData(collections, pipeline.projectId);
    const viaFast = await storedData(collections, fast.projectId);
    expect(pipeline.stats.digest).toBe(fast.stats.digest);
    expect(viaFast.events.length).toBe(pipeline.stats.events);
    expect(viaPipeline.persons.length).toBeGreaterThan(0);
    expect(viaPipeline.mappings.length).toBeGreaterThan(viaPipeline.persons.length);
    expect(viaPipeline.merges).toBeGreaterThan(0);
    expect(viaPipeline.groups.length).toBeGreaterThan(0);
    for (const key of Object.keys(viaPipeline) as (keyof typeof viaPipeline)[]) {
      expect(viaFast[key], key).toEqual(viaPipeline[key]);
    }
  });

  it('reports what it stored', () => {
    expect(fast.stored).toEqual(pipeline.stored);
    expect(pipeline.stored!.events).toBe(pipeline.stats.events);
    expect(pipeline.stored!.identifiedPersons).toBeGreaterThan(0);
    expect(pipeline.stored!.sessions).toBe(pipeline.stats.sessions);
  });
});
