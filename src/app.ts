import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/env.ts';
import type { Logger } from './logger.ts';
import type { Storage } from './db/storage.ts';
import { collectionsOf } from './db/collections.ts';
import { Authenticator } from './modules/auth/authenticate.ts';
import { ApiKeyService } from './modules/auth/api-key-service.ts';
import { ProjectService } from './modules/projects/service.ts';
import { EventService } from './modules/events/service.ts';
import { PersonService } from './modules/persons/service.ts';
import { DefinitionBuffer } from './modules/definitions/buffer.ts';
import { Enricher } from './ingest/enrich/enrich.ts';
import { CaptureService } from './ingest/capture-service.ts';
import { LiveEvents } from './live/live-events.ts';
import { resolveLiveLimits, type LiveLimits } from './live/limits.ts';
import type { Services } from './graphql/context.ts';
import { attachWebSocket, createGraphQL, GRAPHQL_PATH } from './graphql/server.ts';
import { captureRouteOf, handleCapture } from './http/capture-route.ts';
import { handleHealth, handleReady } from './http/health.ts';
import { sendJson } from './http/respond.ts';

/** Seconds a client refused during shutdown should wait before retrying (another process, or this one restarted). */
const SHUTDOWN_RETRY_AFTER_SECONDS = 5;

/** Dependencies of {@link createApp}: everything with a lifetime longer than the app is passed in. */
export interface AppDeps {
  config: Pick<Config, 'http' | 'adminKey' | 'production'>;
  storage: Storage;
  logger: Logger;
  /** Overrides of live-delivery limits (queue bound, socket buffer cap, key re-check interval); defaults suit production. */
  live?: Partial<LiveLimits>;
}

export interface App {
  services: Services;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number; url: string }>;
  /**
   * Graceful stop: refuse new connections, let in-flight capture requests finish (bounded by
   * `graceMs`), close subscriptions with 1001, stop the change stream. The storage stays open.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Wires HTTP capture, GraphQL over HTTP and WebSocket, and health endpoints onto one port. */
export function createApp({ config, storage, logger, live }: AppDeps): App {
  const liveLimits = resolveLiveLimits(live);
  const collections = collectionsOf(storage.db);
  const projects = new ProjectService(collections);
  const apiKeys = new ApiKeyService(collections);
  const definitions = new DefinitionBuffer({ logger: logger.child({ component: 'definitions' }) });
  const services: Services = {
    collections,
    authenticator: new Authenticator({ apiKeys: collections.apiKeys, adminKey: config.adminKey }),
    projects,
    apiKeys,
    events: new EventService(),
    persons: new PersonService(),
    definitions,
    capture: new CaptureService({ collections, projects, definitions, enricher: new Enricher(), logger: logger.child({ component: 'capture' }) }),
    live: new LiveEvents({ collections, logger: logger.child({ component: 'live' }), queueLimit: liveLimits.queueLimit }),
    logger,
  };
  const yoga = createGraphQL(services, config.production);
  let shuttingDown = false;
  const inFlight = new Set<Promise<void>>();

  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (shuttingDown) {
      // close() only stops new connections: kept-alive ones still bring requests. Refuse them with a
      // retryable answer and close the connection, so the drain in stop() ends instead of being refilled.
      res.setHeader('Connection', 'close');
      if (pathname === '/healthz') return handleHealth(res);
      if (pathname === '/readyz') return void handleReady(res, { ping: () => storage.ping(), shuttingDown: () => true });
      res.setHeader('Retry-After', String(SHUTDOWN_RETRY_AFTER_SECONDS));
      return sendJson(res, 503, { status: 'error', code: 'service_unavailable', error: 'The server is shutting down; retry shortly.' });
    }
    const capture = captureRouteOf(pathname);
    if (capture !== undefined) {
      const request = handleCapture(req, res, capture, { capture: services.capture, logger }).finally(() => inFlight.delete(request));
      inFlight.add(request);
      return;
    }
    if (pathname === '/healthz') return handleHealth(res);
    if (pathname === '/readyz') return void handleReady(res, { ping: () => storage.ping(), shuttingDown: () => shuttingDown });
    if (pathname === GRAPHQL_PATH || pathname.startsWith(`${GRAPHQL_PATH}/`)) return void yoga(req, res);
    sendJson(res, 404, { status: 'error', code: 'not_found', error: `No route for ${pathname}; GraphQL is at ${GRAPHQL_PATH}.` });
  });
  // Slow or stalled uploads must not hold sockets forever.
  httpServer.headersTimeout = 30_000;
  httpServer.requestTimeout = 60_000;
  // Longer than common load balancer and SDK idle times, so a reused connection is not closed under a request.
  httpServer.keepAliveTimeout = 65_000;
  // Requests Node rejects before routing (oversized headers, malformed framing) still get a JSON error body.
  httpServer.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ status: 'error', code: 'invalid_request', error: `The HTTP request could not be read (${error.code ?? 'malformed'}).` });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  const ws = attachWebSocket(httpServer, yoga, services, liveLimits);
  const stopRevocationWatch = apiKeys.onRevoke((keyId) => ws.closeForKey(keyId));

  return {
    services,
    async start() {
      await services.live.start();
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port } = httpServer.address() as AddressInfo;
      const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
      return { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
    },
    async stop(graceMs = 10_000) {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        // Capture over HTTP and through the GraphQL mutation both finish (acknowledged or refused) before sockets close.
        Promise.allSettled([...inFlight, services.capture.drained()]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      // Buffered definition counts of the captures just finished; the storage is still open.
      await definitions.flush().catch((error: unknown) => logger.warn({ err: error }, 'definitions not flushed at shutdown'));
      stopRevocationWatch();
      await ws.dispose();
      await services.live.stop();
      httpServer.closeAllConnections();
      await closed;
    },
  };
}
