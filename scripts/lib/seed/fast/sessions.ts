import type { SessionDocument } from '../../../../src/db/documents.ts';
import type { NormalizedEvent } from '../../../../src/ingest/types.ts';
import { isEarlier, isLater, summarizeSessions, type SessionSummary } from '../../../../src/modules/sessions/summary.ts';
import { CHANNEL_TYPE_WITHOUT_ENTRY } from '../../../../src/modules/sessions/update-pipeline.ts';

/**
 * Session rollups (modules/sessions/rollup.ts) in memory: each request's events are summarised by the
 * pipeline's own `summarizeSessions`, and summaries are folded the way the session update pipeline
 * folds them into the stored document (counts add, the earliest first event and entry and the latest
 * exit win by `(timestamp, uuid)`), so the result does not depend on how events were split.
 */
export class SessionAccumulator {
  private readonly sessions = new Map<string, SessionSummary>();

  get size(): number {
    return this.sessions.size;
  }

  add(events: NormalizedEvent[]): void {
    for (const summary of summarizeSessions(events)) {
      const stored = this.sessions.get(summary.sessionId);
      if (stored === undefined) this.sessions.set(summary.sessionId, summary);
      else fold(stored, summary);
    }
  }

  /** The documents the rollups would have left, without `projectId`. */
  documents(): Omit<SessionDocument, 'projectId'>[] {
    return [...this.sessions.values()].map(documentOf);
  }
}

function fold(stored: SessionSummary, next: SessionSummary): void {
  stored.eventCount += next.eventCount;
  stored.pageviewCount += next.pageviewCount;
  stored.autocaptureCount += next.autocaptureCount;
  if (isEarlier(next.first, stored.first)) stored.first = next.first;
  if (next.lastTimestamp > stored.lastTimestamp) stored.lastTimestamp = next.lastTimestamp;
  if (next.entry !== undefined && (stored.entry === undefined || isEarlier(next.entry, stored.entry))) stored.entry = next.entry;
  if (next.exit !== undefined && (stored.exit === undefined || isLater(next.exit, stored.exit))) stored.exit = next.exit;
}

/** The stored session of a summary, with the derived fields the update pipeline computes (see `isBounceExpression`). */
function documentOf(s: SessionSummary): Omit<SessionDocument, 'projectId'> {
  const duration = (s.lastTimestamp.getTime() - s.first.timestamp.getTime()) / 1000;
  const doc: Omit<SessionDocument, 'projectId'> = {
    sessionId: s.sessionId,
    distinctId: s.first.distinctId,
    startTimestamp: s.first.timestamp,
    startUuid: s.first.uuid,
    endTimestamp: s.lastTimestamp,
    duration,
    eventCount: s.eventCount,
    pageviewCount: s.pageviewCount,
    autocaptureCount: s.autocaptureCount,
    isBounce: s.pageviewCount <= 1 && s.autocaptureCount === 0 && duration < 10,
    channelType: s.entry?.channelType ?? CHANNEL_TYPE_WITHOUT_ENTRY,
  };
  if (s.entry !== undefined) doc.entry = s.entry;
  if (s.exit !== undefined) doc.exit = s.exit;
  return doc;
}
