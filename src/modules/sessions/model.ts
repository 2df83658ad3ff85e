import type { WithId } from 'mongodb';
import type { SessionDocument } from '../../db/documents.ts';
import type { ProjectScope } from '../../db/project-scope.ts';

/** A session as the API presents it; entry and exit facts are null when the session had none. */
export interface SessionModel {
  id: string;
  projectId: string;
  distinctId: string;
  startTimestamp: Date;
  endTimestamp: Date;
  /** Seconds. */
  duration: number;
  eventCount: number;
  pageviewCount: number;
  autocaptureCount: number;
  isBounce: boolean;
  channelType: string;
  entryCurrentUrl: string | null;
  entryPathname: string | null;
  entryReferrer: string | null;
  entryReferringDomain: string | null;
  entryUtmSource: string | null;
  entryUtmMedium: string | null;
  entryUtmCampaign: string | null;
  entryUtmTerm: string | null;
  entryUtmContent: string | null;
  entryGclid: string | null;
  entryGadSource: string | null;
  exitCurrentUrl: string | null;
  exitPathname: string | null;
  /** The same facts under PostHog's session property names (`$session_duration`, `$entry_utm_source`, ...). */
  properties: Record<string, unknown>;
  /** The (already authorized) project the session belongs to; its events are read through it. */
  scope: ProjectScope;
}

export function toSessionModel(doc: WithId<SessionDocument> | SessionDocument, scope: ProjectScope): SessionModel {
  const entry = doc.entry;
  const exit = doc.exit;
  const model: Omit<SessionModel, 'properties'> = {
    id: doc.sessionId,
    projectId: doc.projectId,
    distinctId: doc.distinctId,
    startTimestamp: doc.startTimestamp,
    endTimestamp: doc.endTimestamp,
    duration: doc.duration,
    eventCount: doc.eventCount,
    pageviewCount: doc.pageviewCount,
    autocaptureCount: doc.autocaptureCount,
    isBounce: doc.isBounce,
    channelType: doc.channelType,
    entryCurrentUrl: entry?.currentUrl ?? null,
    entryPathname: entry?.pathname ?? null,
    entryReferrer: entry?.referrer ?? null,
    entryReferringDomain: entry?.referringDomain ?? null,
    entryUtmSource: entry?.utmSource ?? null,
    entryUtmMedium: entry?.utmMedium ?? null,
    entryUtmCampaign: entry?.utmCampaign ?? null,
    entryUtmTerm: entry?.utmTerm ?? null,
    entryUtmContent: entry?.utmContent ?? null,
    entryGclid: entry?.gclid ?? null,
    entryGadSource: entry?.gadSource ?? null,
    exitCurrentUrl: exit?.currentUrl ?? null,
    exitPathname: exit?.pathname ?? null,
    scope,
  };
  return { ...model, properties: posthogProperties(model) };
}

function posthogProperties(s: Omit<SessionModel, 'properties'>): Record<string, unknown> {
  return {
    $session_id: s.id,
    $start_timestamp: s.startTimestamp.toISOString(),
    $end_timestamp: s.endTimestamp.toISOString(),
    $session_duration: s.duration,
    $entry_current_url: s.entryCurrentUrl,
    $entry_pathname: s.entryPathname,
    $entry_referrer: s.entryReferrer,
    $entry_referring_domain: s.entryReferringDomain,
    $entry_utm_source: s.entryUtmSource,
    $entry_utm_medium: s.entryUtmMedium,
    $entry_utm_campaign: s.entryUtmCampaign,
    $entry_utm_term: s.entryUtmTerm,
    $entry_utm_content: s.entryUtmContent,
    $entry_gclid: s.entryGclid,
    $entry_gad_source: s.entryGadSource,
    $exit_current_url: s.exitCurrentUrl,
    $exit_pathname: s.exitPathname,
    $pageview_count: s.pageviewCount,
    $autocapture_count: s.autocaptureCount,
    $is_bounce: s.isBounce,
    $channel_type: s.channelType,
  };
}
