import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What the server's start-up banner tells a client. */
export interface ServerInfo {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  storeUrl: string;
  adminKey: string;
  projectId: string;
  captureToken: string;
}

export interface ServerProcess extends ServerInfo {
  child: ChildProcess;
  pid: number;
  /** Everything the server wrote on stderr so far (banner, warnings). */
  stderr(): string;
  /** SIGTERM, then the exit code (null and the signal name when it died by a signal); SIGKILL after `timeoutMs`. */
  terminate(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }>;
}

const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));

/**
 * Starts `src/main.ts` in its own process, as `npm start` would, so the load generator's CPU never runs on
 * the server's event loop. Resolves once the banner names every address the benchmark needs.
 */
export async function startServer(env: Record<string, string>, nodeArgs: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', MAIN], {
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', EMBEDDED_STORE_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The JSON log stream; drained so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print its banner in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    const check = () => {
      void parseBanner(stderr, env.DATA_DIR).then((parsed) => {
        if (parsed === undefined) return;
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve(parsed);
      }, reject);
    };
    child.stderr!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it was ready:\n${stderr}`));
    });
  });
  return {
    ...info,
    child,
    pid: child.pid!,
    stderr: () => stderr,
    terminate: (limitMs = 30_000) =>
      new Promise((resolve) => {
        const started = performance.now();
        let killed = false;
        if (child.exitCode !== null || child.signalCode !== null) {
          return resolve({ code: child.exitCode, signal: child.signalCode, ms: 0, killed });
        }
        const timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, limitMs);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, ms: performance.now() - started, killed });
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Undefined until the banner is complete (the project line comes last). */
async function parseBanner(text: string, dataDir: string | undefined): Promise<ServerInfo | undefined> {
  const url = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(text)?.[1];
  const storeUrl = /store:\s+(mongodb:\/\/\S+)/.exec(text)?.[1];
  const project = /project:\s+".*" id (\S+), capture token (\S+)/.exec(text);
  const keyLine = /admin key:\s+(.*)/.exec(text)?.[1];
  if (url === undefined || storeUrl === undefined || project === null || keyLine === undefined) return undefined;
  // A restarted data directory prints only where the key is kept, not the key itself.
  let adminKey = /^(\S+)\s+\(generated/.exec(keyLine)?.[1];
  const keptIn = /stored in (\S+)/.exec(keyLine)?.[1];
  if (adminKey === undefined && keptIn !== undefined) adminKey = (await readFile(keptIn, 'utf8')).trim();
  if (adminKey === undefined) throw new Error(`cannot read the admin key from the banner line "${keyLine}" (data dir ${dataDir})`);
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    storeUrl,
    adminKey,
    projectId: project[1]!,
    captureToken: project[2]!,
  };
}
