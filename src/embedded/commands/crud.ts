import { Query } from 'mingo/query';
import { StoreError } from '../engine/errors.ts';
import { mingoOptions } from '../engine/mingo-options.ts';
import { MAX_WRITE_BATCH_SIZE } from '../engine/limits.ts';
import { deleteDocuments, findAndModify, insertDocuments, updateDocuments, type DeleteStatement, type UpdateStatement } from '../engine/writes.ts';
import { isPlainObject } from '../engine/values.ts';
import { arrayArg, collectionArg, docArg } from './args.ts';
import type { CommandHandler } from './context.ts';
import type { Doc } from '../engine/types.ts';

function batchOf(cmd: Doc, field: string): Doc[] {
  const items = arrayArg(cmd, field);
  if (items.length > MAX_WRITE_BATCH_SIZE) {
    throw new StoreError('InvalidOptions', `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH_SIZE}. Got ${items.length} operations.`);
  }
  for (const item of items) if (!isPlainObject(item)) throw new StoreError('TypeMismatch', `${field} entries must be documents`);
  return items;
}

export const insert: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'insert');
  const docs = batchOf(cmd, 'documents');
  ctx.counters.opcounters.insert += docs.length;
  return insertDocuments(ctx.catalog, db, coll, docs, cmd.ordered !== false);
};

export const update: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'update');
  const statements = batchOf(cmd, 'updates') as unknown as UpdateStatement[];
  ctx.counters.opcounters.update += statements.length;
  return updateDocuments(ctx.catalog, db, coll, statements, cmd.ordered !== false);
};

export const remove: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'delete');
  const statements = batchOf(cmd, 'deletes').map((d) => ({ q: d.q as Doc, limit: Number(d.limit ?? 0) })) as DeleteStatement[];
  ctx.counters.opcounters.delete += statements.length;
  return deleteDocuments(ctx.catalog, db, coll, statements, cmd.ordered !== false);
};

export const findAndModifyCommand: CommandHandler = (ctx, db, cmd) => {
  const coll = collectionArg(cmd, 'findAndModify' in cmd ? 'findAndModify' : 'findandmodify');
  ctx.counters.opcounters.command++;
  const fields = docArg(cmd, 'fields');
  const outcome = findAndModify(ctx.catalog, db, coll, {
    query: docArg(cmd, 'query'),
    sort: docArg(cmd, 'sort'),
    remove: cmd.remove === true,
    update: cmd.update as Doc | Doc[] | undefined,
    new: cmd.new === true,
    upsert: cmd.upsert === true,
    arrayFilters: cmd.arrayFilters as Doc[] | undefined,
  });
  const value = outcome.value && Object.keys(fields).length ? project(outcome.value, fields) : outcome.value;
  return { lastErrorObject: outcome.lastErrorObject, value };
};

function project(doc: Doc, projection: Doc): Doc {
  return (new Query({}, mingoOptions()).find([doc], projection).all()[0] as Doc | undefined) ?? doc;
}
