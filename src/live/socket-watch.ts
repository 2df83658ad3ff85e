import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';
import type { Principal } from '../modules/auth/principal.ts';
import { SLOW_CONSUMER_CLOSE_CODE, type LiveLimits } from './limits.ts';

/** graphql-ws's "Forbidden": the same code a failed `connection_init` gets. */
const FORBIDDEN_CLOSE_CODE = 4403;

/** Options for {@link watchSockets}. */
export interface SocketWatchOptions {
  limits: LiveLimits;
  /** Re-checks a principal obtained at `connection_init`; false means the key was revoked. */
  stillValid(principal: Principal): Promise<boolean>;
  /** The principal a socket authenticated as, if it has. */
  principalOf(socket: WebSocket): Principal | undefined;
  logger: Logger;
}

/** Handle returned by {@link watchSockets}. */
export interface SocketWatch {
  /**
   * Stops the periodic checks. Sockets still open `closeGraceMs` later are cut, so a client that
   * stopped reading cannot hold a graceful shutdown for ws's 30 s closing timeout.
   */
  stop(): void;
}

/**
 * Periodic health checks of live sockets:
 * - a socket whose unsent bytes exceed `maxBufferedBytes` is closed with 1008 ("slow consumer") and
 *   cut if the closing handshake does not finish in `closeGraceMs`: its client is not reading, and
 *   every further message would only grow server memory;
 * - every `keyRecheckIntervalMs` the API keys behind open sockets are looked up again and sockets of
 *   revoked keys are closed with 4403, which covers revocations made by other processes.
 */
export function watchSockets(wsServer: WebSocketServer, options: SocketWatchOptions): SocketWatch {
  const { limits, logger } = options;

  const closeThenCut = (socket: WebSocket, code: number, reason: string) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.close(code, reason);
    const timer = setTimeout(() => socket.terminate(), limits.closeGraceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };

  const checkBuffers = () => {
    for (const socket of wsServer.clients) {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount > limits.maxBufferedBytes) {
        logger.warn({ bufferedBytes: socket.bufferedAmount, limit: limits.maxBufferedBytes }, 'closing a live socket whose client does not read');
        closeThenCut(socket, SLOW_CONSUMER_CLOSE_CODE, 'Slow consumer: too much data waiting to be sent');
      }
    }
  };

  let recheckRunning = false;
  const recheckKeys = async () => {
    // A slow database must not stack up overlapping sweeps.
    if (recheckRunning) return;
    recheckRunning = true;
    try {
      const byKey = new Map<string, { principal: Principal; sockets: WebSocket[] }>();
      for (const socket of wsServer.clients) {
        const principal = options.principalOf(socket);
        if (principal?.kind !== 'apiKey' || socket.readyState !== socket.OPEN) continue;
        const entry = byKey.get(principal.key._id) ?? { principal, sockets: [] };
        entry.sockets.push(socket);
        byKey.set(principal.key._id, entry);
      }
      for (const [keyId, { principal, sockets }] of byKey) {
        let valid: boolean;
        try {
          valid = await options.stillValid(principal);
        } catch (error) {
          // Uncertain is not revoked: keep the sockets and ask again next round.
          logger.warn({ err: error, keyId }, 'could not re-check an API key of open sockets');
          continue;
        }
        if (valid) continue;
        logger.info({ keyId, sockets: sockets.length }, 'closing live sockets of a revoked API key');
        for (const socket of sockets) closeThenCut(socket, FORBIDDEN_CLOSE_CODE, 'API key revoked');
      }
    } finally {
      recheckRunning = false;
    }
  };

  const bufferTimer = setInterval(checkBuffers, limits.bufferCheckIntervalMs);
  const keyTimer = setInterval(() => void recheckKeys(), limits.keyRecheckIntervalMs);
  bufferTimer.unref();
  keyTimer.unref();

  return {
    stop() {
      clearInterval(bufferTimer);
      clearInterval(keyTimer);
      const timer = setTimeout(() => {
        for (const socket of wsServer.clients) socket.terminate();
      }, limits.closeGraceMs);
      timer.unref();
    },
  };
}
