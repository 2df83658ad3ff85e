/** `ingestionWarnings`: something a user should know about an event that was still (partly) ingested. */
export interface IngestionWarningDocument {
  projectId: string;
  /** Stable code, e.g. `cannot_merge_already_identified`, `cannot_merge_with_illegal_distinct_id`. */
  type: string;
  /** Human-readable details, shown as given. */
  details: Record<string, unknown>;
  eventUuid?: string;
  distinctId?: string;
  /** When the warning was raised. */
  timestamp: Date;
}
