import { Long } from 'bson';
import { ArrayCursor, type Batch, type Cursor } from '../engine/cursors.ts';
import type { CommandContext } from './context.ts';
import type { Doc } from '../engine/types.ts';

/** MongoDB's default first batch for find and aggregate. */
export const DEFAULT_FIRST_BATCH = 101;

/** The `cursor` reply of a command, keeping a server cursor open when more results remain. */
export function cursorReply(ctx: CommandContext, cursor: Cursor, batch: Batch, field: 'firstBatch' | 'nextBatch', existingId?: Long): Doc {
  let id = Long.ZERO;
  if (!batch.exhausted) id = existingId ?? ctx.cursors.open(cursor);
  else if (existingId) ctx.cursors.kill(existingId);
  const reply: Doc = { id, ns: cursor.ns, [field]: batch.docs };
  if (batch.postBatchResumeToken) reply.postBatchResumeToken = batch.postBatchResumeToken;
  return { cursor: reply };
}

/** Replies with a whole computed result, first batch now and the rest through getMore. */
export function arrayCursorReply(ctx: CommandContext, ns: string, docs: Doc[], batchSize: number, singleBatch = false): Doc {
  const cursor = new ArrayCursor(ns, docs);
  const batch = cursor.next(batchSize);
  if (singleBatch) batch.exhausted = true;
  return cursorReply(ctx, cursor, batch, 'firstBatch');
}
