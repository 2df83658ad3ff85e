import type { Document } from 'mongodb';
import { channelType } from './channel-type.ts';
import type { SessionSummary } from './summary.ts';

/** The channel type of a session without entry facts (nothing known about where it came from). */
export const CHANNEL_TYPE_WITHOUT_ENTRY = channelType({});

/**
 * PostHog web analytics' bounce rule (reference posthog-semantics §4.4, default modifiers): a session
 * bounced when it had at most one page view (or screen), no autocapture, and lasted under 10 seconds.
 * Takes aggregation expressions for the three inputs, so it is evaluated inside the same atomic
 * update that changes the counts and the duration.
 */
export function isBounceExpression(pageviews: unknown, autocaptures: unknown, durationSeconds: unknown): Document {
  return { $and: [{ $lte: [pageviews, 1] }, { $eq: [autocaptures, 0] }, { $lt: [durationSeconds, 10] }] };
}

/**
 * An update pipeline that folds `summary` into its session document, creating it when absent
 * (upsert). It is one `$set` stage, so every expression reads the document as stored before this
 * update, and MongoDB applies it to the one document atomically: concurrent requests cannot
 * interleave inside it, and nothing is read first and decided outside the database.
 * - counts add; the end takes the max; the first event, entry and exit keep whichever of stored and
 *   new comes first/last by `(timestamp, uuid)`: the same result in any arrival order;
 * - `duration`, `isBounce` and `channelType` are computed from the merged values in the same stage,
 *   so they always agree with the stored facts.
 * Every value from an event is wrapped in `$literal`, so user text such as "$direct" is never read
 * as a field path or an operator.
 */
export function sessionUpdatePipeline(summary: SessionSummary): Document[] {
  const { first } = summary;
  const firstWins = precedes(lit(first.timestamp), lit(first.uuid), '$startTimestamp', '$startUuid');
  const start = { $cond: [firstWins, lit(first.timestamp), '$startTimestamp'] };
  const end = { $max: ['$endTimestamp', lit(summary.lastTimestamp)] };
  const pageviews = add('$pageviewCount', summary.pageviewCount);
  const autocaptures = add('$autocaptureCount', summary.autocaptureCount);
  const durationSeconds = { $divide: [{ $subtract: [end, start] }, 1000] };
  const storedChannelType = { $ifNull: ['$entry.channelType', lit(CHANNEL_TYPE_WITHOUT_ENTRY)] };
  const merged: Document = {
    eventCount: add('$eventCount', summary.eventCount),
    pageviewCount: pageviews,
    autocaptureCount: autocaptures,
    distinctId: { $cond: [firstWins, lit(first.distinctId), '$distinctId'] },
    startTimestamp: start,
    startUuid: { $cond: [firstWins, lit(first.uuid), '$startUuid'] },
    endTimestamp: end,
    duration: durationSeconds,
    isBounce: isBounceExpression(pageviews, autocaptures, durationSeconds),
    channelType: storedChannelType,
  };
  if (summary.entry !== undefined) {
    const { entry } = summary;
    const entryWins = precedes(lit(entry.timestamp), lit(entry.uuid), '$entry.timestamp', '$entry.uuid');
    merged.entry = { $cond: [entryWins, lit(entry), '$entry'] };
    merged.channelType = { $cond: [entryWins, lit(entry.channelType), storedChannelType] };
  }
  if (summary.exit !== undefined) {
    const { exit } = summary;
    merged.exit = { $cond: [follows(lit(exit.timestamp), lit(exit.uuid), '$exit.timestamp', '$exit.uuid'), lit(exit), '$exit'] };
  }
  return [{ $set: merged }];
}

function lit(value: unknown): Document {
  return { $literal: value };
}

function add(field: string, amount: number): Document {
  return { $add: [{ $ifNull: [field, 0] }, lit(amount)] };
}

/** The new `(timestamp, uuid)` comes before the stored one, or nothing is stored yet. */
function precedes(timestamp: Document, uuid: Document, storedTimestamp: string, storedUuid: string): Document {
  return {
    $or: [
      { $eq: [{ $type: storedTimestamp }, 'missing'] },
      { $lt: [timestamp, storedTimestamp] },
      { $and: [{ $eq: [timestamp, storedTimestamp] }, { $lt: [uuid, storedUuid] }] },
    ],
  };
}

/** The new `(timestamp, uuid)` comes after the stored one, or nothing is stored yet. */
function follows(timestamp: Document, uuid: Document, storedTimestamp: string, storedUuid: string): Document {
  return {
    $or: [
      { $eq: [{ $type: storedTimestamp }, 'missing'] },
      { $gt: [timestamp, storedTimestamp] },
      { $and: [{ $eq: [timestamp, storedTimestamp] }, { $gt: [uuid, storedUuid] }] },
    ],
  };
}
