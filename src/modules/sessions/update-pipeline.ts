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

/** Where the pipeline keeps its decisions between stages; removed by its last stage. */
const WINS = '_wins';

/**
 * An update pipeline that folds `summary` into its session document, creating it when absent
 * (upsert). MongoDB applies the whole pipeline to the one document atomically: concurrent requests
 * cannot interleave inside it, and nothing is read first and decided outside the database.
 * - the first stage adds the counts and decides, from the document as stored, whether the new first
 *   event, entry and exit win: whichever of stored and new comes first/last by `(timestamp, uuid)`,
 *   the same result in any arrival order (deciding once keeps the update small: it is sent and
 *   evaluated for every session of every request);
 * - the second applies those decisions; the third derives `duration` and `isBounce` from the merged
 *   values, so they always agree with the stored facts; the last drops the decisions.
 * Every value from an event is wrapped in `$literal`, so user text such as "$direct" is never read
 * as a field path or an operator.
 */
export function sessionUpdatePipeline(summary: SessionSummary): Document[] {
  const { first, entry, exit } = summary;
  const wins: Document = { first: precedes(lit(first.timestamp), lit(first.uuid), '$startTimestamp', '$startUuid') };
  if (entry !== undefined) wins.entry = precedes(lit(entry.timestamp), lit(entry.uuid), '$entry.timestamp', '$entry.uuid');
  if (exit !== undefined) wins.exit = follows(lit(exit.timestamp), lit(exit.uuid), '$exit.timestamp', '$exit.uuid');
  const decide: Document = {
    eventCount: add('$eventCount', summary.eventCount),
    pageviewCount: add('$pageviewCount', summary.pageviewCount),
    autocaptureCount: add('$autocaptureCount', summary.autocaptureCount),
    [WINS]: wins,
  };
  const firstWins = `$${WINS}.first`;
  const storedChannelType = { $ifNull: ['$entry.channelType', lit(CHANNEL_TYPE_WITHOUT_ENTRY)] };
  const apply: Document = {
    distinctId: { $cond: [firstWins, lit(first.distinctId), '$distinctId'] },
    startTimestamp: { $cond: [firstWins, lit(first.timestamp), '$startTimestamp'] },
    startUuid: { $cond: [firstWins, lit(first.uuid), '$startUuid'] },
    endTimestamp: { $max: ['$endTimestamp', lit(summary.lastTimestamp)] },
    channelType: storedChannelType,
  };
  if (entry !== undefined) {
    apply.entry = { $cond: [`$${WINS}.entry`, lit(entry), '$entry'] };
    apply.channelType = { $cond: [`$${WINS}.entry`, lit(entry.channelType), storedChannelType] };
  }
  if (exit !== undefined) apply.exit = { $cond: [`$${WINS}.exit`, lit(exit), '$exit'] };
  const durationSeconds = { $divide: [{ $subtract: ['$endTimestamp', '$startTimestamp'] }, 1000] };
  const derive: Document = {
    duration: durationSeconds,
    isBounce: isBounceExpression('$pageviewCount', '$autocaptureCount', durationSeconds),
  };
  return [{ $set: decide }, { $set: apply }, { $set: derive }, { $unset: WINS }];
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
