import { Timestamp } from 'bson';
import { StoreError } from '../engine/errors.ts';
import { ChangeStreamCursor } from '../engine/cursors.ts';
import { parseResumeToken } from '../engine/changes.ts';
import { isPlainObject } from '../engine/values.ts';
import { batchSizeArg } from './args.ts';
import { cursorReply } from './cursor-reply.ts';
import type { CommandContext } from './context.ts';
import type { Doc } from '../engine/types.ts';

/**
 * `aggregate` with a leading `$changeStream`: on a collection, a database (`aggregate: 1`), or the whole
 * deployment (`allChangesForCluster` on admin). Starts after a resume token or at an operation time.
 */
export function openChangeStream(ctx: CommandContext, db: string, coll: string | null, cmd: Doc, pipeline: Doc[]): Doc {
  const spec = pipeline[0]!.$changeStream;
  if (!isPlainObject(spec)) throw new StoreError('TypeMismatch', '$changeStream must be an object');
  for (const stage of pipeline.slice(1)) {
    if ('$changeStream' in stage || '$out' in stage || '$merge' in stage || '$lookup' in stage) {
      throw new StoreError('IllegalOperation', `${Object.keys(stage)[0]} is not permitted in a $changeStream pipeline`);
    }
  }
  const cluster = spec.allChangesForCluster === true;
  if (cluster && db !== 'admin') throw new StoreError('InvalidOptions', "$changeStream may only be run with allChangesForCluster on the 'admin' database");
  const token = spec.resumeAfter ?? spec.startAfter;
  if (spec.resumeAfter !== undefined && spec.startAfter !== undefined) {
    throw new StoreError('InvalidOptions', 'Do not specify both startAfter and resumeAfter in a $changeStream stage');
  }
  let afterSeq = ctx.changes.durableSeq;
  if (token !== undefined) afterSeq = parseResumeToken(token);
  else if (spec.startAtOperationTime instanceof Timestamp) afterSeq = ctx.changes.seqBefore(spec.startAtOperationTime);
  if (afterSeq > ctx.changes.latestSeq) throw new StoreError('ChangeStreamHistoryLost', 'resume token is from the future of this store');

  const cursor = new ChangeStreamCursor(`${db}.${coll ?? '$cmd.aggregate'}`, ctx.changes, {
    scope: cluster ? {} : coll === null ? { db } : { db, coll },
    fullDocument: typeof spec.fullDocument === 'string' ? spec.fullDocument : 'default',
    afterSeq,
    pipeline: pipeline.slice(1),
    lookup: (d, c, id) => ctx.catalog.get(d, c)?.getById(id)?.doc ?? null,
  });
  const batch = cursor.first(batchSizeArg(cmd, 0));
  // A change stream stays open even when nothing has happened yet.
  batch.exhausted = false;
  return cursorReply(ctx, cursor, batch, 'firstBatch');
}
