import { parseArgs } from 'node:util';
import { checkTimeZone, todayIn } from './calendar.ts';
import type { GenerateOptions } from './generate.ts';

/** How the generated events reach the store. */
export type SeedMode = 'pipeline' | 'fast' | 'http';

export interface SeedOptions extends GenerateOptions {
  mode: SeedMode;
  projectName: string;
  weekStart: 'sunday' | 'monday';
  /** Embedded store directory; undefined = a new temporary one (unless MONGODB_URL is set). */
  dataDir?: string;
  /** A running server (`--url`): events go over HTTP to `/batch`. */
  url?: string;
  /** Bearer key for `createProject` over GraphQL (the server's admin key). */
  token?: string;
  /** Seed into this existing project instead of creating one (with `--url`). */
  captureToken?: string;
  help: boolean;
}

export const USAGE = `Usage: npm run seed -- [options]

  --users N          people behind the traffic (default 20000)
  --days N           length of the period in days (default 90)
  --events N         approximate number of events (default 1000000)
  --seed N           seed; the same seed and options give the same events (default 1)
  --project-name S   name of the project created (default "Seeded product (seed N)")
  --timezone TZ      the project's time zone; days and daily rhythm follow it (default Europe/Berlin)
  --week-start D     sunday or monday, the project's first day of the week (default sunday)
  --end YYYY-MM-DD   first day after the period, in the project's zone (default today there)
  --batch-size N     events per capture request (default 500)
  --fast             compute persons, groups and sessions in memory as ingestion does and bulk-insert them
  --data-dir DIR     embedded store directory (default a new temporary directory); MONGODB_URL overrides
  --url URL          a running server: send /batch requests to it instead of writing a store
  --token KEY        with --url: admin key that creates the project over GraphQL
  --capture-token T  with --url: seed into this existing project instead of creating one
  --help             this text`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

/** Reads the command line; throws with a message naming the bad option. */
export function parseSeedOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): SeedOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      users: { type: 'string' },
      days: { type: 'string' },
      events: { type: 'string' },
      seed: { type: 'string' },
      'project-name': { type: 'string' },
      timezone: { type: 'string' },
      'week-start': { type: 'string' },
      end: { type: 'string' },
      'batch-size': { type: 'string' },
      fast: { type: 'boolean' },
      'data-dir': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      'capture-token': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const seed = positive('seed', values.seed, 1);
  const timeZone = values.timezone ?? 'Europe/Berlin';
  try {
    checkTimeZone(timeZone);
  } catch {
    throw new Error(`--timezone must be an IANA time zone such as Europe/Berlin, got ${timeZone}`);
  }
  if (values.end !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.end)) throw new Error(`--end must be a date like 2025-06-01, got ${values.end}`);
  const weekStart = values['week-start'] ?? 'sunday';
  if (weekStart !== 'sunday' && weekStart !== 'monday') throw new Error(`--week-start must be sunday or monday, got ${weekStart}`);
  if (values.url !== undefined && values.fast) throw new Error('--fast writes to a store directly; it cannot be combined with --url');
  if (values.url !== undefined && values.token === undefined && values['capture-token'] === undefined) {
    throw new Error('--url needs --token (admin key, to create the project) or --capture-token (an existing project)');
  }
  if (values.url !== undefined && values['data-dir'] !== undefined) throw new Error('--data-dir and --url exclude each other');
  const options: SeedOptions = {
    seed,
    users: positive('users', values.users, 20_000),
    days: positive('days', values.days, 90),
    events: positive('events', values.events, 1_000_000),
    timeZone,
    endDate: values.end ?? todayIn(timeZone),
    batchSize: positive('batch-size', values['batch-size'], 500),
    mode: values.url !== undefined ? 'http' : values.fast ? 'fast' : 'pipeline',
    projectName: values['project-name'] ?? `Seeded product (seed ${seed})`,
    weekStart,
    help: values.help ?? false,
  };
  if (values['data-dir'] !== undefined) options.dataDir = values['data-dir'];
  if (values.url !== undefined) options.url = values.url.replace(/\/+$/, '');
  if (values.token !== undefined) options.token = values.token;
  if (values['capture-token'] !== undefined) options.captureToken = values['capture-token'];
  if (env.MONGODB_URL !== undefined && options.dataDir !== undefined) throw new Error('MONGODB_URL is set: --data-dir would be ignored; unset one of them');
  return options;
}
