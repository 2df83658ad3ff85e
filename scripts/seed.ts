/**
 * Seeds a realistic product history into a project, deterministically from a seed: a self-hosted
 * analytics product's marketing site, docs and app over `--days` days in the project's time zone.
 * Visitors arrive from search, social, referrals, ads and newsletters (referrer and UTM on the entry
 * page), browse a site map in sessions (`$pageview`, `$autocapture` clicks, `$pageleave`; `$session_id`
 * uuidv7), most anonymous and personless (`$process_person_profile: false`, posthog-js's default), some
 * subscribe to the newsletter (`$set`), some sign up: `$identify` with `$anon_distinct_id` (their
 * anonymous history merges), `signed_up`, their company as a group (`$groups`, `$groupidentify`
 * with `$group_set`), then `activated` and `purchase` with drop-off and delays; paying customers are
 * aliased to a billing id (`$create_alias`) and renew monthly from the backend (posthog-node). Signed-
 * up users come back daily, weekly or now and then, churn, and sometimes return, on working-day and
 * working-hour rhythms of their own time zones; customers from before the period log in again.
 *
 * The events go through the real ingestion (capture → enrichment → groups → persons → sessions →
 * definitions) in this process, or over HTTP to a running server (`--url`). `--fast` instead
 * computes persons, groups and sessions in memory exactly as ingestion does for the same requests
 * and bulk-inserts everything (test/scripts/seed.test.ts checks both give the same data).
 *
 *   npm run seed                                          # 20,000 users, 90 days, ~1,000,000 events
 *   npm run seed -- --fast --data-dir ./.sightline        # the same, written fast, into the server's default dir
 *   npm run seed -- --users 2000 --events 50000 --seed 7  # small
 *   MONGODB_URL=mongodb://localhost:27017/sightline npm run seed -- --fast
 *   npm run seed -- --url http://127.0.0.1:4000 --token <admin key> --events 20000
 *
 * Options (see --help): --users --days --events --seed --project-name --timezone --week-start --end
 * --batch-size --fast --data-dir --url --token --capture-token. The same seed and options (including
 * --end, which defaults to today in the project's zone) give byte-identical events; the run prints
 * a digest of them. Requests are sent one after another: person processing depends on their order.
 *
 * Prints what it made (events by name, users, identified share, sessions, groups, period) and the rate.
 *
 * Size: the embedded store keeps documents as JavaScript objects, ~8.6 KB of heap per seeded event, so
 * a million events need ~10 GB. The store this script starts gets 60 % of the machine's memory; the
 * server needs the same to open the result (the run prints the NODE_OPTIONS to use). Measured on the
 * 2-core machine, shared with other work: the pipeline ~1,000 events/s, --fast ~2,000 events/s for the
 * first 100,000, both falling as the store grows; a million with --fast took 20 minutes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openStorage, type Storage } from '../src/db/storage.ts';
import { parseSeedOptions, USAGE, type SeedOptions } from './lib/seed/options.ts';
import { describeResult, progressPrinter } from './lib/seed/report.ts';
import { seedServer, seedStorage, type SeedResult } from './lib/seed/run.ts';
import { startStoreProcess, storeHeapMbFor, type StoreProcess } from './lib/seed/store-process.ts';

const log = (line = ''): void => void process.stdout.write(`${line}\n`);

async function seedLocally(options: SeedOptions): Promise<void> {
  const external = process.env.MONGODB_URL;
  const created = options.dataDir === undefined && external === undefined;
  const dataDir = options.dataDir ?? (external === undefined ? await mkdtemp(join(tmpdir(), 'sightline-seed-')) : tmpdir());
  const logger = pino({ level: 'warn' }, pino.destination(2));
  let store: StoreProcess | undefined;
  let storage: Storage | undefined;
  let result: SeedResult;
  try {
    if (external === undefined) {
      log(`Embedded store in ${dataDir}${created ? ' (new temporary directory)' : ''}, served by a child process`);
      store = await startStoreProcess(dataDir);
    }
    storage = await openStorage({ url: external ?? store!.url, dataDir, embeddedPort: 0, logger });
    log(`Planning ${options.users.toLocaleString('en-US')} users over ${options.days} days, ~${options.events.toLocaleString('en-US')} events (seed ${options.seed}) …`);
    result = await seedStorage(options, storage, logger, progressPrinter(options.events));
  } catch (error) {
    await storage?.close().catch(() => undefined);
    await store?.stop().catch(() => undefined);
    if (created) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  await storage.close();
  await store?.stop();
  // Node's default heap (~4 GB) holds about 400,000 seeded events in the embedded store.
  const heap = result.stats.events > 300_000 ? `NODE_OPTIONS=--max-old-space-size=${storeHeapMbFor(result.stats.events)} ` : '';
  const where =
    external === undefined
      ? `data: ${dataDir} — start the server on it with ${heap}DATA_DIR=${dataDir} npm start (the project is in the projects list; the admin key is generated on first start)`
      : `data: ${external.replace(/\/\/[^@/]*@/, '//***@')}`;
  log();
  for (const line of describeResult(options, result, where)) log(line);
}

async function seedOverHttp(options: SeedOptions & { url: string }): Promise<void> {
  log(`Seeding ${options.url} over HTTP: ${options.users.toLocaleString('en-US')} users over ${options.days} days, ~${options.events.toLocaleString('en-US')} events (seed ${options.seed}) …`);
  const result = await seedServer(options, progressPrinter(options.events));
  log();
  for (const line of describeResult(options, result, `server: ${options.url}`)) log(line);
}

async function main(): Promise<void> {
  let options: SeedOptions;
  try {
    options = parseSeedOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) return log(USAGE);
  if (options.url !== undefined) await seedOverHttp({ ...options, url: options.url });
  else await seedLocally(options);
}

main().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
