import type { SessionDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import type { ScopedBulkOperation } from '../../db/scoped-collection.ts';
import { duplicateKeyIndexes } from '../../db/write-errors.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { summarizeSessions } from './summary.ts';
import { sessionUpdatePipeline } from './update-pipeline.ts';


/**
 * Folds newly stored events into their sessions: one unordered bulk write per request, one upsert
 * per session touched, each an atomic update pipeline (see update-pipeline.ts), so events may arrive
 * out of order, split across requests, or in concurrent requests. The caller passes only events
 * this request stored, so a retried event is never counted twice.
 */
export async function rollupSessions(scope: ProjectScope, events: NormalizedEvent[]): Promise<void> {
  const operations: ScopedBulkOperation<SessionDocument>[] = summarizeSessions(events).map((summary) => ({
    updateOne: { filter: { sessionId: summary.sessionId }, update: sessionUpdatePipeline(summary), upsert: true },
  }));
  if (operations.length === 0) return;
  const retry = await writeOrCollectRaces(scope, operations);
  // Two requests upserting the same new session race on the unique index and one loses with a
  // duplicate key; by now the winner's document exists, so the second attempt updates it.
  if (retry.length > 0) {
    const again = await writeOrCollectRaces(scope, retry);
    if (again.length > 0) throw new Error(`session rollup: ${again.length} upserts kept failing with duplicate keys`);
  }
}

/** Runs the operations; returns the ones that lost an upsert race (and only those), throws on anything else. */
async function writeOrCollectRaces(scope: ProjectScope, operations: ScopedBulkOperation<SessionDocument>[]): Promise<ScopedBulkOperation<SessionDocument>[]> {
  try {
    // Default write concern: the events are already durable and the request cannot be failed any more,
    // so waiting for the journal here would only slow every capture down.
    await scope.data.sessions.bulkWrite(operations, { ordered: false });
    return [];
  } catch (error) {
    const raced = duplicateKeyIndexes(error);
    if (raced === undefined) throw error;
    return raced.map((index) => operations[index]!);
  }
}
