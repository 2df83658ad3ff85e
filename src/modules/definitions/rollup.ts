import type { ProjectScope } from '../../db/project-scope.ts';
import type { EventDefinitionDocument, PropertyDefinitionDocument } from '../../db/documents.ts';
import type { ScopedBulkOperation } from '../../db/scoped-collection.ts';
import { duplicateKeyIndexes } from '../../db/write-errors.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { groupTypeRegistry } from '../groups/type-registry.ts';
import { collectDefinitions, type CollectedDefinitions } from './collect.ts';

/** Two upserts of one new definition can race to insert it; the loser is retried as an update. */
const MAX_ROUNDS = 3;

/** What `events` add to the project's definitions, not yet written. */
export function collectFrom(scope: ProjectScope, events: NormalizedEvent[]): CollectedDefinitions {
  return collectDefinitions(events, (name) => groupTypeRegistry.cachedIndex(scope.projectId, name));
}

/** One unordered upsert per distinct name and per distinct (kind, group type, key), in one bulk write per collection. */
export async function writeDefinitions(scope: ProjectScope, collected: CollectedDefinitions): Promise<void> {
  const eventOps = [...collected.events.values()].map((d): ScopedBulkOperation<EventDefinitionDocument> => ({
    updateOne: {
      filter: { name: d.name },
      update: { $min: { firstSeen: d.firstSeen }, $max: { lastSeen: d.lastSeen }, $inc: { volume: d.volume } },
      upsert: true,
    },
  }));
  const propertyOps = [...collected.properties.values()].map((d): ScopedBulkOperation<PropertyDefinitionDocument> => ({
    updateOne: {
      filter: { kind: d.kind, groupTypeIndex: d.groupTypeIndex, key: d.key },
      update: { $setOnInsert: { valueType: d.valueType }, $min: { firstSeen: d.firstSeen }, $max: { lastSeen: d.lastSeen }, $inc: { volume: d.volume } },
      upsert: true,
    },
  }));
  await Promise.all([
    upsertAll((ops) => scope.data.eventDefinitions.bulkWrite(ops, { ordered: false }), eventOps),
    upsertAll((ops) => scope.data.propertyDefinitions.bulkWrite(ops, { ordered: false }), propertyOps),
  ]);
}

/** Runs the upserts, retrying only those that lost an insert race (each of them now finds the document). */
async function upsertAll<T>(write: (ops: ScopedBulkOperation<T>[]) => Promise<unknown>, operations: ScopedBulkOperation<T>[]): Promise<void> {
  let pending = operations;
  for (let round = 1; pending.length > 0; round++) {
    try {
      await write(pending);
      return;
    } catch (error) {
      const raced = duplicateKeyIndexes(error);
      if (round >= MAX_ROUNDS || raced === undefined) throw error;
      const retry = new Set(raced);
      pending = pending.filter((_, i) => retry.has(i));
    }
  }
}
