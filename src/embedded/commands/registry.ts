import { StoreError, toStoreError } from '../engine/errors.ts';
import * as admin from './admin.ts';
import * as crud from './crud.ts';
import * as ddl from './ddl.ts';
import * as query from './query.ts';
import { rejectServerSideJs } from '../engine/mingo-options.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import type { Doc } from '../engine/types.ts';

/** Commands by name; the names MongoDB matches case-insensitively are listed in both spellings. */
const COMMANDS: Record<string, CommandHandler> = {
  hello: admin.hello,
  isMaster: admin.isMaster,
  ismaster: admin.isMaster,
  ping: admin.ping,
  buildInfo: admin.buildInfo,
  buildinfo: admin.buildInfo,
  serverStatus: admin.serverStatus,
  listDatabases: admin.listDatabases,
  endSessions: admin.endSessions,
  dbStats: admin.dbStats,
  connectionStatus: admin.connectionStatus,
  getLog: admin.getLog,
  hostInfo: admin.hostInfo,
  getCmdLineOpts: admin.getCmdLineOpts,
  getParameter: admin.getParameter,
  whatsmyuri: admin.whatsmyuri,
  insert: crud.insert,
  update: crud.update,
  delete: crud.remove,
  findAndModify: crud.findAndModifyCommand,
  findandmodify: crud.findAndModifyCommand,
  find: query.find,
  getMore: query.getMore,
  killCursors: query.killCursors,
  count: query.count,
  distinct: query.distinct,
  aggregate: query.aggregate,
  explain: query.explain,
  create: ddl.create,
  drop: ddl.drop,
  dropDatabase: ddl.dropDatabase,
  createIndexes: ddl.createIndexes,
  listIndexes: ddl.listIndexes,
  dropIndexes: ddl.dropIndexes,
  deleteIndexes: ddl.dropIndexes,
  listCollections: ddl.listCollections,
};

/** The command's name: the first field of the command document. */
export function commandName(cmd: Doc): string {
  return Object.keys(cmd)[0] ?? '';
}

/** Runs one command and returns its reply document, `{ok: 1, ...}` or MongoDB's error shape. */
export async function runCommand(ctx: CommandContext, db: string, cmd: Doc): Promise<Doc> {
  const name = commandName(cmd);
  try {
    if (cmd.startTransaction === true || cmd.autocommit === false) {
      throw new StoreError('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    rejectScripts(cmd);
    const handler = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!handler) throw new StoreError('CommandNotFound', `no such command: '${name}'`);
    const reply = await handler(ctx, db, cmd);
    return { ...reply, ok: 1 };
  } catch (error) {
    return { ok: 0, ...toStoreError(error).toDocument() };
  }
}

/** Fields of commands that hold filters, pipelines or updates (inserted documents are data, not code). */
function rejectScripts(cmd: Doc): void {
  for (const field of ['filter', 'query', 'pipeline', 'update', 'projection', 'fields', 'explain']) rejectServerSideJs(cmd[field]);
  for (const field of ['updates', 'deletes']) {
    const statements = cmd[field];
    if (Array.isArray(statements)) for (const s of statements) rejectServerSideJs([(s as Doc)?.q, (s as Doc)?.u]);
  }
}
