/**
 * Capture failures with the HTTP status and the stable machine-readable code the SDKs and users see.
 * Codes follow PostHog's newest capture service where it has one, so existing tooling recognises them.
 */
export type CaptureErrorCode =
  | 'invalid_payload'
  | 'missing_event_name'
  | 'missing_distinct_id'
  | 'invalid_uuid'
  | 'event_too_big'
  | 'no_events'
  | 'multiple_tokens'
  | 'ingest_key_required'
  | 'ingest_key_unknown'
  | 'personal_key_not_allowed'
  | 'payload_too_large'
  | 'method_not_allowed'
  | 'service_unavailable';

const STATUS: Record<CaptureErrorCode, number> = {
  invalid_payload: 400,
  missing_event_name: 400,
  missing_distinct_id: 400,
  invalid_uuid: 400,
  event_too_big: 400,
  no_events: 400,
  multiple_tokens: 400,
  ingest_key_required: 401,
  ingest_key_unknown: 403,
  personal_key_not_allowed: 403,
  payload_too_large: 413,
  method_not_allowed: 405,
  service_unavailable: 503,
};

export class CaptureError extends Error {
  readonly status: number;
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CaptureError';
    this.status = STATUS[code];
  }
}
