import { prng } from '../../lib/prng.ts';

/** One event as posthog-js / posthog-node put it in a `/batch` request. */
export interface CaptureEvent {
  event: string;
  distinct_id: string;
  uuid: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

export interface EventSourceOptions {
  seed: number;
  token: string;
  /** Timestamps fall in the hour before this (epoch ms); uuids carry the same instant, as uuidv7 does. */
  now: number;
  users?: number;
}

type Weighted<T> = ReadonlyArray<readonly [T, number]>;

const EVENT_NAMES: Weighted<string> = [
  ['$pageview', 40],
  ['$autocapture', 22],
  ['$pageleave', 12],
  ['button_clicked', 8],
  ['search', 6],
  ['added_to_cart', 4],
  ['$identify', 3],
  ['signed_up', 3],
  ['purchase', 2],
];
interface Platform {
  os: string;
  osVersion: string;
  device: string;
  screens: ReadonlyArray<readonly [number, number]>;
}

const PLATFORMS: ReadonlyArray<Platform> = [
  { os: 'Mac OS X', osVersion: '14.4.1', device: 'Desktop', screens: [[1440, 900], [1728, 1117], [2560, 1440]] },
  { os: 'Windows', osVersion: '10.0', device: 'Desktop', screens: [[1920, 1080], [1366, 768], [2560, 1440]] },
  { os: 'iOS', osVersion: '17.4.1', device: 'Mobile', screens: [[390, 844], [430, 932]] },
  { os: 'Android', osVersion: '14.0', device: 'Mobile', screens: [[412, 915], [360, 800]] },
  { os: 'Linux', osVersion: '', device: 'Desktop', screens: [[1920, 1080]] },
];
const BROWSERS: Weighted<readonly [string, number]> = [
  [['Chrome', 124], 60],
  [['Safari', 17.4], 20],
  [['Firefox', 125], 10],
  [['Microsoft Edge', 124], 8],
  [['Opera', 109], 2],
];
const PATHS = ['/', '/pricing', '/docs/getting-started', '/blog/launch-week', '/signup', '/login', '/app/dashboard', '/app/settings/billing', '/app/reports/retention', '/about'];
const REFERRERS = [['$direct', 45], ['https://www.google.com/', 30], ['https://news.ycombinator.com/', 10], ['https://twitter.com/', 10], ['https://github.com/', 5]] as const;
const TIMEZONES = ['Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Europe/London', 'Asia/Kolkata'];
const HOST = 'app.example.com';
const HOUR = 3_600_000;
const SESSION = 30 * 60_000;

function pick<T>(rand: () => number, items: ReadonlyArray<T>): T {
  return items[Math.floor(rand() * items.length)]!;
}

function weighted<T>(rand: () => number, items: Weighted<T>): T {
  let r = rand() * items.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A uuidv7 whose 48-bit time is `ms` and whose random bits come from the seeded generator, with `serial`
 * mixed into the low 32 bits so that no two events of a run can collide however the generator cycles.
 */
function uuidv7(ms: number, rand: () => number, serial: number): string {
  const b = new Uint8Array(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  for (let i = 6; i < 12; i++) b[i] = Math.floor(rand() * 256);
  b[12] = (serial >>> 24) & 0xff;
  b[13] = (serial >>> 16) & 0xff;
  b[14] = (serial >>> 8) & 0xff;
  b[15] = serial & 0xff;
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = Array.from(b, (x) => HEX[x]!);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
}

/** A uuid-shaped id derived only from `key`, for ids that must repeat (device, session, window). */
function stableId(seed: number, key: number, ms: number): string {
  return uuidv7(ms, prng(seed ^ Math.imul(key, 0x9e3779b1)), key);
}

interface User {
  platform: Platform;
  browser: string;
  browserVersion: number;
  screen: readonly [number, number];
  timezone: string;
  identified: boolean;
  distinctId: string;
  deviceId: string;
}

/** Per-user traits come from a generator seeded by the user, so they are the same on every event. */
function userTraits(seed: number, user: number, now: number): User {
  const traits = prng(seed * 31 + user);
  const platform = pick(traits, PLATFORMS);
  const [browser, browserVersion] = weighted(traits, BROWSERS);
  const identified = traits() < 0.4;
  const firstSeen = now - 86_400_000;
  return {
    platform,
    browser,
    browserVersion,
    screen: pick(traits, platform.screens),
    timezone: pick(traits, TIMEZONES),
    identified,
    distinctId: identified ? `user_${user}` : stableId(seed, user + 1, firstSeen),
    deviceId: stableId(seed, -user - 1, firstSeen),
  };
}

/**
 * Deterministic posthog-js-like web events (about 500–800 bytes of JSON each): the same seed and `now`
 * give the same events. Ten thousand users by default, skewed so a minority produces most of the
 * traffic, each with a stable device, browser and platform, and a session per half hour.
 */
export function eventSource(options: EventSourceOptions): () => CaptureEvent {
  const rand = prng(options.seed);
  const users = options.users ?? 10_000;
  const known = new Map<number, User>();
  const sessions = new Map<number, string>();
  let serial = 0;
  return () => {
    serial += 1;
    const user = Math.floor(users * rand() ** 2);
    let u = known.get(user);
    if (u === undefined) {
      u = userTraits(options.seed, user, options.now);
      known.set(user, u);
    }
    const ms = options.now - Math.floor(rand() * HOUR);
    const sessionStart = ms - (ms % SESSION);
    const sessionKey = user * 100_003 + sessionStart / SESSION;
    let sessionId = sessions.get(sessionKey);
    if (sessionId === undefined) {
      sessionId = stableId(options.seed, sessionKey, sessionStart);
      sessions.set(sessionKey, sessionId);
    }
    const distinctId = u.distinctId;
    const event = weighted(rand, EVENT_NAMES);
    const path = pick(rand, PATHS);
    const referrer = weighted(rand, REFERRERS);
    const properties: Record<string, unknown> = {
      $os: u.platform.os,
      $browser: u.browser,
      $browser_version: u.browserVersion,
      $device_type: u.platform.device,
      $current_url: `https://${HOST}${path}${rand() < 0.2 ? '?utm_source=newsletter&utm_campaign=spring' : ''}`,
      $pathname: path,
      $screen_width: u.screen[0],
      $lib: 'web',
      distinct_id: distinctId,
      $device_id: u.deviceId,
      $referrer: referrer,
      token: options.token,
      $session_id: sessionId,
      $timezone: u.timezone,
    };
    if (referrer !== '$direct') properties.$referring_domain = referrer.split('/')[2];
    if (rand() < 0.3) properties['$feature/new-onboarding'] = rand() < 0.5 ? 'test' : 'control';
    switch (event) {
      case '$autocapture':
        properties.$event_type = 'click';
        properties.$el_text = pick(rand, ['Get started', 'Pricing', 'Sign in', 'Save changes', 'Export CSV']);
        break;
      case 'button_clicked':
        properties.button = pick(rand, ['signup-cta', 'upgrade', 'invite-teammate']);
        // Users send dotted keys; they must survive the storage's key escaping.
        properties['ui.section'] = pick(rand, ['hero', 'navbar', 'footer']);
        break;
      case 'search':
        properties.query = `term ${Math.floor(rand() * 500)}`;
        properties.results = Math.floor(rand() * 40);
        break;
      case 'added_to_cart':
      case 'purchase':
        properties.sku = `SKU-${Math.floor(rand() * 900) + 100}`;
        properties.price = Math.round(rand() * 20_000) / 100;
        properties.currency = 'USD';
        break;
      case '$identify':
        properties.$set = { email: `user${user}@example.com`, plan: pick(rand, ['free', 'pro', 'enterprise']) };
        properties.$set_once = { first_seen_path: path };
        break;
    }
    return {
      event,
      distinct_id: distinctId,
      uuid: uuidv7(ms, rand, serial),
      timestamp: new Date(ms).toISOString(),
      properties,
    };
  };
}
