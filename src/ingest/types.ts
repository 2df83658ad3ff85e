import type { GroupSlot } from '../db/documents.ts';

/** One event after decoding and normalization, before it is written. Property keys are still raw user keys. */
export interface NormalizedEvent {
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  properties: Record<string, unknown>;
  /** `properties.$session_id` when it is a non-empty string; kept on the envelope for indexing. */
  sessionId?: string;
  /** Group keys by slot (`g0`..`g4`), set by group processing from `$groups`. */
  groups?: Partial<Record<GroupSlot, string>>;
  /** Data-quality notes (e.g. `ignored_invalid_timestamp`): the event was kept, but something was fixed up. */
  warnings?: string[];
}

/** Why one event of a request was refused; `index` is its position in the request's batch. */
export interface EventRefusal {
  index: number;
  uuid?: string;
  code: string;
  message: string;
}

/** The outcome of normalizing one request: the events that passed, and the ones refused with reasons. */
export interface NormalizedBatch {
  token: string;
  events: NormalizedEvent[];
  refused: EventRefusal[];
  /** True when the request marked itself `historical_migration`. */
  historicalMigration: boolean;
}
