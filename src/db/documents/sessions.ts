/**
 * `sessions`: one session rolled up from the events carrying its `$session_id`, maintained as
 * events arrive (in any order, in any request). Unique on `{projectId, sessionId}`.
 *
 * Every field is changed only by single-document atomic updates whose outcome does not depend on
 * the order events arrive in: counts add, bounds take min/max, and the entry/exit facts keep the
 * candidate with the earliest/latest `(timestamp, uuid)`. Derived fields (`duration`, `isBounce`,
 * `channelType`) are recomputed in the same update, so they always agree with the stored facts.
 */
export interface SessionDocument {
  projectId: string;
  sessionId: string;
  /** The distinct id of the session's earliest event. */
  distinctId: string;
  startTimestamp: Date;
  /** uuid of the earliest event: breaks timestamp ties, so the result does not depend on arrival order. */
  startUuid: string;
  endTimestamp: Date;
  /** `endTimestamp - startTimestamp`, in seconds. */
  duration: number;
  eventCount: number;
  /** `$pageview` and `$screen` events. */
  pageviewCount: number;
  autocaptureCount: number;
  /** Facts of the earliest event with a URL (or screen name); absent while the session has none. */
  entry?: SessionEntry;
  /** Facts of the latest event with a URL (or screen name). */
  exit?: SessionExit;
  isBounce: boolean;
  /** The entry's channel type, or the channel type of "nothing known" while there is no entry. */
  channelType: string;
}

/** Where a session's facts were taken from: the event's timestamp and uuid, the order key. */
export interface SessionFactSource {
  timestamp: Date;
  uuid: string;
}

/** Entry facts; a fact the event did not carry is absent (not null), so `is_not_set` filters work. */
export interface SessionEntry extends SessionFactSource {
  currentUrl: string;
  pathname?: string;
  referrer?: string;
  referringDomain?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
  utmTerm?: string;
  utmContent?: string;
  gclid?: string;
  gadSource?: string;
  fbclid?: string;
  /** Computed from this entry's facts when it was captured; replaced together with them. */
  channelType: string;
}

export interface SessionExit extends SessionFactSource {
  currentUrl: string;
  pathname?: string;
}
