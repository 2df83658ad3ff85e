import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsOf, type Collections } from '../../db/collections.ts';
import { ProjectScope } from '../../db/project-scope.ts';
import { startProjectStore, type ProjectStore } from '../../../test/helpers/store.ts';
import { GroupTypeRegistry } from './type-registry.ts';

let stores: ProjectStore;
let collections: Collections;
const newProject = () => stores.newProject();

beforeAll(async () => {
  stores = await startProjectStore('registry');
  collections = stores.collections;
});

afterAll(async () => {
  await stores?.dispose();
});

/** Each registry stands for one server process: its own cache, one shared database. */
function processes(count: number): GroupTypeRegistry[] {
  return Array.from({ length: count }, () => new GroupTypeRegistry());
}

describe('GroupTypeRegistry', () => {
  it('assigns indexes in the order names are first given, across calls', async () => {
    const [registry] = processes(1);
    const scope = newProject();
    expect(Object.fromEntries(await registry!.resolve(scope, ['company', 'team', 'company']))).toEqual({ company: 0, team: 1 });
    expect(Object.fromEntries(await registry!.resolve(scope, ['org', 'team']))).toEqual({ org: 2, team: 1 });
  });

  it('gives every process the same index when many claim the same new type at once', async () => {
    const scope = newProject();
    const results = await Promise.all(processes(12).map((registry) => registry.resolve(scope, ['company'])));
    expect(results.map((r) => r.get('company'))).toEqual(Array(12).fill(0));
    expect(await collections.groupTypes.countDocuments({ projectId: scope.projectId })).toBe(1);
  });

  it('settles on five distinct indexes when processes race with different new types in different orders', async () => {
    const scope = newProject();
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const registries = processes(10);
    // Each process sees the names in its own rotation.
    const results = await Promise.all(registries.map((registry, i) => registry.resolve(scope, [...names.slice(i % 7), ...names.slice(0, i % 7)])));
    const stored = await collections.groupTypes.find({ projectId: scope.projectId }).toArray();
    expect(stored).toHaveLength(5);
    expect(stored.map((t) => t.index).sort()).toEqual([0, 1, 2, 3, 4]);
    const truth = new Map(stored.map((t) => [t.name, t.index]));
    // Every process answers from the same mapping; the names that did not fit are absent everywhere.
    for (const result of results) expect(result).toEqual(truth);
  });

  it('refuses a sixth type without a query once the cache holds five', async () => {
    const [registry] = processes(1);
    const client = new MongoClient(stores.store.store.url, { monitorCommands: true });
    await client.connect();
    try {
      const scope = new ProjectScope(newProject().project, collectionsOf(client.db('registry')));
      await registry!.resolve(scope, ['t0', 't1', 't2', 't3', 't4']);
      const commands: string[] = [];
      client.on('commandStarted', (event) => commands.push(event.commandName));
      const result = await registry!.resolve(scope, ['t5', 't2']);
      expect(Object.fromEntries(result)).toEqual({ t2: 2 });
      expect(commands).toEqual([]);
      // The same watcher does see the queries a name it cannot answer from memory costs.
      await registry!.resolve(new ProjectScope(newProject().project, collectionsOf(client.db('registry'))), ['t0']);
      expect(commands).toEqual(['find', 'insert']);
    } finally {
      await client.close();
    }
  });

  it('learns types another process claimed when it meets a name it does not know', async () => {
    const [first, second] = processes(2);
    const scope = newProject();
    await second!.resolve(scope, ['seen-by-second']);
    await first!.resolve(scope, ['company']);
    await second!.resolve(scope, ['company']);
    expect(second!.cachedIndex(scope.projectId, 'company')).toBe(1);
    expect(first!.cachedIndex(scope.projectId, 'seen-by-second')).toBe(0);
  });

  it('keeps each project to its own indexes', async () => {
    const [registry] = processes(1);
    const one = newProject();
    const two = newProject();
    await registry!.resolve(one, ['x', 'company']);
    expect(Object.fromEntries(await registry!.resolve(two, ['company']))).toEqual({ company: 0 });
  });
});
