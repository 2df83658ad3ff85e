import type { PropertyValueType } from '../../db/documents.ts';

/**
 * Session properties are computed from a session's events, not sent by SDKs, so their list is fixed
 * (PostHog's session properties) and served from here instead of from storage.
 */
export const SESSION_PROPERTIES: readonly { key: string; valueType: PropertyValueType }[] = [
  { key: '$session_id', valueType: 'String' },
  { key: '$start_timestamp', valueType: 'DateTime' },
  { key: '$end_timestamp', valueType: 'DateTime' },
  { key: '$session_duration', valueType: 'Numeric' },
  { key: '$entry_current_url', valueType: 'String' },
  { key: '$entry_pathname', valueType: 'String' },
  { key: '$entry_referring_domain', valueType: 'String' },
  { key: '$entry_utm_source', valueType: 'String' },
  { key: '$entry_utm_campaign', valueType: 'String' },
  { key: '$entry_utm_medium', valueType: 'String' },
  { key: '$entry_utm_term', valueType: 'String' },
  { key: '$entry_utm_content', valueType: 'String' },
  { key: '$entry_gclid', valueType: 'String' },
  { key: '$entry_gad_source', valueType: 'String' },
  { key: '$exit_current_url', valueType: 'String' },
  { key: '$exit_pathname', valueType: 'String' },
  { key: '$pageview_count', valueType: 'Numeric' },
  { key: '$autocapture_count', valueType: 'Numeric' },
  { key: '$channel_type', valueType: 'String' },
  { key: '$is_bounce', valueType: 'Boolean' },
];
