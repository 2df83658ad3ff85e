import type { IncomingMessage, Server } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CloseCode } from 'graphql-ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Principal } from '../modules/auth/principal.ts';
import { createContext, type Context, type Services } from './context.ts';
import { armorPlugin, introspectionPolicyPlugin } from './plugins.ts';
import { schema } from './schema.ts';
import {
  WS_CONNECTION_INIT_TIMEOUT_MS,
  WS_MAX_BUFFERED_CHUNKS,
  WS_MAX_FRAGMENTS,
  WS_MAX_PAYLOAD_BYTES,
  WS_MAX_SUBSCRIPTIONS,
} from './limits.ts';
import { resolveLiveLimits, type LiveLimits } from '../live/limits.ts';
import { watchSockets } from '../live/socket-watch.ts';

/** Path of the GraphQL endpoint, for HTTP, WebSocket and GraphiQL alike. */
export const GRAPHQL_PATH = '/graphql';

interface ServerContext {
  req?: IncomingMessage;
  /** Set for WebSocket operations: the principal authenticated at `connection_init`. */
  principal?: Principal;
}

/** Builds the Yoga instance; one context factory serves HTTP and WebSocket operations. */
export function createGraphQL(services: Services, production: boolean): YogaServerInstance<ServerContext, Context> {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: { subscriptionsProtocol: 'WS', title: 'Sightline' },
    landingPage: false,
    maskedErrors: true,
    batching: false,
    logging: {
      debug: (...args) => services.logger.debug({ args }, 'graphql'),
      info: (...args) => services.logger.info({ args }, 'graphql'),
      warn: (...args) => services.logger.warn({ args }, 'graphql'),
      error: (...args) => services.logger.error({ args }, 'graphql'),
    },
    plugins: [armorPlugin(production), introspectionPolicyPlugin(production)],
    context: async (initial) => {
      const principal =
        initial.principal ?? (await services.authenticator.fromHeader(initial.request.headers.get('authorization')));
      return createContext(services, principal, {
        clientIp: initial.req?.socket.remoteAddress,
        userAgent: initial.req?.headers['user-agent'],
      });
    },
  });
}

type SocketExtra = {
  socket: WebSocket & { sightlinePrincipal?: Principal };
  request: IncomingMessage;
  principal?: Principal;
};

/**
 * graphql-ws over ws on the same path. Every operation goes through Yoga's envelop (parse, validate
 * with the armor rules, context, masked execution), so a WebSocket gets exactly the HTTP protections.
 */
export function attachWebSocket(
  httpServer: Server,
  yoga: YogaServerInstance<ServerContext, Context>,
  services: Services,
  liveLimits: LiveLimits = resolveLiveLimits(),
) {
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: WS_MAX_PAYLOAD_BYTES,
    // Floods of tiny fragments or chunks can amplify memory far beyond maxPayload; our messages are small.
    ...({ maxFragments: WS_MAX_FRAGMENTS, maxBufferedChunks: WS_MAX_BUFFERED_CHUNKS } as object),
  });
  // Slow consumers and keys revoked elsewhere are found by polling; see socket-watch.ts.
  const watch = watchSockets(wsServer, {
    limits: liveLimits,
    stillValid: (principal) => services.authenticator.stillValid(principal),
    principalOf: (socket) => (socket as SocketExtra['socket']).sightlinePrincipal,
    logger: services.logger.child({ component: 'websocket' }),
  });
  const server = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      connectionInitWaitTimeout: WS_CONNECTION_INIT_TIMEOUT_MS,
      onConnect: async (ctx) => {
        try {
          const principal = await services.authenticator.fromConnectionParams(ctx.connectionParams);
          if (principal.kind === 'anonymous') return false;
          ctx.extra.principal = principal;
          ctx.extra.socket.sightlinePrincipal = principal;
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already registered this subscription's id when it calls onSubscribe, so it counts itself.
        if (Object.keys(ctx.subscriptions).length > WS_MAX_SUBSCRIPTIONS) {
          return [new GraphQLError(`At most ${WS_MAX_SUBSCRIPTIONS} subscriptions per connection.`, { extensions: { code: 'QUERY_TOO_EXPENSIVE' } })];
        }
        const enveloped = yoga.getEnveloped({ req: ctx.extra.request, principal: ctx.extra.principal, params: payload });
        const document = enveloped.parse(payload.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
    },
    wsServer,
  );
  return {
    wsServer,
    /** Closes every socket with 1001 (going away) and stops accepting new ones. */
    async dispose(): Promise<void> {
      watch.stop();
      await server.dispose();
    },
    /** Closes the sockets authenticated with a revoked key. */
    closeForKey(keyId: string): void {
      for (const client of wsServer.clients) {
        const principal = (client as SocketExtra['socket']).sightlinePrincipal;
        if (principal?.kind === 'apiKey' && principal.key._id === keyId) client.close(CloseCode.Forbidden, 'API key revoked');
      }
    },
  };
}
