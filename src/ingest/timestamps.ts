import { parseDateValue } from './date-parse.ts';

/** Events stamped further than this ahead of the server clock are instrumentation bugs; they get `now`. */
export const FUTURE_CUTOFF_MS = 23 * 60 * 60 * 1000;

/** Warning codes, named as PostHog's ingestion warnings so existing dashboards and docs apply. */
export const TIMESTAMP_WARNINGS = {
  invalid: 'ignored_invalid_timestamp',
  future: 'event_timestamp_in_future',
} as const;

/** Inputs to {@link resolveTimestamp}; `timestamp` and `offset` are the raw values the event carried. */
export interface TimestampInput {
  now: Date;
  timestamp?: unknown;
  /** The request's send time (see {@link parseSentAt}), used to cancel client clock skew. */
  sentAt?: Date;
  /** Milliseconds before `now` at which the event happened; overrides the other fields. */
  offset?: unknown;
  ignoreSentAt?: boolean;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Decides when an event happened: `now + (timestamp − sentAt)` when both are known (so a client whose
 * clock is wrong still lands at the right moment), else `timestamp`; a numeric `offset` means
 * `now − offset` and wins; nothing usable means `now`. A result more than 23 h ahead becomes `now`, and
 * one outside years 0-9999 becomes the epoch. An unreadable value is ignored and reported in `warning`.
 */
export function resolveTimestamp(input: TimestampInput): { timestamp: Date; warning?: string } {
  const now = input.now.getTime();
  let warning: string | undefined;
  let result = now;

  if (!isAbsent(input.timestamp)) {
    const parsed = parseDateValue(input.timestamp);
    if (parsed === undefined) {
      warning = TIMESTAMP_WARNINGS.invalid;
    } else if (input.sentAt !== undefined && !input.ignoreSentAt) {
      result = now + (parsed.getTime() - input.sentAt.getTime());
    } else {
      result = parsed.getTime();
    }
  }

  if (!isAbsent(input.offset)) {
    if (typeof input.offset === 'number' && Number.isFinite(input.offset)) {
      result = now - input.offset;
    } else {
      warning = TIMESTAMP_WARNINGS.invalid;
    }
  }

  if (result - now > FUTURE_CUTOFF_MS) {
    return { timestamp: new Date(now), warning: TIMESTAMP_WARNINGS.future };
  }
  const date = new Date(result);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    return { timestamp: new Date(0), warning: TIMESTAMP_WARNINGS.invalid };
  }
  return warning === undefined ? { timestamp: date } : { timestamp: date, warning };
}

// Query-string send times in seconds rather than milliseconds land in 1970; anything this old is one.
const QUERY_SENT_AT_MIN_YEAR = 2021;

/**
 * The request's send time: an ISO `sent_at` in the body wins; otherwise the query's `sent_at` or `_`,
 * which SDKs send as epoch milliseconds and which is ignored when it reads as year 2020 or earlier
 * (that means seconds were sent). Undefined when neither is usable.
 */
export function parseSentAt(bodySentAt: unknown, querySentAtOrUnderscore: string | null | undefined): Date | undefined {
  if (!isAbsent(bodySentAt)) {
    const parsed = parseDateValue(bodySentAt);
    if (parsed !== undefined && inStorableRange(parsed)) return parsed;
  }
  const query = querySentAtOrUnderscore?.trim();
  if (query === undefined || !/^\d+$/.test(query)) return undefined;
  const fromQuery = new Date(Number(query));
  if (Number.isNaN(fromQuery.getTime()) || fromQuery.getUTCFullYear() < QUERY_SENT_AT_MIN_YEAR) return undefined;
  return inStorableRange(fromQuery) ? fromQuery : undefined;
}

function inStorableRange(date: Date): boolean {
  const year = date.getUTCFullYear();
  return year >= 0 && year <= 9999;
}
