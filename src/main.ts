import { ConfigError, loadConfig, type Config } from './config/env.ts';
import { createLogger, type Logger } from './logger.ts';
import { openStorage, type Storage } from './db/storage.ts';
import { collectionsOf } from './db/collections.ts';
import { createApp } from './app.ts';
import { defaultProject, embeddedAdminKey } from './bootstrap.ts';
import { GRAPHQL_PATH } from './graphql/server.ts';

/** Composition root: environment → storage (external or embedded) → app → listen; ordered shutdown on signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const storage = await openStorage({ ...config.storage, logger });
  let adminKey = config.adminKey;
  let adminKeyNote: string | undefined;
  if (adminKey === undefined && storage.embedded) {
    const generated = await embeddedAdminKey(config.storage.dataDir);
    adminKey = generated.key;
    adminKeyNote = generated.created ? `admin key:      ${generated.key}  (generated; kept in ${generated.path})` : `admin key:      stored in ${generated.path}`;
  } else if (adminKey === undefined) {
    logger.warn('ADMIN_KEY is not set: projects and API keys cannot be created through the API');
  }
  const app = createApp({ config: { ...config, adminKey }, storage, logger });
  const bootstrap = storage.embedded ? await defaultProject(collectionsOf(storage.db), app.services.projects) : undefined;
  const { url } = await app.start();
  printBanner([
    `Sightline is running`,
    `GraphQL:        ${url}${GRAPHQL_PATH}  (GraphiQL in the browser; WebSocket subscriptions on the same URL)`,
    `capture:        ${url}/batch  (PostHog SDKs: set host to ${url})`,
    `store:          ${storage.url}${storage.embedded ? `  (embedded, data in ${config.storage.dataDir})` : ''}`,
    ...(adminKeyNote === undefined ? [] : [adminKeyNote]),
    ...(bootstrap === undefined ? [] : [`project:        "${bootstrap.project.name}" id ${bootstrap.project._id}, capture token ${bootstrap.project.apiToken}`]),
  ]);
  logger.info({ url, store: storage.embedded ? 'embedded' : 'external' }, 'listening');
  registerShutdown(app.stop, storage, logger);
}

/** Human-readable start-up facts on stderr, apart from the JSON log stream on stdout. */
function printBanner(lines: string[]): void {
  process.stderr.write(`\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`);
}

function registerShutdown(stopApp: () => Promise<void>, storage: Storage, logger: Logger): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      // A second signal means "now": the operator gave up waiting for the graceful path.
      logger.warn({ signal }, 'second signal during shutdown; exiting at once');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await stopApp();
      await storage.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Sightline failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
