import { createServer, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionHost } from './connection.ts';

/** The TCP listener: loopback only, one {@link Connection} per socket. */
export class WireServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private nextId = 1;

  constructor(private readonly host: ConnectionHost) {
    this.server = createServer((socket: Socket) => this.accept(socket));
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host: '127.0.0.1' }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting, closes every open connection, and waits for the listener to close. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.close();
    await closed;
  }

  private accept(socket: Socket): void {
    const counters = this.host.ctx.counters.connections;
    const connection = new Connection(socket, this.host, this.nextId++);
    this.connections.add(connection);
    counters.current++;
    counters.totalCreated++;
    socket.on('close', () => {
      this.connections.delete(connection);
      counters.current--;
    });
  }
}
