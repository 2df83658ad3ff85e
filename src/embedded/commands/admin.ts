import { hostname } from 'node:os';
import { calculateObjectSize, ObjectId } from 'bson';
import { Query } from 'mingo/query';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES, MAX_WRITE_BATCH_SIZE } from '../engine/limits.ts';
import { mingoOptions } from '../engine/mingo-options.ts';
import { docArg } from './args.ts';
import type { Collection } from '../engine/collection.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import type { Doc } from '../engine/types.ts';

/** The MongoDB release whose behaviour the store follows; wire version 21 is MongoDB 7.0. */
export const COMPATIBLE_VERSION = '7.0.0';
const MAX_WIRE_VERSION = 21;
const PROCESS_ID = new ObjectId();

/**
 * The handshake reply of a standalone server. It advertises no compression (the store does not
 * implement it) and no `topologyVersion`, so drivers poll instead of using streaming monitoring.
 */
function helloReply(legacy: boolean): Doc {
  return {
    helloOk: true,
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  };
}

export const hello: CommandHandler = () => helloReply(false);
export const isMaster: CommandHandler = () => helloReply(true);
export const ping: CommandHandler = () => ({});
export const endSessions: CommandHandler = () => ({});

export const buildInfo: CommandHandler = () => ({
  version: COMPATIBLE_VERSION,
  gitVersion: 'sightline-embedded-store',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['sightline-wal'],
  javascriptEngine: 'none',
  modules: [],
  openssl: { running: 'disabled' },
});

export const serverStatus: CommandHandler = (ctx) => {
  const memory = process.memoryUsage();
  return {
    host: hostname(),
    version: COMPATIBLE_VERSION,
    // Tools decide between mongod and mongos by this field.
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor((Date.now() - ctx.startedAt) / 1000),
    uptimeMillis: Date.now() - ctx.startedAt,
    localTime: new Date(),
    connections: { current: ctx.counters.connections.current, available: 1_000_000, totalCreated: ctx.counters.connections.totalCreated },
    opcounters: ctx.counters.opcounters,
    mem: { bits: 64, resident: Math.round(memory.rss / 2 ** 20), virtual: Math.round(memory.rss / 2 ** 20) },
    metrics: {
      queryExecutor: { scanned: ctx.counters.scanned, scannedObjects: ctx.counters.scannedObjects },
      cursor: { open: { total: ctx.cursors.size } },
    },
    sightline: ctx.storageStatus(),
  };
};

/** Estimated BSON size of a collection, from a sample, so that listing databases stays cheap. */
function estimatedSize(collection: Collection): number {
  let sampled = 0;
  let bytes = 0;
  for (const { doc } of collection.records()) {
    bytes += calculateObjectSize(doc);
    if (++sampled >= 200) break;
  }
  return sampled ? Math.round((bytes / sampled) * collection.count) : 0;
}

export const listDatabases: CommandHandler = (ctx, _db, cmd) => {
  let databases: Doc[] = ctx.catalog.databaseNames().map((name) => {
    const sizeOnDisk = ctx.catalog.collections(name).reduce((sum, c) => sum + estimatedSize(c), 0);
    return cmd.nameOnly === true ? { name } : { name, sizeOnDisk, empty: sizeOnDisk === 0 };
  });
  const filter = docArg(cmd, 'filter');
  if (Object.keys(filter).length) databases = new Query(filter, mingoOptions()).find(databases).all() as Doc[];
  const totalSize = databases.reduce((sum, d) => sum + Number(d.sizeOnDisk ?? 0), 0);
  return cmd.nameOnly === true ? { databases } : { databases, totalSize, totalSizeMb: Math.round(totalSize / 2 ** 20) };
};

export const dbStats: CommandHandler = (ctx, db) => {
  const collections = ctx.catalog.collections(db);
  const dataSize = collections.reduce((sum, c) => sum + estimatedSize(c), 0);
  const objects = collections.reduce((sum, c) => sum + c.count, 0);
  const indexes = collections.reduce((sum, c) => sum + c.indexSpecs().length, 0);
  return { db, collections: collections.length, views: 0, objects, avgObjSize: objects ? dataSize / objects : 0, dataSize, storageSize: dataSize, indexes, scaleFactor: 1 };
};

// Commands tools such as mongosh and Compass send at connect time; plain answers keep them working.
export const connectionStatus: CommandHandler = () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } });
export const getLog: CommandHandler = (_ctx, _db, cmd) => (cmd.getLog === '*' ? { names: ['startupWarnings'] } : { totalLinesWritten: 0, log: [] });
export const hostInfo: CommandHandler = () => ({ system: { hostname: hostname(), currentTime: new Date() }, os: { type: process.platform }, extra: {} });
export const getCmdLineOpts: CommandHandler = () => ({ argv: process.argv.slice(0, 1), parsed: {} });
export const getParameter: CommandHandler = (_ctx, _db, cmd) => (cmd.featureCompatibilityVersion ? { featureCompatibilityVersion: { version: '7.0' } } : {});
export const whatsmyuri: CommandHandler = () => ({ you: '127.0.0.1' });

