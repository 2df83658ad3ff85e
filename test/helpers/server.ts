import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import { openStorage, type Storage } from '../../src/db/storage.ts';
import type { ProjectDocument } from '../../src/db/documents.ts';
import { tempDataDir } from './store.ts';

/** The admin key every in-process test server accepts. */
export const TEST_ADMIN_KEY = 'sla_test_admin_key_0123456789abcdefghij';

export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  app: App;
  storage: Storage;
  dataDir: string;
  adminKey: string;
  /** A project created at start. */
  project: ProjectDocument;
  /** Graceful app stop, then storage close; keeps the data directory. */
  stop(): Promise<void>;
  /** Stop and delete the data directory. */
  dispose(): Promise<void>;
}

/** Options for {@link startTestServer}. */
export interface TestServerOptions {
  /** Connect to this database instead of starting an embedded store. */
  mongodbUrl?: string;
  dataDir?: string;
  /** Turn on the driver's command monitoring on `storage.client` (to count the queries a request makes). */
  monitorCommands?: boolean;
}

/** Starts the full app in this process on a random port, over a fresh embedded store (or `mongodbUrl`). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await tempDataDir('sightline-server-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const storage = await openStorage({ url: options.mongodbUrl, dataDir, embeddedPort: 0, logger, monitorCommands: options.monitorCommands });
  const app = createApp({
    config: { http: { port: 0, host: '127.0.0.1' }, adminKey: TEST_ADMIN_KEY, production: false },
    storage,
    logger,
  });
  const project = await app.services.projects.create({ name: 'Test project' });
  const { url } = await app.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop(5_000);
    await storage.close();
  };
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    app,
    storage,
    dataDir,
    adminKey: TEST_ADMIN_KEY,
    project,
    stop,
    dispose: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql<T = any>(
  server: { graphqlUrl: string },
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** Creates a personal API key through the API with the admin key. */
export async function createKey(server: TestServer, projectIds: string[], scopes = ['QUERY_READ']): Promise<{ key: string; id: string }> {
  const res = await gql(
    server,
    `mutation($input: CreatePersonalApiKeyInput!) { createPersonalApiKey(input: $input) { key apiKey { id } } }`,
    { input: { label: 'test key', scopes, projectIds } },
    server.adminKey,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return { key: res.data.createPersonalApiKey.key, id: res.data.createPersonalApiKey.apiKey.id };
}

/** Creates another project through the service layer (fast fixture setup). */
export function createProject(server: TestServer, name: string, timezone?: string): Promise<ProjectDocument> {
  return server.app.services.projects.create({ name, timezone });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** stderr so far (the start-up banner lands here). */
  banner(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
}

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/**
 * Starts `src/main.ts` as a separate process, as `npm start` does, and waits until its banner names the URL.
 * Defaults: PORT=0 and EMBEDDED_STORE_PORT=0 (any free ports); pass DATA_DIR or MONGODB_URL.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 25_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', EMBEDDED_STORE_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    const check = () => {
      const match = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    child,
    url,
    banner: () => stderr,
    terminate: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** A TCP port that was free a moment ago (for child processes, which need a fixed PORT). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
