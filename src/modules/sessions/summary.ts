import type { SessionEntry, SessionExit } from '../../db/documents.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import { channelType } from './channel-type.ts';

/**
 * What one request's events contribute to one session. Folding a summary into the stored session
 * is order-free (sums, min/max, earliest/latest by `(timestamp, uuid)`), so summaries of any split
 * of a session's events, applied in any order, give the same session.
 */
export interface SessionSummary {
  sessionId: string;
  eventCount: number;
  pageviewCount: number;
  autocaptureCount: number;
  /** The earliest event by `(timestamp, uuid)`. */
  first: { timestamp: Date; uuid: string; distinctId: string };
  lastTimestamp: Date;
  /** Facts of the earliest event with a URL or screen name. */
  entry?: SessionEntry;
  /** Facts of the latest event with a URL or screen name. */
  exit?: SessionExit;
}

/** Mobile SDKs send `$screen` where browsers send `$pageview`; both count as page views. */
const PAGEVIEW_EVENTS = new Set(['$pageview', '$screen']);

/** Groups events by `$session_id` (events without one belong to no session). */
export function summarizeSessions(events: readonly NormalizedEvent[]): SessionSummary[] {
  const bySession = new Map<string, SessionSummary>();
  for (const event of events) {
    if (event.sessionId === undefined) continue;
    const summary = bySession.get(event.sessionId);
    if (summary === undefined) bySession.set(event.sessionId, startSummary(event.sessionId, event));
    else addEvent(summary, event);
  }
  return [...bySession.values()];
}

function startSummary(sessionId: string, event: NormalizedEvent): SessionSummary {
  const summary: SessionSummary = {
    sessionId,
    eventCount: 1,
    pageviewCount: PAGEVIEW_EVENTS.has(event.event) ? 1 : 0,
    autocaptureCount: event.event === '$autocapture' ? 1 : 0,
    first: { timestamp: event.timestamp, uuid: event.uuid, distinctId: event.distinctId },
    lastTimestamp: event.timestamp,
  };
  const page = pageOf(event);
  if (page !== undefined) {
    summary.entry = entryOf(event, page);
    summary.exit = { timestamp: event.timestamp, uuid: event.uuid, ...page };
  }
  return summary;
}

function addEvent(summary: SessionSummary, event: NormalizedEvent): void {
  summary.eventCount += 1;
  if (PAGEVIEW_EVENTS.has(event.event)) summary.pageviewCount += 1;
  if (event.event === '$autocapture') summary.autocaptureCount += 1;
  if (isEarlier(event, summary.first)) summary.first = { timestamp: event.timestamp, uuid: event.uuid, distinctId: event.distinctId };
  if (event.timestamp > summary.lastTimestamp) summary.lastTimestamp = event.timestamp;
  // Only a candidate that beats the current one is worth extracting facts from.
  if (summary.entry === undefined || isEarlier(event, summary.entry)) {
    const page = pageOf(event);
    if (page !== undefined) summary.entry = entryOf(event, page);
  }
  if (summary.exit === undefined || isLater(event, summary.exit)) {
    const page = pageOf(event);
    if (page !== undefined) summary.exit = { timestamp: event.timestamp, uuid: event.uuid, ...page };
  }
}

/** Order of events inside a session: by timestamp, ties broken by uuid so every replica agrees. */
export function isEarlier(a: { timestamp: Date; uuid: string }, b: { timestamp: Date; uuid: string }): boolean {
  const d = a.timestamp.getTime() - b.timestamp.getTime();
  return d < 0 || (d === 0 && a.uuid < b.uuid);
}

export function isLater(a: { timestamp: Date; uuid: string }, b: { timestamp: Date; uuid: string }): boolean {
  const d = a.timestamp.getTime() - b.timestamp.getTime();
  return d > 0 || (d === 0 && a.uuid > b.uuid);
}

/**
 * The page an event was on: `$current_url` (with `$pathname`, or the URL's path), or for mobile the
 * `$screen_name`, which stands for both. Undefined when the event names neither.
 */
export function pageOf(event: NormalizedEvent): { currentUrl: string; pathname?: string } | undefined {
  const url = text(event.properties.$current_url);
  if (url !== undefined) {
    const pathname = text(event.properties.$pathname) ?? pathOf(url);
    return pathname === undefined ? { currentUrl: url } : { currentUrl: url, pathname };
  }
  const screen = text(event.properties.$screen_name);
  return screen === undefined ? undefined : { currentUrl: screen, pathname: screen };
}

/** The entry facts PostHog keeps for a session, from the event it entered on. */
const ENTRY_PROPERTIES = {
  referrer: '$referrer',
  referringDomain: '$referring_domain',
  utmSource: 'utm_source',
  utmMedium: 'utm_medium',
  utmCampaign: 'utm_campaign',
  utmTerm: 'utm_term',
  utmContent: 'utm_content',
  gclid: 'gclid',
  gadSource: 'gad_source',
  fbclid: 'fbclid',
} as const;

function entryOf(event: NormalizedEvent, page: { currentUrl: string; pathname?: string }): SessionEntry {
  const facts: Omit<SessionEntry, 'timestamp' | 'uuid' | 'channelType'> = { ...page };
  for (const [field, property] of Object.entries(ENTRY_PROPERTIES) as [keyof typeof ENTRY_PROPERTIES, string][]) {
    const value = text(event.properties[property]);
    if (value !== undefined) facts[field] = value;
  }
  return { timestamp: event.timestamp, uuid: event.uuid, ...facts, channelType: channelType(facts) };
}

/** A property as text: strings (non-empty) as they are, numbers and booleans written out; anything else is absent. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function pathOf(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
