/**
 * `sessions`: one session rolled up from the events carrying its `$session_id`, maintained as
 * events arrive (in any order, in any request). Unique on `{projectId, sessionId}`.
 */
export interface SessionDocument {
  projectId: string;
  sessionId: string;
  /** The distinct id of the session's earliest event. */
  distinctId: string;
  startTimestamp: Date;
  endTimestamp: Date;
  eventCount: number;
  pageviewCount: number;
  autocaptureCount: number;
  /** Entry and exit facts; each carries the timestamp it was taken from so late events can replace it. */
  entry: Record<string, unknown> & { timestamp: Date };
  exit: Record<string, unknown> & { timestamp: Date };
}
