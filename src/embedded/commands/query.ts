import { Long } from 'bson';
import { Query } from 'mingo/query';
import { resolve } from 'mingo/util';
import { StoreError, toStoreError } from '../engine/errors.ts';
import { mingoOptions } from '../engine/mingo-options.ts';
import { runAggregate } from '../engine/aggregate.ts';
import { emptyScanStats } from '../engine/collection.ts';
import { keyOf } from '../engine/values.ts';
import { arrayArg, batchSizeArg, collectionArg, docArg, numberArg } from './args.ts';
import { DEFAULT_FIRST_BATCH, arrayCursorReply, cursorReply } from './cursor-reply.ts';
import { openChangeStream } from './change-stream.ts';
import { recordScan, type CommandContext, type CommandHandler } from './context.ts';
import type { Doc, ScanStats } from '../engine/types.ts';

interface FindResult {
  docs: Doc[];
  stats: ScanStats;
}

/** Runs a find: filter (through indexes), then sort, skip, limit and projection with MongoDB's find semantics. */
function runFind(ctx: CommandContext, db: string, cmd: Doc): FindResult {
  const coll = collectionArg(cmd, 'find');
  const filter = docArg(cmd, 'filter');
  const sort = docArg(cmd, 'sort');
  const projection = docArg(cmd, 'projection');
  const skip = numberArg(cmd, 'skip', 0);
  const limit = Math.abs(numberArg(cmd, 'limit', 0));
  if (skip < 0) throw new StoreError('BadValue', 'skip value must be non-negative');
  const collection = ctx.catalog.get(db, coll);
  if (!collection) return { docs: [], stats: emptyScanStats() };
  const sorted = Object.keys(sort).length > 0;
  // Without a sort, scanning can stop as soon as skip + limit matches are found.
  const { records, stats } = collection.scan(filter, !sorted && limit ? skip + limit : 0);
  try {
    // The filter is only needed again for a positional projection ("field.$").
    const positional = Object.keys(projection).some((k) => k.endsWith('.$'));
    const { slices, rest } = splitSlices(projection);
    let cursor = new Query(positional ? filter : {}, mingoOptions()).find(
      records.map((r) => r.doc),
      Object.keys(rest).length ? rest : undefined,
    );
    if (sorted) cursor = cursor.sort(sort as Record<string, 1 | -1>);
    if (skip) cursor = cursor.skip(skip);
    if (limit) cursor = cursor.limit(limit);
    const docs = cursor.all() as Doc[];
    if (!slices) return { docs, stats };
    const slicer = new Query({}, mingoOptions());
    return { docs: docs.map((d) => ({ ...d, ...(slicer.find([d], slices).all()[0] as Doc) })), stats };
  } catch (error) {
    throw toStoreError(error);
  }
}

/**
 * In MongoDB a projection made of `$slice` operators and exclusions keeps every other field; mingo
 * reads `$slice` as an inclusion. Such projections are split: exclusions first, then the slices.
 */
function splitSlices(projection: Doc): { slices?: Doc; rest: Doc } {
  const slices: Doc = {};
  const rest: Doc = {};
  for (const [field, spec] of Object.entries(projection)) {
    if (typeof spec === 'object' && spec !== null && '$slice' in spec) slices[field] = spec;
    else rest[field] = spec;
  }
  const exclusionOnly = Object.values(rest).every((v) => v === 0 || v === false);
  if (Object.keys(slices).length === 0 || !exclusionOnly) return { rest: projection };
  return { slices, rest };
}

export const find: CommandHandler = (ctx, db, cmd) => {
  ctx.counters.opcounters.query++;
  const { docs, stats } = runFind(ctx, db, cmd);
  recordScan(ctx, stats);
  const singleBatch = cmd.singleBatch === true || numberArg(cmd, 'limit', 0) < 0;
  return arrayCursorReply(ctx, `${db}.${collectionArg(cmd, 'find')}`, docs, batchSizeArg(cmd, DEFAULT_FIRST_BATCH), singleBatch);
};

export const getMore: CommandHandler = async (ctx, db, cmd) => {
  ctx.counters.opcounters.getmore++;
  // Cursor ids arrive as int64; the decoder turns those that fit into plain numbers.
  if (!['number', 'bigint'].includes(typeof cmd.getMore) && !(cmd.getMore instanceof Long)) {
    throw new StoreError('TypeMismatch', "BSON field 'getMore.getMore' must be a cursor id");
  }
  const id = Long.fromString(String(cmd.getMore));
  const ns = `${db}.${collectionArg(cmd, 'collection')}`;
  const cursor = ctx.cursors.get(id, ns);
  const batch = await cursor.next(numberArg(cmd, 'batchSize', 0), numberArg(cmd, 'maxTimeMS', 1000));
  return cursorReply(ctx, cursor, batch, 'nextBatch', id);
};

export const killCursors: CommandHandler = (ctx, _db, cmd) => {
  const cursorsKilled: unknown[] = [];
  const cursorsNotFound: unknown[] = [];
  for (const id of arrayArg(cmd, 'cursors') as unknown as Long[]) {
    (ctx.cursors.kill(id) ? cursorsKilled : cursorsNotFound).push(id);
  }
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
};

export const count: CommandHandler = (ctx, db, cmd) => {
  ctx.counters.opcounters.command++;
  const coll = collectionArg(cmd, 'count');
  const collection = ctx.catalog.get(db, coll);
  if (!collection) return { n: 0 };
  const query = docArg(cmd, 'query');
  const skip = numberArg(cmd, 'skip', 0);
  const limit = Math.abs(numberArg(cmd, 'limit', 0));
  let n: number;
  if (Object.keys(query).length === 0) n = collection.count;
  else {
    const { records, stats } = collection.scan(query, limit ? skip + limit : 0);
    recordScan(ctx, stats);
    n = records.length;
  }
  n = Math.max(0, n - skip);
  return { n: limit ? Math.min(n, limit) : n };
};

export const distinct: CommandHandler = (ctx, db, cmd) => {
  ctx.counters.opcounters.command++;
  const coll = collectionArg(cmd, 'distinct');
  const key = cmd.key;
  if (typeof key !== 'string') throw new StoreError('TypeMismatch', "BSON field 'distinct.key' must be a string");
  const collection = ctx.catalog.get(db, coll);
  if (!collection) return { values: [] };
  const { records, stats } = collection.scan(docArg(cmd, 'query'));
  recordScan(ctx, stats);
  const values = new Map<string, unknown>();
  for (const { doc } of records) {
    const value = resolve(doc, key);
    // Arrays contribute their elements, as in MongoDB.
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) values.set(keyOf(v), v);
  }
  return { values: [...values.values()] };
};

export const aggregate: CommandHandler = (ctx, db, cmd) => {
  ctx.counters.opcounters.command++;
  const pipeline = arrayArg(cmd, 'pipeline');
  const target = cmd.aggregate;
  if (target !== 1 && typeof target !== 'string') throw new StoreError('InvalidNamespace', "'aggregate' must be a collection name or 1");
  const coll = typeof target === 'string' ? target : null;
  const ns = `${db}.${coll ?? '$cmd.aggregate'}`;
  const first = pipeline[0];
  if (first && '$changeStream' in first) return openChangeStream(ctx, db, coll, cmd, pipeline);
  if (cmd.explain === true) return explainAggregate(ctx, db, coll, pipeline);
  const { docs, stats } = runAggregate(ctx.catalog, db, coll, pipeline, cmd.let as Doc | undefined);
  recordScan(ctx, stats);
  return arrayCursorReply(ctx, ns, docs, batchSizeArg(cmd, DEFAULT_FIRST_BATCH));
};

function planOf(stats: ScanStats): Doc {
  if (stats.stage === 'IXSCAN') return { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: stats.indexName } };
  return { stage: stats.stage };
}

function executionStats(stats: ScanStats, nReturned: number, started: number): Doc {
  return {
    executionSuccess: true,
    nReturned,
    executionTimeMillis: Date.now() - started,
    totalKeysExamined: stats.keysExamined,
    totalDocsExamined: stats.docsExamined,
  };
}

function explainAggregate(ctx: CommandContext, db: string, coll: string | null, pipeline: Doc[]): Doc {
  const started = Date.now();
  const withoutWrites = pipeline.filter((s) => !('$out' in s) && !('$merge' in s));
  const { docs, stats } = runAggregate(ctx.catalog, db, coll, withoutWrites);
  const leading = pipeline.findIndex((s) => !('$match' in s));
  const cursorStage = {
    $cursor: {
      queryPlanner: { namespace: `${db}.${coll}`, winningPlan: planOf(stats), rejectedPlans: [] },
      executionStats: executionStats(stats, docs.length, started),
    },
  };
  return { explainVersion: '1', stages: [cursorStage, ...pipeline.slice(leading < 0 ? pipeline.length : leading)] };
}

/** `explain` for find, aggregate, count and distinct, with MongoDB's queryPlanner/executionStats fields. */
export const explain: CommandHandler = (ctx, db, cmd) => {
  const inner = docArg(cmd, 'explain');
  const started = Date.now();
  if ('find' in inner) {
    const { docs, stats } = runFind(ctx, db, inner);
    return {
      explainVersion: '1',
      queryPlanner: { namespace: `${db}.${String(inner.find)}`, winningPlan: planOf(stats), rejectedPlans: [] },
      executionStats: executionStats(stats, docs.length, started),
    };
  }
  if ('aggregate' in inner) {
    const coll = typeof inner.aggregate === 'string' ? inner.aggregate : null;
    return explainAggregate(ctx, db, coll, arrayArg(inner, 'pipeline'));
  }
  if ('count' in inner || 'distinct' in inner) {
    const coll = String(inner.count ?? inner.distinct);
    const query = docArg(inner, 'query');
    const collection = ctx.catalog.get(db, coll);
    const result = collection?.scan(query) ?? { records: [], stats: emptyScanStats() };
    return {
      explainVersion: '1',
      queryPlanner: { namespace: `${db}.${coll}`, winningPlan: planOf(result.stats), rejectedPlans: [] },
      executionStats: executionStats(result.stats, result.records.length, started),
    };
  }
  throw new StoreError('IllegalOperation', `Explain is not supported for command ${Object.keys(inner)[0] ?? ''}`);
};
