import type { Socket } from 'node:net';
import { MAX_MESSAGE_SIZE_BYTES } from '../engine/limits.ts';
import { StoreError } from '../engine/errors.ts';
import { commandName, runCommand } from '../commands/registry.ts';
import { HEADER_SIZE, OpCode, ProtocolError, encodeOpMsg, encodeOpReply, parseOpMsg, parseOpQuery, readHeader, type Header } from './messages.ts';
import type { CommandContext } from '../commands/context.ts';
import type { StoreLogger } from '../options.ts';
import type { Doc } from '../engine/types.ts';

/** What a connection needs from the store besides command execution: durability of writes. */
export interface ConnectionHost {
  ctx: CommandContext;
  logger: StoreLogger;
  appendedRecords(): number;
  sync(): Promise<void>;
}

let nextRequestId = 1;
const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

/**
 * One client connection: frames messages off the socket, runs them in order, and replies once any
 * change they made is durable. A malformed message closes this connection only.
 */
export class Connection {
  /** Received bytes not yet framed, kept as chunks: a large message is copied once, not once per chunk. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
    readonly id: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const length = this.chunks[0]!.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE_BYTES) {
        this.reject(new ProtocolError(`message length ${length} is outside [${HEADER_SIZE}, ${MAX_MESSAGE_SIZE_BYTES}]`));
        return;
      }
      if (this.buffered < length) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const message = all.subarray(0, length);
      const rest = all.subarray(length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.queue = this.queue.then(() => this.handle(message)).catch((error: unknown) => this.reject(error));
    }
  }

  private reject(error: unknown): void {
    if (this.closed) return;
    const message = error instanceof Error ? error.message : String(error);
    this.host.logger.warn({ connection: this.id, error: message }, 'closing connection after a bad message');
    this.close();
  }

  private async handle(message: Buffer): Promise<void> {
    if (this.closed) return;
    const header = readHeader(message);
    if (header.opCode === OpCode.MSG) return this.handleMsg(header, message);
    if (header.opCode === OpCode.QUERY) return this.handleQuery(header, message);
    // OP_COMPRESSED is never advertised, and the other legacy opcodes were removed in MongoDB 6.
    throw new ProtocolError(`unsupported opCode ${header.opCode}`);
  }

  private async handleMsg(header: Header, message: Buffer): Promise<void> {
    if (message.length < HEADER_SIZE + 5) throw new ProtocolError('OP_MSG too short');
    const { command, db, moreToCome } = parseOpMsg(message);
    const reply = await this.execute(db, command);
    if (moreToCome) return;
    this.send(encodeOpMsg(nextRequestId++, header.requestId, reply));
  }

  private async handleQuery(header: Header, message: Buffer): Promise<void> {
    const { collection, query } = parseOpQuery(message);
    const name = commandName(query);
    const reply: Doc =
      collection.endsWith('.$cmd') && HANDSHAKE_COMMANDS.has(name)
        ? await this.execute(collection.slice(0, -'.$cmd'.length), query)
        : { ok: 0, ...new StoreError('UnsupportedOpQueryCommand', `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`).toDocument() };
    this.send(encodeOpReply(nextRequestId++, header.requestId, reply));
  }

  private async execute(db: string, command: Doc): Promise<Doc> {
    const before = this.host.appendedRecords();
    let reply = await runCommand(this.host.ctx, db, command);
    if (this.host.appendedRecords() !== before) {
      try {
        await this.host.sync();
      } catch (error) {
        // Not durable, so not acknowledged: the client must treat the outcome as unknown.
        reply = { ok: 0, ...new StoreError('InternalError', (error as Error).message).toDocument() };
      }
    }
    if (HANDSHAKE_COMMANDS.has(commandName(command)) && reply.ok === 1) reply.connectionId = this.id;
    return reply;
  }

  private send(buf: Buffer): void {
    if (!this.closed) this.socket.write(buf);
  }
}
