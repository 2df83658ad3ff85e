import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.ts';
import { gql } from '../helpers/server.ts';
import { tempDataDir } from '../helpers/store.ts';
import { waitFor } from '../helpers/waiting.ts';
import { parseBanner, type Banner } from '../fixtures/server/banner.ts';

/*
 * The README is the front door: these tests run what it tells a newcomer to run and send what it
 * tells them to send, parsed from the README itself, so it cannot drift from the truth unnoticed.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

interface CodeBlock {
  lang: string;
  body: string;
}

function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** Shell lines without their comments. */
function commandsOf(block: CodeBlock): string[] {
  return block.body
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim())
    .filter((line) => line !== '');
}

function blockContaining(lang: string, text: string): CodeBlock {
  const block = codeBlocks(README).find((b) => b.lang === lang && b.body.includes(text));
  if (block === undefined) throw new Error(`README has no ${lang} block containing ${JSON.stringify(text)}`);
  return block;
}

/** One `npm start`, exactly as a newcomer types it, in its own process group so nothing can outlive the test. */
interface NpmStart {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmStart(dataDir: string): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    // What a newcomer's shell has, plus the three settings that keep the test off fixed ports and the repo.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', EMBEDDED_STORE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

async function bannerOf(run: NpmStart): Promise<Banner> {
  let ended = false;
  void run.exited.then(() => (ended = true));
  await waitFor(() => ended || /Sightline is running[\s\S]*?\n\n/.test(run.stderr()), 40_000, `the banner of npm start; stderr so far:\n${run.stderr()}`);
  if (ended) throw new Error(`npm start exited before printing its banner:\n${run.stderr()}`);
  return parseBanner(run.stderr());
}

/** Kills whatever is left of a run's process group (by its id); a no-op when it is already gone. */
function killGroup(run: NpmStart | undefined): void {
  if (run?.child.pid === undefined) return;
  try {
    process.kill(-run.child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function groupAlive(run: NpmStart): boolean {
  try {
    process.kill(-run.child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the README’s commands', () => {
  it('the first code block is exactly `npm ci && npm start` and `npm test`, and both name real scripts', () => {
    const first = codeBlocks(README)[0];
    expect(first).toBeDefined();
    expect(commandsOf(first!)).toEqual(['npm ci && npm start', 'npm test']);
    expect(PACKAGE.scripts?.start).toEqual(expect.any(String));
    expect(PACKAGE.scripts?.test).toMatch(/\bvitest run\b/);
    // `npm ci` refuses a lockfile that disagrees with package.json.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
    };
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(lock.packages['']?.dependencies ?? {}).toEqual(PACKAGE.dependencies ?? {});
    expect(lock.packages['']?.devDependencies ?? {}).toEqual(PACKAGE.devDependencies ?? {});
  });

  it('the configuration table’s defaults are what the server uses, with data in ./.sightline, which git ignores', async () => {
    const rows = new Map(
      [...README.matchAll(/^\| `([A-Z_]+)` \| .* \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!.trim().replace(/^`(.*)`$/, '$1')]),
    );
    const defaults = loadConfig({});
    expect(rows.get('PORT')).toBe(String(defaults.http.port));
    expect(rows.get('HOST')).toBe(defaults.http.host);
    expect(rows.get('DATA_DIR')).toBe(defaults.storage.dataDir);
    expect(rows.get('LOG_LEVEL')).toBe(defaults.logLevel);
    expect(rows.get('EMBEDDED_STORE_PORT')).toBe(String(defaults.storage.embeddedPort));
    expect(rows.get('NODE_ENV')).toBe('development');
    expect(defaults.production).toBe(false);
    expect(rows.get('MONGODB_URL')).toBe('unset');
    expect(defaults.storage.url).toBeUndefined();
    expect(rows.get('ADMIN_KEY')).toBe('unset');
    expect(defaults.adminKey).toBeUndefined();

    expect(defaults.storage.dataDir).toBe('./.sightline');
    expect(commandsOf(codeBlocks(README)[0]!).length).toBe(2);
    expect(codeBlocks(README)[0]!.body).toContain('data in ./.sightline');
    // The data directory holds the admin key: it must never be committed by accident.
    const ignored = (await readFile(join(ROOT, '.gitignore'), 'utf8')).split('\n').map((line) => line.trim());
    expect(ignored.some((line) => line === '.sightline/' || line === '.sightline' || line === '/.sightline/' || line === '/.sightline')).toBe(true);
  });
});

describe('npm start, as the README describes it', () => {
  let dataDir: string;
  let first: NpmStart | undefined;
  let second: NpmStart | undefined;
  let banner: Banner;
  let adminKey: string;
  let postedEventUuid: string;
  let filteredEventUuid: string;
  let setEventUuid: string;

  beforeAll(async () => {
    dataDir = await tempDataDir('sightline-readme-');
  });

  afterAll(async () => {
    for (const run of [first, second]) {
      if (run === undefined || !groupAlive(run)) continue;
      // Stop it as a terminal would (the whole job), and make sure nothing survives the test either way.
      process.kill(-run.child.pid!, 'SIGTERM');
      await waitFor(() => !groupAlive(run), 10_000, 'npm start to stop').catch(() => killGroup(run));
      await run.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the GraphQL URL, the store’s connection string, a generated admin key and the default project', async () => {
    first = npmStart(dataDir);
    banner = await bannerOf(first);
    expect(banner.graphqlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(banner.captureUrl).toBe(`${banner.url}/batch`);
    expect(banner.storeUrl).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    expect(banner.storeDataDir).toBe(dataDir);
    expect(banner.adminKey).toMatch(/^sla_\w{20,}$/);
    adminKey = banner.adminKey!;
    expect(banner.project).toMatchObject({ name: 'Default project', id: expect.stringMatching(/^\w+$/), token: expect.stringMatching(/^phc_\w+$/) });

    // The admin key is kept where the banner says, readable by its owner only.
    expect(banner.adminKeyPath).toBe(join(dataDir, 'admin-key'));
    expect((await readFile(banner.adminKeyPath!, 'utf8')).trim()).toBe(adminKey);
    expect((await stat(banner.adminKeyPath!)).mode & 0o777).toBe(0o600);
    // The store's data lives under DATA_DIR.
    expect(await readdir(join(dataDir, 'store'))).not.toEqual([]);

    // The connection string is a real one: the official driver (as any database client would) sees the default project.
    const client = new MongoClient(banner.storeUrl, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.connect();
      const project = await client.db('sightline').collection('projects').findOne({ _id: banner.project!.id as never });
      expect(project).toMatchObject({ name: 'Default project', apiToken: banner.project!.token });
    } finally {
      await client.close();
    }
  });

  it('the README’s POST example captures an event with the banner’s token', async () => {
    const example = blockContaining('sh', 'curl -X POST').body;
    const url = /curl -X POST (\S+)/.exec(example)?.[1];
    const headers = [...example.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
    const data = /-d '([^']*)'/.exec(example)?.[1];
    const expected = /# → (\{.*\})/.exec(example)?.[1];
    expect(url).toBe('http://127.0.0.1:4000/batch');
    expect(data).toContain('"phc_…"');
    expect(expected).toBeDefined();

    const response = await fetch(url!.replace('http://127.0.0.1:4000', banner.url), {
      method: 'POST',
      headers: Object.fromEntries(headers),
      body: data!.replace('phc_…', banner.project!.token),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(JSON.parse(expected!));

    // A second event that the README's filtered query is written to find.
    filteredEventUuid = randomUUID();
    const filtered = await fetch(`${banner.url}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        api_key: banner.project!.token,
        batch: [{ event: 'signed_up', distinct_id: 'user-2', uuid: filteredEventUuid, properties: { $browser: 'Firefox', total: 42 } }],
      }),
    });
    expect(filtered.status).toBe(200);
  });

  it('the README’s queries read it back with the admin key', async () => {
    const block = blockContaining('graphql', 'query Recent').body;
    const paragraphs = block.split(/\n\s*\n/).map((p) => p.replace(/^#.*$/gm, '').trim());
    const viewerQuery = paragraphs.find((p) => p.startsWith('{ viewer'));
    const recentQuery = paragraphs.find((p) => p.startsWith('query Recent'));
    expect(viewerQuery).toBeDefined();
    expect(recentQuery).toBeDefined();
    const server = { graphqlUrl: banner.graphqlUrl };

    const viewer = await gql(server, viewerQuery!, {}, adminKey);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer.kind).toBe('ADMIN');
    expect(viewer.data.viewer.projects).toContainEqual({ id: banner.project!.id, name: 'Default project', apiToken: banner.project!.token });

    // The README's example date is only an example: look from yesterday on, whatever today is.
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const recentFromToday = recentQuery!.replace(/after: "[^"]*"/, `after: "${since}"`);
    expect(recentFromToday).not.toBe(recentQuery);
    const recent = await gql(server, recentFromToday, { project: banner.project!.id }, adminKey);
    expect(recent.errors).toBeUndefined();
    const edges = recent.data.project.events.edges as { cursor: string; node: { uuid: string; event: string; distinctId: string; properties: Record<string, unknown> } }[];
    // Only the event with a matching browser and total passes the filter; the POST example's has neither.
    expect(edges.map((e) => e.node.uuid)).toEqual([filteredEventUuid]);
    expect(edges[0]!.node).toMatchObject({ event: 'signed_up', distinctId: 'user-2', properties: { $browser: 'Firefox', total: 42 } });
    expect(recent.data.project.events.pageInfo).toMatchObject({ hasNextPage: false });

    // The same selection without the filter finds the POST example's event as sent.
    const nodeFields = /node \{([^}]*)\}/.exec(recentQuery!)?.[1]?.trim();
    expect(nodeFields).toBeDefined();
    const all = await gql(
      server,
      `query($project: ID!) { project(id: $project) { events(first: 20) { edges { cursor node { ${nodeFields} } } pageInfo { hasNextPage endCursor } } } }`,
      { project: banner.project!.id },
      adminKey,
    );
    expect(all.errors).toBeUndefined();
    const postedEvent = (all.data.project.events.edges as typeof edges).find((e) => e.node.distinctId === 'user-1');
    expect(postedEvent?.node).toMatchObject({ event: 'signed_up', properties: { plan: 'pro' } });
    postedEventUuid = postedEvent!.node.uuid;

    // The README's shell query for projects.
    const projectsExample = blockContaining('sh', '{ projects {').body;
    const payload = JSON.parse(/-d '([^']*)'/.exec(projectsExample)![1]!) as { query: string };
    const projects = await gql(server, payload.query, {}, adminKey);
    expect(projects.errors).toBeUndefined();
    expect(projects.data.projects.edges.map((e: { node: unknown }) => e.node)).toContainEqual({
      id: banner.project!.id,
      name: 'Default project',
      apiToken: banner.project!.token,
    });
  });

  it('the README’s people query finds the person of the POST example and filters events by person properties', async () => {
    const query = blockContaining('graphql', 'query People').body;
    setEventUuid = randomUUID();
    const server = { graphqlUrl: banner.graphqlUrl };
    const res = await gql(server, query, { project: banner.project!.id }, adminKey);
    expect(res.errors).toBeUndefined();
    const project = res.data.project;
    // The POST example's event came from user-1 and set nothing on the person.
    expect(project.person).toMatchObject({ distinctIds: ['user-1'], isIdentified: false });
    expect(project.events.edges).toEqual([]);
    // Its event name and property are listed for a query builder; no warning was raised.
    expect(project.eventDefinitions.edges.map((e: { node: { name: string } }) => e.node.name)).toContain('signed_up');
    expect(project.ingestionWarnings.edges).toEqual([]);

    // Once user-1 sets a plan, the README's person filter finds its events.
    const identified = await fetch(`${banner.url}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: banner.project!.token, batch: [{ event: '$set', distinct_id: 'user-1', uuid: setEventUuid, properties: { $set: { plan: 'pro', email: 'one@example.com' } } }] }),
    });
    expect(identified.status).toBe(200);
    const again = await gql(server, query, { project: banner.project!.id }, adminKey);
    expect(again.errors).toBeUndefined();
    expect(again.data.project.person.properties).toMatchObject({ plan: 'pro', email: 'one@example.com' });
    expect(again.data.project.persons.edges.map((e: { node: { distinctIds: string[] } }) => e.node.distinctIds)).toEqual([['user-1']]);
    const byPlan = again.data.project.events.edges as { node: { distinctId: string; person: { id: string } } }[];
    expect(byPlan.length).toBeGreaterThanOrEqual(2);
    expect(new Set(byPlan.map((e) => e.node.distinctId))).toEqual(new Set(['user-1']));
    expect(new Set(byPlan.map((e) => e.node.person.id))).toEqual(new Set([again.data.project.person.id]));
  });

  it('serves GraphiQL at /graphql to a browser', async () => {
    const response = await fetch(banner.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/<html/i);
    expect(html).toMatch(/graphiql/i);
  });

  it('stops on SIGTERM with exit code 0, leaving nothing running', async () => {
    first!.child.kill('SIGTERM');
    const { code, signal } = await first!.exited;
    // Nothing lingers behind npm: every process it started has exited.
    const lingering = await waitFor(() => !groupAlive(first!), 10_000, 'every process of npm start to exit').then(
      () => false,
      () => true,
    );
    expect(
      { code, signal, lingering },
      'SIGTERM to `npm start` must stop the server gracefully and end npm with exit code 0. npm killed by the signal ' +
        'with the server still running means the start script’s shell did not pass the signal on to the server.',
    ).toEqual({ code: 0, signal: null, lingering: false });
    const refused = await fetch(`${banner.url}/healthz`).then(
      () => 'answered',
      (error: { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).toBe('ECONNREFUSED');
  });

  it('a second npm start on the same DATA_DIR keeps the admin key, the project and its token, and the events', async () => {
    // Whatever the previous test left behind must not hold the data directory.
    if (first !== undefined && groupAlive(first)) {
      killGroup(first);
      await waitFor(() => !groupAlive(first!), 10_000, 'the first run to be gone');
    }
    second = npmStart(dataDir);
    const again = await bannerOf(second);
    expect(again.adminKey).toBeUndefined();
    expect(again.adminKeyPath).toBe(join(dataDir, 'admin-key'));
    expect(second.stderr()).not.toContain(adminKey);
    expect(second.stderr()).not.toMatch(/sla_\w/);
    expect(again.project).toEqual(banner.project);

    const server = { graphqlUrl: again.graphqlUrl };
    const viewer = await gql(server, '{ viewer { kind projects { id name apiToken } } }', {}, adminKey);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer.kind).toBe('ADMIN');
    expect(viewer.data.viewer.projects).toEqual([{ id: banner.project!.id, name: 'Default project', apiToken: banner.project!.token }]);

    const events = await gql(
      server,
      'query($project: ID!) { project(id: $project) { events(first: 20) { edges { node { uuid event distinctId } } } } }',
      { project: banner.project!.id },
      adminKey,
    );
    expect(events.errors).toBeUndefined();
    expect(events.data.project.events.edges.map((e: { node: { uuid: string } }) => e.node.uuid).sort()).toEqual([postedEventUuid, filteredEventUuid, setEventUuid].sort());

    // The same token still captures.
    const response = await fetch(again.captureUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: banner.project!.token, batch: [{ event: 'after_restart', distinct_id: 'user-1' }] }),
    });
    expect(response.status).toBe(200);
  });
});
